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

    p = cmds.add_parser("patient", help="add, find, show or merge patients")
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
    q = sub.add_parser("show", help="profile, household, balances, lots, holds, visits")
    q.add_argument("patient_id", metavar="ID", type=a.record_id)
    q = sub.add_parser("merge", help="merge a duplicate patient into the one kept")
    q.add_argument("--keep", required=True, type=a.record_id)
    q.add_argument("--drop", required=True, type=a.record_id)
    q.add_argument("--reason", required=True, type=a.text_arg)
    _key(q)

    p = cmds.add_parser("membership", help="end a patient's membership")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("end", help="stop renewing from --on (default today)")
    q.add_argument("--membership", required=True, type=a.record_id)
    q.add_argument("--on", type=a.date, metavar="YYYY-MM-DD")

    p = cmds.add_parser("household", help="link patients in a household, share a wallet")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    q = sub.add_parser("link", help="put --patient in the household of --with")
    q.add_argument("--patient", required=True, type=a.record_id)
    q.add_argument("--with", dest="with_id", required=True, type=a.record_id)
    q.add_argument("--shared-wallet", action="store_true",
                   help="the household spends one shared credit balance and tokens")
    q.add_argument("--move-balance", action="store_true",
                   help="move members' own balances into the shared wallet (audited)")
    q.add_argument("--name", type=a.text_arg, help="name the household")
    _key(q)
    q = sub.add_parser("unlink", help="take --patient out of their household")
    q.add_argument("--patient", required=True, type=a.record_id)
    q = sub.add_parser("wallet", help="start or stop sharing one wallet")
    q.add_argument("--household", required=True, type=a.record_id)
    share = q.add_mutually_exclusive_group(required=True)
    share.add_argument("--shared", dest="shared", action="store_const", const=True)
    share.add_argument("--separate", dest="shared", action="store_const", const=False)
    q.add_argument("--move-balance", action="store_true",
                   help="with --shared: move members' own balances in (audited)")
    q.add_argument("--move-to", type=a.record_id, metavar="PATIENT",
                   help="with --separate: the member who receives the shared balance")
    _key(q)

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

    p.add_argument("--receipt", metavar="FILE.pdf", help="also write the receipt PDF")

    p = cmds.add_parser("book", help="book an appointment")
    p.add_argument("--patient", required=True, type=a.record_id)
    p.add_argument("--service", required=True, type=a.text_arg)
    p.add_argument("--practitioner", required=True, type=a.text_arg)
    p.add_argument("--at", required=True, type=a.when, metavar="YYYY-MM-DDTHH:MM")
    p.add_argument("--minutes", type=a.bounded(1, 1440), help="default: the service's")
    p.add_argument("--note", default="", type=a.text_arg)
    p.add_argument("--override", action="store_true",
                   help="book even without a token or enough credit (audited)")
    _key(p)

    p = cmds.add_parser("move", help="move a booked appointment")
    p.add_argument("--appointment", required=True, type=a.record_id)
    p.add_argument("--at", required=True, type=a.when, metavar="YYYY-MM-DDTHH:MM")
    p.add_argument("--practitioner", type=a.text_arg)

    p = cmds.add_parser("checkin", help="check a patient in and take payment")
    p.add_argument("--appointment", required=True, type=a.record_id)
    p.add_argument("--price", type=a.amount_or_zero, help="treatment price (default: the "
                   "service's)")
    p.add_argument("--item", action="append", default=[], type=a.item,
                   metavar="DESC=AMOUNT")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--use-token", dest="use_token", action="store_const", const=True)
    token.add_argument("--no-token", dest="use_token", action="store_const", const=False)
    p.add_argument("--use-credit", type=a.credit_use, metavar="AMOUNT|all|none")
    p.add_argument("--pay", action="append", default=[], type=a.tender,
                   metavar="METHOD:AMOUNT[:REF]")
    p.add_argument("--cash-given", type=a.amount, help="cash handed over (for change)")
    p.add_argument("--buy-package", type=a.text_arg, metavar="NAME")
    p.add_argument("--auto", action="store_true",
                   help="token if available, else credit, else owed")
    p.add_argument("--receipt", metavar="FILE.pdf", help="also write the receipt PDF")
    _key(p)

    p = cmds.add_parser("cancel", help="cancel, late-cancel or record a no-show")
    p.add_argument("--appointment", required=True, type=a.record_id)
    how = p.add_mutually_exclusive_group()
    how.add_argument("--late", action="store_true", help="charge the late fee even if on time")
    how.add_argument("--no-show", action="store_true")
    p.add_argument("--take-token", action="store_true", help="pay the fee with a token")
    p.add_argument("--waive", action="store_true", help="no fee (needs --reason)")
    p.add_argument("--reason", default="", type=a.text_arg)
    _key(p)

    p = cmds.add_parser("renew", help="grant memberships their tokens for this period")
    p.add_argument("--as-of", type=a.date)

    p = cmds.add_parser("day", help="the schedule of a day (or several)")
    p.add_argument("--date", type=a.date, help="default: today")
    p.add_argument("--days", type=a.bounded(1, 31), default=1)

    p = cmds.add_parser("gui", help="open the schedule window (the default without a command)")
    p.add_argument("--date", type=a.date, help="the day to show (default: today)")
    p.add_argument("--week", action="store_true", help="start in the week view")
    p.add_argument("--screenshot", metavar="FILE.png", type=a.png_path,
                   help="render the window off-screen to FILE.png and exit")
    p.add_argument("--size", metavar="WxH", type=a.window_size, default=(1600, 1000),
                   help="window size for --screenshot (default 1600x1000)")

    p = cmds.add_parser("receipt", help="write a transaction's receipt as PDF")
    p.add_argument("--txn", required=True, type=a.record_id)
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    p.add_argument("--copy", action="store_true", help="mark it COPY (a reprint)")

    p = cmds.add_parser("statement", help="write a patient's statement for a period as PDF")
    p.add_argument("--patient", required=True, type=a.record_id)
    p.add_argument("--from", dest="first", type=a.date, metavar="YYYY-MM-DD",
                   help="first day (default: the first day of the --to month)")
    p.add_argument("--to", dest="last", type=a.date, metavar="YYYY-MM-DD",
                   help="last day, included (default: today)")
    p.add_argument("--out", required=True, metavar="FILE.pdf")

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
