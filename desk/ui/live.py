"""Live refresh: a background thread waits for other connections' commits and says so.

PostgreSQL delivers ``NOTIFY desk_changes`` at commit; SQLite's ``PRAGMA
data_version`` moves when another connection commits. Either way the window hears
``changed`` within about half a second and reloads what it shows.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from desk.core.errors import DatabaseFault

log = logging.getLogger(__name__)

WAIT_S = 0.5
RETRY_S = 3.0


class Watcher(Protocol):
    def wait(self, timeout_s: float) -> bool: ...
    def close(self) -> None: ...


class LiveRefresh(QObject):
    changed = Signal()
    trouble = Signal(str)     # a message while the database cannot be watched; "" when back

    def __init__(self, open_watcher: Callable[[], Watcher], parent: QObject | None = None
                 ) -> None:
        super().__init__(parent)
        self._open = open_watcher
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="desk-live", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self) -> None:
        watcher: Watcher | None = None
        troubled = False
        while not self._stop.is_set():
            try:
                if watcher is None:
                    watcher = self._open()
                    if troubled:
                        troubled = False
                        self.trouble.emit("")
                        self.changed.emit()  # we may have missed changes meanwhile
                if watcher.wait(WAIT_S):
                    self.changed.emit()
            except Exception as exc:  # never die silently: say so, then retry
                if not isinstance(exc, DatabaseFault):
                    log.exception("live refresh failed")
                if watcher is not None:
                    with contextlib.suppress(Exception):
                        watcher.close()
                    watcher = None
                if not troubled:
                    troubled = True
                    why = exc.message if isinstance(exc, DatabaseFault) else str(exc)
                    self.trouble.emit(f"Live updates paused: {why}")
                self._stop.wait(RETRY_S)
        if watcher is not None:
            watcher.close()
