"""``desk`` command line: parse, open the database, run one service, print, exit.

Exit codes (SPEC §9): 0 ok, 2 bad input, 3 refused by a rule, 1 anything else
(with a short message; the traceback goes to a log file, never to the screen).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

if TYPE_CHECKING:
    from desk.cli.output import Output

from desk.cli.parser import UsageError, build
from desk.core.errors import DeskError


def _log_path() -> Path:
    return Path(platformdirs.user_log_dir("desk", appauthor=False)) / "desk-cli.log"


def _print_error(message: str, code: int, as_json: bool) -> None:
    print(f"desk: error: {message}", file=sys.stderr)
    if as_json:
        print(json.dumps({"error": message, "exit_code": code}, ensure_ascii=False))


GuiLauncher = Callable[[argparse.Namespace], int]


def run(argv: list[str], gui: GuiLauncher | None = None) -> int:
    """Run one command; ``gui`` opens the window (for ``desk gui`` and ``desk`` alone)."""
    parser = build()
    if not argv and gui is None:
        parser.print_help()
        return 0
    try:
        ns = parser.parse_args(argv or ["gui"])
    except UsageError as exc:  # a message naming the argument, exit 2
        sys.stderr.write(exc.usage)
        print(f"{exc.prog}: error: {exc.message}", file=sys.stderr)
        if "--json" in argv:
            print(json.dumps({"error": exc.message, "exit_code": 2}, ensure_ascii=False))
        return 2
    if ns.command is None:
        parser.print_help()
        return 2
    as_json = bool(ns.json)
    try:
        if ns.command == "gui":
            if gui is None:
                raise DeskError("the schedule window is not available here")
            return gui(ns)
        from desk.cli import commands  # every service: not needed to open the window

        out: Output = commands.dispatch(ns)
    except DeskError as exc:
        _print_error(exc.message, exc.exit_code, as_json)
        return exc.exit_code
    except KeyboardInterrupt:
        print("desk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: short message here, details in the log
        log = _log_path()
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as handle:
                handle.write(f"--- desk {' '.join(argv)}\n{traceback.format_exc()}\n")
            where = f" (details in {log})"
        except OSError:
            where = ""
        _print_error(f"unexpected {type(exc).__name__}: {exc}{where}", 1, as_json)
        return 1
    try:
        _emit(out, as_json)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `desk history ... | head`: the reader left early
        sys.stderr.close()
    return out.exit_code


def _emit(out: Output, as_json: bool) -> None:
    if as_json:
        data: Any = out.data
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif out.text:
        print(out.text)


def parse_only(argv: list[str]) -> argparse.Namespace:
    """For tests: the namespace ``argv`` parses to."""
    return build().parse_args(argv)
