"""The argparse tree of ``desk`` (SPEC §9)."""

from __future__ import annotations

import argparse
from typing import NoReturn

from desk.cli import args as a


def _globals(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    # On subcommands the defaults are suppressed so options given before the
    # subcommand are not overwritten: `desk --json balance ...` and
    # `desk balance ... --json` both work.
    default = argparse.SUPPRESS if sub else None
    parser.add_argument("--db", metavar="URL", default=default, type=a.text_arg,
                        help="sqlite:///path or postgresql://user:pass@host:port/db "
                             "(default: $DESK_DATABASE or the embedded SQLite file)")
    parser.add_argument("--staff", metavar="NAME", default=argparse.SUPPRESS if sub else "cli",
                        type=a.text_arg, help="who is acting (recorded on writes)")
    parser.add_argument("--json", action="store_true",
                        default=argparse.SUPPRESS if sub else False,
                        help="machine-readable output on stdout")


class UsageError(Exception):
    """argparse refused the command line (exit 2); ``usage`` is the parser's usage text."""

    def __init__(self, message: str, usage: str, prog: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.prog = prog


class _RootParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.format_usage(), self.prog)


class _Parser(_RootParser):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        _globals(self, sub=True)


def _key(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", type=a.text_arg,
                   help="idempotency key: replaying it returns the first result")


def build() -> argparse.ArgumentParser:
    root = _RootParser(
        prog="desk", description="Front-desk scheduler and prepaid-treatment ledger.",
        epilog="Exit codes: 0 ok, 1 unexpected error, 2 bad input, 3 refused by a rule.")
    _globals(root, sub=False)
    cmds = root.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    cmds.add_parser("init", help="create or migrate the schema")
    p = cmds.add_parser("demo", help="fill a realistic demo clinic")
    p.add_argument("--patients", type=a.bounded(1, 200_000), default=300)
    p.add_argument("--days", type=a.bounded(1, 365), default=14)
    p.add_argument("--seed", type=a.bounded(0, 2**31), default=7)

    p = cmds.add_parser("practitioner", help="manage practitioners")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("add")
    q.add_argument("--name", required=True, type=a.text_arg)

    p = cmds.add_parser("service", help="manage services")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("add")
    q.add_argument("--name", required=True, type=a.text_arg)
    q.add_argument("--minutes", required=True, type=a.bounded(1, 1440))
    q.add_argument("--price", required=True, type=a.amount_or_zero)
    q.add_argument("--token-kind", type=a.text_arg)
    q.add_argument("--colour", "--color", dest="colour", type=a.text_arg)

    p = cmds.add_parser("package", help="manage packages and memberships")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("add")
    q.add_argument("--name", required=True, type=a.text_arg)
    q.add_argument("--token-kind", required=True, type=a.text_arg)
    q.add_argument("--tokens", required=True, type=a.count)
    q.add_argument("--price", required=True, type=a.amount_or_zero)
    q.add_argument("--expires-days", type=a.bounded(1, 36600))
    q.add_argument("--monthly", action="store_true")

    p = cmds.add_parser("patient", help="add or find patients")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("add")
    q.add_argument("--name", required=True, type=a.text_arg)
    q.add_argument("--phone", default="", type=a.text_arg)
    q.add_argument("--email", default="", type=a.text_arg)
    q.add_argument("--dob", type=a.date)
    q.add_argument("--notes", default="", type=a.text_arg)
    q = sub.add_parser("find")
    q.add_argument("query", metavar="QUERY", type=a.text_arg)
    q.add_argument("--limit", type=a.bounded(1, 1000), default=50)

    p = cmds.add_parser("sell", help="sell a package, tokens or credit")
    p.add_argument("--patient", required=True, type=a.record_id)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--package", type=a.text_arg)
    what.add_argument("--tokens", type=a.count)
    what.add_argument("--credit", type=a.amount)
    p.add_argument("--token-kind", type=a.text_arg)
    p.add_argument("--price", type=a.amount_or_zero, help="price (overrides a package's)")
    p.add_argument("--expires-days", type=a.bounded(1, 36600))
    p.add_argument("--pay", action="append", default=[], type=a.tender,
                   metavar="METHOD:AMOUNT[:REF]")
    p.add_argument("--memo", default="", type=a.text_arg)
    _key(p)

    p = cmds.add_parser("adjust", help="add or remove credit or tokens (reason required)")
    p.add_argument("--patient", required=True, type=a.record_id)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--credit", type=a.signed_amount)
    what.add_argument("--tokens", type=a.signed_count)
    p.add_argument("--token-kind", type=a.text_arg)
    p.add_argument("--expires-days", type=a.bounded(1, 36600))
    p.add_argument("--reason", required=True, type=a.text_arg)
    _key(p)

    p = cmds.add_parser("transfer", help="move credit or tokens between patients")
    p.add_argument("--from", dest="from_id", required=True, type=a.record_id)
    p.add_argument("--to", dest="to_id", required=True, type=a.record_id)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--credit", type=a.amount)
    what.add_argument("--tokens", type=a.count)
    p.add_argument("--token-kind", type=a.text_arg)
    p.add_argument("--memo", default="", type=a.text_arg)
    _key(p)

    p = cmds.add_parser("refund", help="pay credit back to a patient")
    p.add_argument("--patient", required=True, type=a.record_id)
    p.add_argument("--amount", required=True, type=a.amount)
    p.add_argument("--method", required=True, type=str.lower,
                   choices=["cash", "card", "check", "other"])
    p.add_argument("--reference", default="", type=a.text_arg)
    _key(p)

    p = cmds.add_parser("reverse", help="reverse a transaction")
    p.add_argument("--txn", required=True, type=a.record_id)
    p.add_argument("--reason", required=True, type=a.text_arg)
    _key(p)

    p = cmds.add_parser("expire", help="expire tokens past their lot's expiry date")
    p.add_argument("--as-of", type=a.date)

    p = cmds.add_parser("balance", help="a patient's credit and tokens")
    p.add_argument("--patient", required=True, type=a.record_id)
    p = cmds.add_parser("history", help="a patient's transactions")
    p.add_argument("--patient", required=True, type=a.record_id)
    p.add_argument("--limit", type=a.bounded(1, 100_000), default=1000)

    p = cmds.add_parser("settings", help="clinic settings")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("get")
    q.add_argument("key", nargs="?", metavar="KEY")
    q = sub.add_parser("set")
    q.add_argument("key", metavar="KEY")
    q.add_argument("value", metavar="VALUE", type=a.text_arg)

    p = cmds.add_parser("db", help="backup, restore, verify")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("backup")
    q.add_argument("file", metavar="FILE")
    q = sub.add_parser("restore")
    q.add_argument("file", metavar="FILE")
    sub.add_parser("verify")
    return root
