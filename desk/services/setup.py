"""First start: is this an empty clinic, set it up in one go, or make the demo clinic.

A clinic *needs setup* while it has no practitioner, no service, no package, no
patient and no ledger transaction. Clinic settings do not count (someone may have
typed ``desk settings set clinic_name ...`` first; the setup then shows them), and
once any of those rows exists, whether active or not, the clinic never needs setup
again: nothing desk does deletes them.

``first_setup`` writes the clinic's settings, its first practitioner and its first
service in one transaction, after checking that the clinic is still empty under a
lock, so two desks starting at once cannot both set it up: the second is refused.

The demo clinic lives in its own SQLite file (``demo_path``, the file ``bash
bootstrap.sh demo`` makes), never in the clinic's own database.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desk.core import settings as rules
from desk.core.errors import BadInput, Refused
from desk.core.money import parse_amount, parse_count
from desk.core.text import clean_name
from desk.data.database import default_sqlite_path, is_postgres, open_database
from desk.data.migrations import migrate
from desk.data.models import Package, Patient, Practitioner, Service, Txn, database_proxy
from desk.data.tx import run_write
from desk.services import audit, catalog, demo
from desk.services import settings as clinic_settings
from desk.services.context import Ctx

#: Any constant shared by every desk process (the migrations use 7_340_211).
_SETUP_LOCK_ID = 7_340_212

#: Where the demo clinic lives instead of beside the embedded database (a path).
DEMO_ENV = "DESK_DEMO_DB"
#: The demo's visits sit around the day it was made; an older one is made afresh.
DEMO_MAX_AGE = dt.timedelta(days=7)
#: The size of the demo made on first start: what ``desk demo`` makes by default.
DEMO_PATIENTS = 300
DEMO_DAYS = 14
DEMO_SEED = 7


@dataclass(frozen=True, slots=True)
class ClinicSetup:
    """What the owner typed, checked and in the form it is stored."""

    clinic_name: str
    currency: str
    phone: str
    address: str
    practitioner: str
    service_name: str
    duration_min: int
    price_cents: int
    token_kind: str

    def settings(self) -> dict[str, str]:
        return {"clinic_name": self.clinic_name, "currency": self.currency,
                "clinic_phone": self.phone, "clinic_address": self.address}


@dataclass(frozen=True, slots=True)
class SetupDone:
    """What ``first_setup`` wrote."""

    practitioner_id: int
    service_id: int
    token_kind: str
    settings: dict[str, str]


@dataclass(frozen=True, slots=True)
class DemoClinic:
    """The demo clinic's file; ``made`` is None when a fresh one was already there."""

    path: Path
    made: demo.DemoSummary | None

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def needs_setup() -> bool:
    """True while the clinic is empty (see the module docstring)."""
    return not any(model.select().exists()
                   for model in (Practitioner, Service, Package, Patient, Txn))


# -- checking what was typed --------------------------------------------------------------

def _setting(field: str, key: str, text: str) -> str:
    """``text`` checked as the setting ``key``, a problem named ``field``."""
    try:
        return rules.parse(key, text)
    except BadInput as exc:
        raise BadInput(field, exc.reason) from None


def _clinic(clinic_name: str, currency: str, phone: str, address: str
            ) -> tuple[str, str, str, str]:
    name = _setting("clinic_name", "clinic_name", clean_name(clinic_name, "clinic_name",
                                                             max_len=500))
    return (name, _setting("currency", "currency", currency),
            _setting("phone", "clinic_phone", phone),
            _setting("address", "clinic_address", address))


def check_setup(*, clinic_name: str, currency: str, practitioner: str, service_name: str,
                minutes: int, price_cents: int, token_kind: str | None = None,
                phone: str = "", address: str = "") -> ClinicSetup:
    """Check every field (``BadInput`` names the first bad one: ``clinic_name``,
    ``currency``, ``phone``, ``address``, ``practitioner``, ``service_name``,
    ``minutes``, ``price`` or ``token_kind``). A blank token kind is the service's name."""
    clinic = _clinic(clinic_name, currency, phone, address)
    who = clean_name(practitioner, "practitioner")
    service = clean_name(service_name, "service_name")
    duration = catalog.check_minutes(minutes, "minutes")
    price = catalog.check_price(price_cents, "price")
    kind = clean_name(token_kind, "token_kind") if token_kind and token_kind.strip() else service
    return ClinicSetup(*clinic, who, service, duration, price, kind)


