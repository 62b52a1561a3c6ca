"""End-to-end helpers for the ``desk`` command line (SPEC §9, §10).

``desk`` runs the CLI in-process through ``desk.cli.main.run`` (fast; stdout and
stderr captured with ``capsys``), always against the test's database URL.
``desk_script`` runs the real installed console script in a subprocess, to prove
what a user sees at a terminal (exit codes, no bare tracebacks).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from desk.cli.main import run

WORKSTATION = "ws-e2e"


@dataclass(frozen=True)
class Result:
    """One CLI call: exit code and what it printed."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as exc:  # pragma: no cover - diagnostic only
            raise AssertionError(f"stdout of {self.argv} is not JSON: {self.out!r}") from exc

    def describe(self) -> str:
        return (f"desk {' '.join(self.argv)}\n  exit {self.code}\n  stdout: {self.out!r}\n"
                f"  stderr: {self.err!r}")


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def invoke(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process, capturing output with redirects (for non-test code)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run(list(argv))
        except SystemExit as exc:
            code = _exit_code(exc)
    return code, out.getvalue(), err.getvalue()


class Desk:
    """Runs ``desk`` in-process. ``desk(...)`` adds ``--db URL --json`` for you."""

    def __init__(self, capsys: pytest.CaptureFixture[str], url_source: Callable[[], str]) -> None:
        self._capsys = capsys
        self._url_source = url_source
        self._url: str | None = None
        self._reader: RowReader | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._url_source()
        return self._url

    def raw(self, *argv: str) -> Result:
        """Exactly ``argv`` (no --db added): for tests of the global options."""
        self._capsys.readouterr()
        try:
            code = run(list(argv))
        except SystemExit as exc:
            code = _exit_code(exc)
        out, err = self._capsys.readouterr()
        return Result(tuple(argv), code, out, err)

    def __call__(self, *argv: str, json_output: bool = True) -> Result:
        head = ["--db", self.url] + (["--json"] if json_output else [])
        return self.raw(*head, *argv)

    def ok(self, *argv: str) -> Any:
        """Run with --json, require exit 0 and a clean stderr, return the parsed JSON."""
        result = self(*argv)
        assert result.code == 0, result.describe()
        assert result.err == "", result.describe()
        return result.json

    def fails(self, code: int, *argv: str, json_output: bool = False) -> Result:
        """Run, require exit ``code`` and a short message (never a traceback) on stderr."""
        result = self(*argv, json_output=json_output)
        assert result.code == code, result.describe()
        assert "Traceback" not in result.err, result.describe()
        assert "error" in result.err, result.describe()
        if not json_output:
            assert result.out == "", result.describe()
        return result

    # ---------------------------------------------------------------- state

    def table_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, straight from the database (a write detector)."""
        if self._reader is None:
            self._reader = RowReader(self.url)
        return self._reader.rows()

    def snapshot(self, *patient_ids: int) -> dict[str, Any]:
        """What ``nothing written`` compares: verify counts, histories, balances, all rows."""
        return {
            "verify": self.ok("db", "verify"),
            "history": {pid: self.ok("history", "--patient", str(pid)) for pid in patient_ids},
            "balance": {pid: self.ok("balance", "--patient", str(pid)) for pid in patient_ids},
            "rows": self.table_rows(),
        }

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class RowReader:
    """A plain driver connection (autocommit, outside desk) that dumps every table."""

    def __init__(self, url: str) -> None:
        self._conn: Any
        if url.startswith(("postgresql://", "postgres://")):
            import psycopg

            self._conn = psycopg.connect(url, autocommit=True)
            found = self._conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        else:
            assert url.startswith("sqlite:///"), url
            self._conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            found = self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        self._tables = sorted(name for (name,) in found)
        assert "txn" in self._tables and "line" in self._tables, self._tables

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        out = {}
        for table in self._tables:
            rows = self._conn.execute(f'SELECT * FROM "{table}"').fetchall()
            out[table] = sorted((tuple(row) for row in rows), key=repr)
        return out

    def close(self) -> None:
        self._conn.close()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                  ) -> None:
    """No user database, log or data directory is touched; a fixed workstation name."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.delenv("DESK_DATABASE", raising=False)
    monkeypatch.setenv("DESK_WORKSTATION", WORKSTATION)
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


@pytest.fixture
def desk(capsys: pytest.CaptureFixture[str], db_url: str) -> Iterator[Desk]:
    """The in-process CLI bound to the test's database (``--db db_url`` on every call)."""
    runner = Desk(capsys, lambda: db_url)
    yield runner
    runner.close()


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Desk:
    """The in-process CLI with no database of its own: use ``cli.raw(...)``."""

    def no_url() -> str:
        raise AssertionError("this test has no database: pass --db through cli.raw()")

    return Desk(capsys, no_url)


# ------------------------------------------------------------ the real script

def _find_script() -> str | None:
    beside = Path(sys.executable).with_name("desk")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("desk")


@dataclass
class Script:
    path: str
    env: dict[str, str]

    def __call__(self, *argv: str, timeout: float = 60) -> Result:
        proc = subprocess.run([self.path, *argv], env=self.env, capture_output=True,
                              text=True, encoding="utf-8", timeout=timeout, check=False)
        return Result(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def desk_script(tmp_path: Path) -> Script:
    """The installed ``desk`` console script, run as a subprocess."""
    path = _find_script()
    if path is None:
        pytest.fail("the `desk` console script is not installed (pip install -e .)")
    env = dict(os.environ)
    env.pop("DESK_DATABASE", None)
    env.update({"DESK_WORKSTATION": WORKSTATION, "XDG_STATE_HOME": str(tmp_path / "state"),
                "XDG_DATA_HOME": str(tmp_path / "data"), "QT_QPA_PLATFORM": "offscreen",
                "PYTHONIOENCODING": "utf-8"})
    return Script(path, env)


# ----------------------------------------------- one seeded clinic per backend

@dataclass(frozen=True)
class Clinic:
    """A small clinic shared by a module's read-only / refused-input tests.

    ``ana`` holds 5 Acupuncture tokens (package, expiring in 365 days) and 40.00
    credit; ``ben`` holds nothing.
    """

    backend: str
    url: str
    ana: int
    ben: int
    sale_txn: int


def _seed(backend: str, url: str) -> Clinic:
    def ok(*argv: str) -> Any:
        code, out, err = invoke(["--db", url, "--json", *argv])
        assert code == 0, (argv, code, out, err)
        return json.loads(out)

    ok("init")
    ok("practitioner", "add", "--name", "Dr. Mara Quinn")
    ok("service", "add", "--name", "Acupuncture 30", "--minutes", "30", "--price", "65",
       "--token-kind", "Acupuncture")
    ok("package", "add", "--name", "Acupuncture 5-pack", "--token-kind", "Acupuncture",
       "--tokens", "5", "--price", "300", "--expires-days", "365")
    ana = ok("patient", "add", "--name", "Ana Silva")["id"]
    ben = ok("patient", "add", "--name", "Ben Okafor")["id"]
    sale = ok("sell", "--patient", str(ana), "--package", "Acupuncture 5-pack",
              "--pay", "card:300")["txn_id"]
    ok("sell", "--patient", str(ana), "--credit", "40", "--pay", "cash:40")
    return Clinic(backend, url, ana, ben, sale)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def clinic(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Clinic]:
    backend = str(request.param)
    server = request.getfixturevalue("pg_server")
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("clinic")
        url = f"sqlite:///{folder}/clinic-{uuid.uuid4().hex[:8]}.sqlite3"
    else:
        if server is None:
            pytest.skip("PostgreSQL not available (set DESK_TEST_PG_URL)")
        url = server.new_database()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DESK_DATABASE", raising=False)
        mp.setenv("DESK_WORKSTATION", WORKSTATION)
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        seeded = _seed(backend, url)
    yield seeded
    if backend == "postgres":
        server.drop(url)
