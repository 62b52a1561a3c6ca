"""Database work off the GUI thread, through one worker (STYLE.md: Anki's taskman).

Every read and write of the window goes through :meth:`Tasks.run`: the function
runs on a single background thread (so writes never race each other and the
database connection of that thread is reused), and its result or error comes back
on the GUI thread through a queued signal. Functions must never touch widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Tasks(QObject):
    """A single background worker whose results are delivered on the GUI thread."""

    _finished = Signal(object, object, object, object)  # on_done, on_error, result, error
    idle_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, on_error: Failed | None = None,
                 recover: Callable[[BaseException], BaseException] | None = None) -> None:
        """``recover(exc)`` runs on the worker after a failure (e.g. to drop a dead
        connection) and returns the error to report."""
        super().__init__(parent)
        self._recover = recover
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-db")
        self._pending = 0
        self._closed = False
        self._default_error = on_error
        self._finished.connect(self._deliver)

    @property
    def pending(self) -> int:
        """Tasks submitted whose callbacks have not run yet."""
        return self._pending

    def run(self, fn: Callable[[], Any], on_done: Done | None = None,
            on_error: Failed | None = None) -> None:
        """Run ``fn()`` on the worker; then ``on_done(result)`` or ``on_error(exc)``
        on the GUI thread, in submission order."""
        if self._closed:
            return
        self._pending += 1
        if self._pending == 1:
            self.idle_changed.emit(False)
        self._pool.submit(self._call, fn, on_done, on_error)

    def _call(self, fn: Callable[[], Any], on_done: Done | None, on_error: Failed | None
              ) -> None:
        try:
            result = fn()
        except BaseException as exc:  # delivered to the GUI thread, never lost
            error = exc
            if self._recover is not None:
                try:
                    error = self._recover(exc)
                except Exception:  # recovering must never hide the original error
                    log.exception("recovering after a failed task failed too")
            self._finished.emit(on_done, on_error, None, error)
        else:
            self._finished.emit(on_done, on_error, result, None)

    def _deliver(self, on_done: Done | None, on_error: Failed | None, result: Any,
                 error: BaseException | None) -> None:
        self._pending -= 1
        try:
            if error is not None:
                handler = on_error or self._default_error
                if handler is None:
                    log.error("background task failed", exc_info=error)
                else:
                    handler(error)
            elif on_done is not None:
                on_done(result)
        finally:
            if self._pending == 0:
                self.idle_changed.emit(True)

    def close(self, last: Callable[[], Any] | None = None) -> None:
        """Run ``last`` (e.g. closing the thread's connection) and stop the worker."""
        if self._closed:
            return
        self._closed = True
        if last is not None:
            self._pool.submit(last)
        self._pool.shutdown(wait=True)
