"""What every service call needs: the database, who is acting, and the clock."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import Database

from desk.data.models import utcnow


def _workstation() -> str:
    return os.environ.get("DESK_WORKSTATION") or socket.gethostname() or "unknown"


def _local_today() -> dt.date:
    return dt.date.today()


def _local_now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class Ctx:
    """The acting staff member and workstation, recorded on every write."""

    db: Database
    staff: str = "cli"
    workstation: str = field(default_factory=_workstation)
    now: Callable[[], dt.datetime] = utcnow
    today: Callable[[], dt.date] = _local_today
    #: Clinic wall-clock time, the time appointments are booked in.
    local_now: Callable[[], dt.datetime] = _local_now
