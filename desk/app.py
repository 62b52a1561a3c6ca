"""Composition root: with a subcommand run the CLI, without one open the window."""

from __future__ import annotations

import argparse
import sys


def _gui(ns: argparse.Namespace) -> int:
    from desk.ui.app import launch  # Qt loads only when the window is wanted

    return launch(ns.db, None if ns.staff == "cli" else ns.staff, ns.date, week=ns.week,
                  screenshot=ns.screenshot, size=ns.size)


def main(argv: list[str] | None = None) -> int:
    from desk.cli.main import run

    return run(sys.argv[1:] if argv is None else argv, gui=_gui)
