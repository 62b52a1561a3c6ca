"""Schedule window benchmarks (SPEC §12), printed as figures and ratios. Not a test.

    .venv/bin/python tests/bench/bench_gui.py --db sqlite:///big.sqlite3 [--days 14]

1. Switching day: for each day of the demo's fortnight, load the day (the window's
   worker function: day view + settings), build the grid, apply it to the view and
   repaint the viewport synchronously, at 1600x1000. Median and 90th percentile
   against the 30 ms target, with the query count of a load.
2. Cold start to a painted schedule: ``desk gui --screenshot`` in a fresh process
   against a bare PySide6 window rendered the same way (ratio; target <= 1.5).
3. Resident memory of a process that has the clinic's busiest day open.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from peewee import fn
from playhouse.test_utils import count_queries
from PySide6.QtWidgets import QApplication

from desk.data.database import open_database
from desk.data.models import Appointment
from desk.services import day as day_service
from desk.services import settings as clinic_settings
from desk.services.context import Ctx
from desk.ui.app import wait_until_loaded
from desk.ui.cells import build_grid
from desk.ui.main_window import MainWindow, options_from
from desk.ui.tasks import Tasks

BARE = """
import sys, time
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.setCentralWidget(QLabel("schedule")); w.resize(1600, 1000); w.show()
app.processEvents()
w.grab().save(sys.argv[1])
"""


def _days(db_days: int) -> list[dt.date]:
    first = Appointment.select(fn.MIN(Appointment.starts_at)).scalar()
    start = first.date() if isinstance(first, dt.datetime) else dt.date.fromisoformat(first[:10])
    return [start + dt.timedelta(days=i) for i in range(db_days)]


def bench_switch(url: str, days: int, rounds: int) -> None:
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # kept alive to the end
    db = open_database(url)
    ctx = Ctx(db, staff="bench")
    tasks = Tasks()
    window = MainWindow(ctx, tasks, ctx.today())
    window.resize(1600, 1000)
    window.show()
    wait_until_loaded(window)  # the window's own first load must not count below
    samples: list[float] = []
    loads: list[float] = []
    appts: list[int] = []
    queries = 0
    for _ in range(rounds):
        for day in _days(days):
            start = time.perf_counter()
            with count_queries() as counter:
                view = day_service.day_view(day, 1, today=ctx.today())
                settings = clinic_settings.all_settings()
            loaded = time.perf_counter()
            grid = build_grid(view, options_from(settings, week=False, practitioner_id=None,
                                                 show_cancelled=True))
            window.view.apply(grid)
            window.view.viewport().repaint()
            samples.append(time.perf_counter() - start)
            loads.append(loaded - start)
            appts.append(len(view.appointments))
            queries = max(queries, counter.count)
    samples.sort()
    median = statistics.median(samples) * 1000
    p90 = samples[int(len(samples) * 0.9)] * 1000
    print(f"switch day (load + grid + paint), {len(samples)} switches, "
          f"{min(appts)}-{max(appts)} appointments/day, {window.view.model().columnCount()} "
          f"practitioners: median {median:.1f} ms, p90 {p90:.1f} ms "
          f"(load alone median {statistics.median(loads) * 1000:.1f} ms); "
          f"{queries} queries per load; target 30 ms -> ratio {median / 30:.2f}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"resident memory with the clinic open: {rss_mb:.0f} MB (target <= 300 MB)")
    window.close()
    tasks.close(db.close)


def _run(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True,
                   env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    return time.perf_counter() - start


def bench_start(url: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        png = str(Path(tmp) / "s.png")
        desk = [sys.executable, "-m", "desk", "--db", url, "gui", "--screenshot", png]
        bare = [sys.executable, "-c", BARE, png]
        _run(desk), _run(bare)  # warm the file cache
        ours = statistics.median(_run(desk) for _ in range(rounds))
        base = statistics.median(_run(bare) for _ in range(rounds))
    print(f"cold start to a painted schedule: desk {ours * 1000:.0f} ms, bare PySide6 window "
          f"{base * 1000:.0f} ms -> ratio {ours / base:.2f} (target <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a demo clinic, e.g. sqlite:///big.sqlite3")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench_switch(args.db, args.days, args.rounds)
    bench_start(args.db, args.rounds)


if __name__ == "__main__":
    main()
