"""Composition root: with a subcommand run the CLI, without one open the window."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from desk.cli.main import run

    return run(sys.argv[1:] if argv is None else argv)
