"""A real CUPS queue for printing tests: ``DESK_TEST_PDF``, which writes PDF files.

``cups_pdf_queue()`` starts ``cupsd`` if it is not running (these machines have no
systemd, so it is started as a daemon by hand and left running, like a service),
adds the queue with the cups-pdf driver if it is missing, and says where cups-pdf
puts its files. It returns None when that is impossible; ``why_unavailable()``
then says why (for ``pytest.skip``). Debian packages: ``cups cups-client cups-bsd
printer-driver-cups-pdf`` (``bash bootstrap.sh test`` installs them).

Safe to call from several pytest-xdist workers at once: the set-up runs under an
exclusive ``flock`` shared by all processes of the machine.

cups-pdf names its files after the job title (spaces and odd characters become
``_``, ``-job_N`` is appended), writes them in place (an empty file first, the
finished PDF when ghostscript is done) and makes them mode 0600 for the job's user.
Its ``${HOME}`` is the job user's home from the password database (``/root`` for
root), so tests submit jobs as the user running them and read their own files.
"""

from __future__ import annotations

import fcntl
import functools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

QUEUE = "DESK_TEST_PDF"
CONF = Path("/etc/cups/cups-pdf.conf")
BACKEND = Path("/usr/lib/cups/backend/cups-pdf")
DEBS = "cups cups-client cups-bsd printer-driver-cups-pdf"
START_TIMEOUT_S = 15
_SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
_ENV = {**os.environ, "LC_ALL": "C"}  # English messages, to read them
_reason = "cups_pdf_queue() was not called"


@dataclass(frozen=True)
class Queue:
    """A CUPS queue ``name`` whose jobs become PDF files in ``output_dir``."""

    name: str
    output_dir: Path

    def wait_for_pdf(self, token: str, timeout_s: float = 20) -> Path:
        """The finished PDF whose name contains ``token`` (put it in the job title).

        cups-pdf creates the file empty and ghostscript fills it, so "finished" means
        it ends with ``%%EOF``. Raises TimeoutError with the queue's state.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for path in self.output_dir.glob(f"*{token}*.pdf"):
                try:
                    if path.read_bytes().rstrip().endswith(b"%%EOF"):
                        return path
                except OSError:
                    pass
            time.sleep(0.05)
        jobs = _run("lpstat", "-o", self.name).stdout.strip() or "no pending jobs"
        raise TimeoutError(f"no PDF named *{token}* in {self.output_dir} after {timeout_s} s "
                           f"({jobs}; see /var/log/cups/cups-pdf-{self.name}_log)")


class _Unavailable(Exception):
    pass


def why_unavailable() -> str:
    """Why the last ``cups_pdf_queue()`` returned None."""
    return _reason


@functools.cache
def cups_pdf_queue() -> Queue | None:
    """The ``DESK_TEST_PDF`` queue, set up on first use; None if CUPS is unavailable."""
    global _reason
    try:
        tools = {name: _tool(name) for name in ("cupsd", "lpadmin", "lpstat", "lpinfo", "lp")}
        if not BACKEND.exists():
            raise _Unavailable(f"the cups-pdf backend is not installed (Debian: {DEBS})")
        lock_path = Path(tempfile.gettempdir()) / "desk-cups-test-queue.lock"
        # Read-only, so that any user may lock a file another user created.
        lock = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            _ensure_scheduler(tools)
            _ensure_queue(tools)
        finally:
            os.close(lock)
        out = output_dir()
        if not out.is_dir() and not out.parent.is_dir():
            raise _Unavailable(f"cups-pdf would write to {out}, whose folder does not exist")
        return Queue(QUEUE, out)
    except (_Unavailable, OSError) as exc:
        _reason = f"no CUPS test printer: {exc}"
        return None


def output_dir(user: str | None = None) -> Path:
    """Where cups-pdf writes the jobs of ``user`` (default: whoever runs this)."""
    entry = pwd.getpwnam(user) if user else pwd.getpwuid(os.geteuid())
    out = "/var/spool/cups-pdf/${USER}"  # cups-pdf's built-in default
    if CONF.exists():
        for line in CONF.read_text(errors="replace").splitlines():
            match = re.match(r"\s*Out\s+(\S.*?)\s*$", line)
            if match:
                out = match[1]
    return Path(out.replace("${HOME}", entry.pw_dir).replace("${USER}", entry.pw_name))


def _tool(name: str) -> str:
    path = shutil.which(name, path=_SBIN)
    if path is None:
        raise _Unavailable(f"'{name}' is not installed (Debian: {DEBS})")
    return path


def _run(*command: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, env=_ENV,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise _Unavailable(f"{' '.join(command)} did not finish in {timeout} s") from None


def _scheduler_running(lpstat: str) -> bool:
    return _run(lpstat, "-r").stdout.strip() == "scheduler is running"


def _ensure_scheduler(tools: dict[str, str]) -> None:
    if _scheduler_running(tools["lpstat"]):
        return
    if os.geteuid() != 0:
        raise _Unavailable("cupsd is not running and only root may start it here")
    # Daemon mode: cupsd detaches (its own session, so it outlives pytest) once it
    # listens. Its output must not go to a pipe: the daemon would hold it open.
    started = subprocess.run([tools["cupsd"]], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=_ENV, timeout=START_TIMEOUT_S, check=False)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _scheduler_running(tools["lpstat"]):
        if time.monotonic() > deadline:
            raise _Unavailable(f"cupsd did not start (exit status {started.returncode}; "
                               "see /var/log/cups/error_log)")
        time.sleep(0.1)


def _ensure_queue(tools: dict[str, str]) -> None:
    state = _run(tools["lpstat"], "-p", QUEUE)
    if state.returncode == 0 and "disabled" not in state.stdout:
        accepting = _run(tools["lpstat"], "-a", QUEUE).stdout
        if "not accepting" not in accepting:
            return
    ppds = _run(tools["lpinfo"], "-m").stdout.split("\n")
    names = [line.split()[0] for line in ppds if "cups-pdf/" in line.lower()]
    if not names:
        raise _Unavailable("lpinfo -m lists no cups-pdf driver")
    ppd = next((name for name in names if name.endswith("_opt.ppd")), names[0])
    # -E both enables the queue and makes it accept jobs.
    added = _run(tools["lpadmin"], "-p", QUEUE, "-E", "-v", "cups-pdf:/", "-m", ppd)
    if added.returncode != 0:
        raise _Unavailable(f"lpadmin could not add {QUEUE}: {added.stderr.strip()}")
