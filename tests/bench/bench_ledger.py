"""Ledger benchmarks (SPEC §12), printed as ratios against bare sqlite3. Not a test.

    .venv/bin/python tests/bench/bench_ledger.py [--n 300] [--search-db sqlite:///big.sqlite3]

1. A sale commit (package, one tender: txn + 7 lines + lot + 6 balance updates +
   receipt counter) through the services, against a bare ``sqlite3`` transaction
   writing the same rows with the same pragmas (the fsync limit).
2. A token check-in the same way (SPEC §12: at most 2x the bare transaction).
3. Patient search, balance lookups and loading the busiest day on a large demo
   clinic, if one is given (``--search-db``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from peewee import Database
from playhouse.test_utils import count_queries

from desk.data.database import SQLITE_PRAGMAS, open_database
from desk.data.migrations import migrate
from desk.services import accounts, appointments, catalog, checkin, day, patients, sales
from desk.services.context import Ctx
from desk.services.results import Tender


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _clinic(path: Path, patient: str = "Bench Patient") -> tuple[Database, Ctx, int]:
    """A fresh SQLite clinic with "Acupuncture 60", the "Five" package and a patient."""
    db = open_database(f"sqlite:///{path}")
    migrate(db)
    ctx = Ctx(db, staff="bench")
    catalog.add_service(ctx, "Acupuncture 60", 60, 9500, "Acupuncture")
    catalog.add_package(ctx, "Five", "Acupuncture", 5, 30000, 365)
    return db, ctx, patients.add_patient(ctx, patient).id


def bench_sale(n: int, folder: Path) -> tuple[float, float]:
    db, ctx, pid = _clinic(folder / "bench.sqlite3")
    sales.sell(ctx, pid, sales.SaleItem(package="Five"), [Tender("card", 30000)])  # warm up
    desk_times = []
    for _ in range(n):
        start = time.perf_counter()
        sales.sell(ctx, pid, sales.SaleItem(package="Five"), [Tender("card", 30000)])
        desk_times.append(time.perf_counter() - start)
    db.close()

    raw = _raw_db(folder / "raw.sqlite3")
    raw.executescript("""
        CREATE TABLE txn (id INTEGER PRIMARY KEY, kind TEXT, k TEXT UNIQUE, at TEXT, r INT);
        CREATE TABLE line (id INTEGER PRIMARY KEY, txn INT, account INT, amount INT, memo TEXT);
        CREATE INDEX line_acc ON line (account, amount);
        CREATE TABLE lot (id INTEGER PRIMARY KEY, txn INT, account INT, q INT, rem INT);
        CREATE TABLE account (id INTEGER PRIMARY KEY, balance INT);
        CREATE TABLE counter (name TEXT PRIMARY KEY, value INT);
        INSERT INTO counter VALUES ('receipt', 0);
    """)
    raw.executemany("INSERT INTO account VALUES (?, 0)", [(i,) for i in range(1, 8)])
    raw_times = []
    for i in range(n):
        start = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE counter SET value = value + 1 WHERE name = 'receipt'")
        cur = raw.execute("INSERT INTO txn (kind, k, at, r) VALUES ('sale', ?, '2026', 1)",
                          (f"k{i}",))
        txn = cur.lastrowid
        raw.executemany("INSERT INTO line (txn, account, amount, memo) VALUES (?, ?, ?, 'x')",
                        [(txn, a, 1) for a in range(1, 8)])
        raw.execute("INSERT INTO lot (txn, account, q, rem) VALUES (?, 2, 5, 5)", (txn,))
        for account in range(1, 7):
            raw.execute("UPDATE account SET balance = balance + 1 WHERE id = ?", (account,))
        raw.execute("COMMIT")
        raw_times.append(time.perf_counter() - start)
    raw.close()
    return _median_ms(desk_times), _median_ms(raw_times)


def _raw_db(path: Path) -> sqlite3.Connection:
    raw = sqlite3.connect(path, isolation_level=None)
    for key, value in SQLITE_PRAGMAS.items():
        raw.execute(f"PRAGMA {key}={value}")
    return raw


def bench_checkin(n: int, folder: Path) -> tuple[float, float]:
    """A token check-in through the services vs the same rows written by bare sqlite3:
    txn + 4 lines + lot move + lot update + 4 balance updates + receipt counter +
    appointment update + audit row."""
    db, ctx, pid = _clinic(folder / "checkin.sqlite3")
    catalog.add_practitioner(ctx, "Dr Bench")
    sales.sell(ctx, pid, sales.SaleItem(tokens=n + 1, token_kind="Acupuncture",
                                        price_cents=(n + 1) * 8000), [Tender("card", 1)])
    start_at = dt.datetime(2030, 1, 1, 8, 0)
    ids = [appointments.book(ctx, pid, "Acupuncture 60", "Dr Bench",
                             start_at + dt.timedelta(hours=i)).appointment_id
           for i in range(n + 1)]
    checkin.check_in(ctx, checkin.CheckinRequest(ids[0], use_token=True))  # warm up
    desk_times = []
    for appointment_id in ids[1:]:
        start = time.perf_counter()
        checkin.check_in(ctx, checkin.CheckinRequest(appointment_id, use_token=True))
        desk_times.append(time.perf_counter() - start)
    db.close()
    raw = _raw_db(folder / "raw-checkin.sqlite3")
    raw.executescript("""
        CREATE TABLE txn (id INTEGER PRIMARY KEY, kind TEXT, k TEXT UNIQUE, at TEXT, r INT);
        CREATE TABLE line (id INTEGER PRIMARY KEY, txn INT, account INT, amount INT, memo TEXT);
        CREATE INDEX line_acc ON line (account, amount);
        CREATE TABLE lot (id INTEGER PRIMARY KEY, rem INT);
        CREATE TABLE lot_move (id INTEGER PRIMARY KEY, txn INT, lot INT, q INT, v INT);
        CREATE TABLE account (id INTEGER PRIMARY KEY, balance INT);
        CREATE TABLE counter (name TEXT PRIMARY KEY, value INT);
        CREATE TABLE appointment (id INTEGER PRIMARY KEY, status TEXT, txn INT);
        CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT, what TEXT);
        INSERT INTO counter VALUES ('receipt', 0);
        INSERT INTO lot VALUES (1, 1000000);
    """)
    raw.executemany("INSERT INTO account VALUES (?, 0)", [(i,) for i in range(1, 5)])
    raw.executemany("INSERT INTO appointment VALUES (?, 'booked', NULL)",
                    [(i,) for i in range(1, n + 1)])
    raw_times = []
    for i in range(1, n + 1):
        start = time.perf_counter()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("UPDATE counter SET value = value + 1 WHERE name = 'receipt'")
        txn = raw.execute("INSERT INTO txn (kind, k, at, r) VALUES ('checkin', ?, '2026', 1)",
                          (f"k{i}",)).lastrowid
        raw.executemany("INSERT INTO line (txn, account, amount, memo) VALUES (?, ?, ?, 'x')",
                        [(txn, a, 1) for a in range(1, 5)])
        raw.execute("INSERT INTO lot_move (txn, lot, q, v) VALUES (?, 1, -1, -8000)", (txn,))
        raw.execute("UPDATE lot SET rem = rem - 1 WHERE id = 1")
        for account in range(1, 5):
            raw.execute("UPDATE account SET balance = balance + 1 WHERE id = ?", (account,))
        raw.execute("UPDATE appointment SET status = 'checked_in', txn = ? WHERE id = ?",
                    (txn, i))
        raw.execute("INSERT INTO audit (at, what) VALUES ('2026', 'check in')")
        raw.execute("COMMIT")
        raw_times.append(time.perf_counter() - start)
    raw.close()
    return _median_ms(desk_times), _median_ms(raw_times)


def bench_day(url: str, n: int) -> None:
    """Loading the busiest day of a demo clinic: median time and query count."""
    db = open_database(url)
    busiest = db.execute_sql(
        "SELECT substr(CAST(starts_at AS TEXT), 1, 10) AS d, COUNT(*) FROM appointment "
        "GROUP BY d ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
    first = dt.date.fromisoformat(busiest[0])
    times = []
    for _ in range(n):
        start = time.perf_counter()
        view = day.day_view(first, today=first)
        times.append(time.perf_counter() - start)
    with count_queries() as counter:
        day.day_view(first, today=first)
    print(f"day load ({first}, {len(view.appointments)} appointments, "
          f"{len(view.wallets)} patients): median {_median_ms(times):.2f} ms over {n}, "
          f"{counter.count} queries")
    db.close()


def bench_search(url: str, n: int) -> None:
    db = open_database(url)
    queries = ["zoe", "o'brien", "garcia", "555", "wei", "smith"]
    times = []
    for i in range(n):
        start = time.perf_counter()
        patients.find_patients(queries[i % len(queries)])
        times.append(time.perf_counter() - start)
    balance_times = []
    for pid in range(1, n + 1):
        start = time.perf_counter()
        accounts.balance_of(pid)
        balance_times.append(time.perf_counter() - start)
    count = db.execute_sql("SELECT COUNT(*) FROM patient").fetchone()[0]
    print(f"patient search over {count:,} patients: median {_median_ms(times):.2f} ms")
    print(f"balance of one patient: median {_median_ms(balance_times):.3f} ms")
    db.close()


def bench_receipt(n: int, folder: Path) -> None:
    """A sale's receipt built from the ledger and rendered as PDF (SPEC §12: 50 ms), on
    an 80 mm roll and on Letter, with a CJK name (three embedded fonts)."""
    from desk.printing.receipt import render_receipt
    from desk.services import receipts
    from desk.services import settings as clinic_settings

    db, ctx, pid = _clinic(folder / "receipt.sqlite3", "Zoë 李小龍")
    result = sales.sell(ctx, pid, sales.SaleItem(package="Five"), [Tender("card", 30000)])
    for paper in ("roll80", "letter"):
        clinic_settings.set_value(ctx, "receipt_paper", paper)
        render_receipt(receipts.receipt_for(result.txn_id))  # fonts registered, warm
        times = []
        for _ in range(n):
            start = time.perf_counter()
            render_receipt(receipts.receipt_for(result.txn_id))
            times.append(time.perf_counter() - start)
        median = _median_ms(times)
        print(f"receipt PDF ({paper}, data + render): median {median:.1f} ms; "
              f"target 50 ms -> ratio {median / 50:.2f}")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--search-db", help="URL of a large demo clinic for search timings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        desk_ms, raw_ms = bench_sale(args.n, Path(folder))
    print(f"sale commit: desk median {desk_ms:.3f} ms, bare sqlite3 {raw_ms:.3f} ms, "
          f"ratio {desk_ms / raw_ms:.1f}x (n={args.n})")
    with tempfile.TemporaryDirectory() as folder:
        desk_ms, raw_ms = bench_checkin(args.n, Path(folder))
    print(f"check-in commit: desk median {desk_ms:.3f} ms, bare sqlite3 {raw_ms:.3f} ms, "
          f"ratio {desk_ms / raw_ms:.1f}x (n={args.n})")
    with tempfile.TemporaryDirectory() as folder:
        bench_receipt(min(args.n, 200), Path(folder))
    if args.search_db:
        bench_search(args.search_db, min(args.n, 200))
        bench_day(args.search_db, min(args.n, 100))


if __name__ == "__main__":
    main()
