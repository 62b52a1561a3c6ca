"""Composition root: with a subcommand run the CLI, without one open the window."""

from __future__ import annotations

import argparse
import os
import sys


def _gui(ns: argparse.Namespace) -> int:
    from desk.ui.app import launch  # Qt loads only when the window is wanted

    return launch(ns.db, None if ns.staff == "cli" else ns.staff, ns.date, week=ns.week,
                  screenshot=ns.screenshot, size=ns.size)


def _skip_postgres_driver(argv: list[str]) -> None:
    """An SQLite desk never needs the PostgreSQL driver, which peewee imports
    eagerly (~0.2 s of a ~0.8 s start): hide it unless PostgreSQL is named."""
    named = any("postgres" in arg for arg in argv) or "postgres" in os.environ.get(
        "DESK_DATABASE", "")
    if not named and "peewee" not in sys.modules:
        for name in ("psycopg", "psycopg2"):
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """The ``desk`` program (``argv`` given: in-process use, e.g. tests)."""
    if argv is None:
        argv = sys.argv[1:]
        _skip_postgres_driver(argv)
    from desk.cli.main import run

    return run(argv, gui=_gui)