def read_setup(*, clinic_name: str, currency: str, phone: str, address: str,
               practitioner: str, service_name: str, minutes: str, price: str,
               token_kind: str) -> ClinicSetup:
    """The setup as typed into a form, checked top to bottom, so the problem
    reported is the first one on the screen."""
    _clinic(clinic_name, currency, phone, address)
    clean_name(practitioner, "practitioner")
    clean_name(service_name, "service_name")
    duration = parse_count(minutes, "minutes", maximum=1440)
    return check_setup(clinic_name=clinic_name, currency=currency, phone=phone,
                       address=address, practitioner=practitioner,
                       service_name=service_name, minutes=duration,
                       price_cents=parse_amount(price, "price", allow_zero=True),
                       token_kind=token_kind)


# -- writing it ---------------------------------------------------------------------------

def first_setup(ctx: Ctx, *, clinic_name: str, currency: str, practitioner: str,
                service_name: str, minutes: int, price_cents: int,
                token_kind: str | None = None, phone: str = "",
                address: str = "") -> SetupDone:
    """Check everything (``BadInput``, nothing written), then store the clinic's
    settings, first practitioner and first service in one transaction.
    ``Refused`` when the clinic is no longer empty (another desk set it up)."""
    form = check_setup(clinic_name=clinic_name, currency=currency, practitioner=practitioner,
                       service_name=service_name, minutes=minutes, price_cents=price_cents,
                       token_kind=token_kind, phone=phone, address=address)
    return apply_setup(ctx, form)


def apply_setup(ctx: Ctx, form: ClinicSetup) -> SetupDone:
    """Write a checked setup (see ``first_setup``)."""

    def work() -> SetupDone:
        if is_postgres(ctx.db):  # SQLite's IMMEDIATE transaction is already the only writer
            ctx.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_SETUP_LOCK_ID,))
        if not needs_setup():
            raise Refused("this clinic is already set up (it has practitioners, services or "
                          "patients); nothing was changed")
        # Each call below runs in a savepoint of this one transaction.
        for key, value in form.settings().items():
            clinic_settings.set_value(ctx, key, value)
        who = catalog.add_practitioner(ctx, form.practitioner)
        service = catalog.add_service(ctx, form.service_name, form.duration_min,
                                      form.price_cents, form.token_kind)
        audit.record(ctx, "clinic", None, "first setup",
                     after={**form.settings(), "practitioner": who.name,
                            "service": service.name, "token_kind": form.token_kind})
        return SetupDone(who.id, service.id, form.token_kind, form.settings())

    return run_write(ctx.db, work)


# -- the demo clinic ----------------------------------------------------------------------

def demo_path() -> Path:
    """The demo clinic's file: ``$DESK_DEMO_DB``, else ``demo.sqlite3`` beside the
    embedded database (the file ``bash bootstrap.sh demo`` makes and opens)."""
    chosen = os.environ.get(DEMO_ENV)
    return Path(chosen).expanduser() if chosen else default_sqlite_path().with_name(
        "demo.sqlite3")


def demo_is_fresh(path: Path, now: Callable[[], float] = time.time) -> bool:
    """True when a demo clinic made less than ``DEMO_MAX_AGE`` ago is at ``path``."""
    try:
        age_s = now() - path.stat().st_mtime
    except OSError:
        return False
    return age_s < DEMO_MAX_AGE.total_seconds()


def _remove(path: Path) -> None:
    for item in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        item.unlink(missing_ok=True)


def make_demo(path: Path, staff: str = "demo") -> DemoClinic:
    """The demo clinic at ``path``: kept when fresh, else made (``DEMO_PATIENTS``
    patients, ``DEMO_DAYS`` days of visits around today; a few seconds).

    It is made in a temporary file beside ``path`` and moved into place when
    complete, so an interrupted run never leaves a half-made demo. The models stay
    bound to the database they were bound to before.
    """
    if demo_is_fresh(path):
        return DemoClinic(path, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    making = path.with_name(f".{path.name}.making-{os.getpid()}")
    _remove(making)
    previous = database_proxy.obj
    try:
        db = open_database(f"sqlite:///{making}")
        try:
            migrate(db)
            summary = demo.fill(Ctx(db, staff=staff), patients=DEMO_PATIENTS, days=DEMO_DAYS,
                                seed=DEMO_SEED)
        finally:
            db.close()  # the last connection: SQLite folds the WAL into the file
        _remove(path)
        os.replace(making, path)
    finally:
        _remove(making)
        if previous is not None:
            database_proxy.initialize(previous)
    return DemoClinic(path, summary)
