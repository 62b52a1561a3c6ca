"""A believable demo clinic, built through the real services (so it obeys every rule).

``fill`` refuses a database that already has patients. Large clinics
(``patients >= 5000``) get 20 practitioners; histories are spread over the past
year, so some package lots have already expired.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desk.core.errors import Refused
from desk.data.database import is_postgres
from desk.data.models import Appointment, Line, Patient, Txn, rows
from desk.services import catalog, expiry, households, patients, sales, wallet
from desk.services import settings as clinic_settings
from desk.services.context import Ctx
from desk.services.demo_schedule import Event, run_event, schedule_events
from desk.services.results import Tender

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Amélie", "Mateo", "Sofía", "Lucas", "Chloé",
         "Ethan", "Zoë", "Björn", "Aiko", "Hiroshi", "Mei", "Wei", "Priya", "Arjun", "Fatima",
         "Omar", "Grace", "Henry", "Isabel", "Jack", "Léa", "Noémie", "Søren", "Ana", "João",
         "Marta", "Nikolai", "Olga", "Sean", "Siobhán", "Tomás", "Yara", "Zainab", "Daniel",
         "Ruth", "Samuel", "Hannah", "Aaron", "Leah", "Maya", "Ivan", "Elena", "Kofi", "Ama"]
LAST = ["Smith", "García", "Müller", "O'Brien", "Nguyen", "Kim", "Patel", "Rossi", "Dubois",
        "Kowalski", "Johansson", "Silva", "Tanaka", "Chen", "Khan", "Murphy", "Novak", "López",
        "Schäfer", "Brown", "Wilson", "Okafor", "Haddad", "Fernández", "Cohen", "Ivanova",
        "Andersen", "Costa", "Yamamoto", "Walker", "Lefèvre", "Nowak", "Popescu", "Horváth"]
CJK = ["王芳", "李娜", "张伟", "山田太郎", "佐藤花子", "김민준", "이서연"]

PRACTITIONERS = ["Dr. Mara Quinn", "Jonas Weber", "Aiko Tanaka", "Luis Ortega", "Priya Raman",
                 "Sam Okafor", "Elise Martin", "Tom Hughes", "Nadia Haddad", "Chen Wei",
                 "Rosa Ibáñez", "Ben Carter", "Ingrid Holm", "Yusuf Demir", "Kate Byrne",
                 "Omar Farouk", "Lena Vogel", "Raj Mehta", "Grace Park", "Hugo Laurent"]
SERVICES = [  # name, minutes, price cents, token kind
    ("Acupuncture 30", 30, 6500, "Acupuncture"), ("Acupuncture 60", 60, 9500, "Acupuncture"),
    ("Massage 60", 60, 9000, "Massage"), ("Massage 90", 90, 12500, "Massage"),
    ("Cupping 30", 30, 5000, "Cupping"), ("Physio 45", 45, 8500, "Physio"),
    ("Initial consultation", 75, 12000, "Consultation"),
]
PACKAGES = [  # name, kind, tokens, price cents, expires days, monthly
    ("Acupuncture 5-pack", "Acupuncture", 5, 30000, 365, False),
    ("Acupuncture 10-pack", "Acupuncture", 10, 55000, 365, False),
    ("Massage 3-pack", "Massage", 3, 25000, 180, False),
    ("Cupping 5-pack", "Cupping", 5, 22000, 180, False),
    ("Physio 6-pack", "Physio", 6, 45000, 270, False),
    ("Wellness membership", "Massage", 2, 16000, 62, True),
]
BATCH = 250


@dataclass(frozen=True)
class DemoSummary:
    practitioners: int
    services: int
    packages: int
    patients: int
    appointments: int
    transactions: int
    lines: int
    expired_tokens: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        return (f"Demo clinic ready: {self.practitioners} practitioners, {self.services} "
                f"services, {self.packages} packages, {self.patients:,} patients, "
                f"{self.appointments:,} appointments, "
                f"{self.transactions:,} transactions ({self.lines:,} ledger lines); "
                f"{self.expired_tokens} tokens expired.")


def fill(ctx: Ctx, patients: int = 300, days: int = 14, seed: int = 7) -> DemoSummary:
    """Create the catalog, ``patients`` patients, months of purchases and ``days`` days
    of appointments around today."""
    if Patient.select().exists():
        raise Refused("this database already has patients; the demo fills an empty clinic "
                      "(use --db with a new file)")
    rng = random.Random(seed)
    _catalog(ctx, 20 if patients >= 5000 else 4)
    people = _patients(ctx, rng, patients)
    _households(ctx, random.Random(seed + 1), people)
    history = sorted((e for pid in people for e in _events(ctx, rng, pid, people)),
                     key=lambda e: (e[0], e[1]))
    _run_all(ctx, history)
    # Visits come after the purchases, so bookings can follow what patients hold.
    _run_all(ctx, sorted(schedule_events(ctx, rng, people, days), key=lambda e: (e[0], e[1])))
    expired = expiry.expire(ctx)
    return DemoSummary(len(PRACTITIONERS) if patients >= 5000 else 4, len(SERVICES),
                       len(PACKAGES), len(people), Appointment.select().count(),
                       Txn.select().count(),
                       Line.select().count(), expired.tokens_expired)


def _run_all(ctx: Ctx, events: list[Event]) -> None:
    for start in range(0, len(events), BATCH):
        with _batch(ctx):
            for event in events[start:start + BATCH]:
                run_event(ctx, event)


def _batch(ctx: Ctx) -> Any:
    """One database transaction around many service calls (each in a savepoint)."""
    return ctx.db.atomic() if is_postgres(ctx.db) else ctx.db.atomic("IMMEDIATE")


def _catalog(ctx: Ctx, practitioners: int) -> None:
    for key, value in [("clinic_name", "Willow Street Acupuncture & Massage"),
                       ("clinic_address", "12 Willow Street, Springfield"),
                       ("clinic_phone", "(555) 010-2030"), ("tax_id", "EIN 12-3456789"),
                       ("receipt_footer", "Thank you! Cancel 24 h ahead to avoid a fee."),
                       ("late_cancel_fee", "25.00"), ("no_show_fee", "40.00")]:
        clinic_settings.set_value(ctx, key, value)
    for name in PRACTITIONERS[:practitioners]:
        catalog.add_practitioner(ctx, name)
    for name, minutes, price, kind in SERVICES:
        catalog.add_service(ctx, name, minutes, price, kind)
    for name, kind, tokens, price, days, monthly in PACKAGES:
        catalog.add_package(ctx, name, kind, tokens, price, days, monthly)


def _patients(ctx: Ctx, rng: random.Random, count: int) -> list[int]:
    rows = []
    now = ctx.now()
    for i in range(count):
        if rng.random() < 0.03:
            name = rng.choice(CJK)
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phone = f"(555) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
        email = f"{name.split()[0].lower()}.{i}@example.org" if rng.random() < 0.7 else ""
        dob = dt.date(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28))
        rows.append((name, phone, email, dob))
    ids: list[int] = []
    for start in range(0, len(rows), 1000):
        with _batch(ctx):
            for name, phone, email, dob in rows[start:start + 1000]:
                info = patients.add_patient(dataclasses.replace(ctx, now=lambda: now),
                                            name, phone, email, dob)
                ids.append(info.id)
    return ids


def _households(ctx: Ctx, rng: random.Random, people: list[int]) -> None:
    """Some patients with one surname live together (about 1 in 25); half of those
    families share one wallet. Linked before any purchase, so nothing moves."""
    by_surname: dict[str, list[int]] = {}
    for pid, name in rows(Patient.select(Patient.id, Patient.name)
                          .where(Patient.id.in_(people)).order_by(Patient.id)):
        by_surname.setdefault(name.rsplit(" ", 1)[-1], []).append(int(pid))
    with _batch(ctx):
        for surname, ids in sorted(by_surname.items()):
            for first, second in zip(ids[::2], ids[1::2], strict=False):
                if rng.random() < 0.08:
                    households.link(ctx, second, first, shared_wallet=rng.random() < 0.5,
                                    name=f"{surname} family")


def _when(ctx: Ctx, rng: random.Random, max_days: int = 240) -> dt.datetime:
    return ctx.now() - dt.timedelta(days=rng.randint(1, max_days), minutes=rng.randint(0, 600))


def _events(ctx: Ctx, rng: random.Random, pid: int, people: list[int]) -> list[Event]:
    """What happened to one patient over the past months, as timed service calls."""
    out: list[Event] = []

    def add(call: Callable[[Ctx], object], max_days: int = 240) -> None:
        out.append((_when(ctx, rng, max_days), pid, call))

    roll = rng.random()
    if roll < 0.45:
        name, *_rest, price, _days, _monthly = rng.choice(PACKAGES)
        method = rng.choice(["card", "card", "cash", "check"])
        paid = price if rng.random() < 0.8 else price - rng.choice([2000, 5000])
        if rng.random() < 0.05:
            paid = price + 1000  # rounds up: the rest becomes credit
        add(lambda c: sales.sell(c, pid, sales.SaleItem(package=name), [Tender(method, paid)]),
            200)
    elif roll < 0.60:
        amount = rng.choice([5000, 10000, 20000])
        method = rng.choice(["cash", "card"])
        add(lambda c: sales.sell(c, pid, sales.SaleItem(credit_cents=amount),
                                 [Tender(method, amount)]))
    elif roll < 0.68:
        add(lambda c: sales.sell(c, pid, sales.SaleItem(package="Massage 3-pack"), []), 90)
    if rng.random() < 0.08:
        reason = rng.choice(["goodwill after a late start", "opening balance from the old system"])
        tokens = rng.choice([1, 2])
        kind = rng.choice(["Acupuncture", "Massage"])
        add(lambda c: wallet.adjust(c, pid, reason=reason, tokens=tokens, token_kind=kind))
    if rng.random() < 0.05:
        credit = rng.choice([1500, 2500])
        add(lambda c: wallet.adjust(c, pid, reason="waived fee credited", credit_cents=credit))
    if rng.random() < 0.03:
        other = rng.choice(people)
        if other != pid:
            add(lambda c: wallet.transfer(c, pid, other, tokens=1, token_kind="Acupuncture",
                                          memo="shared with family"), 30)
    if rng.random() < 0.02:
        add(lambda c: wallet.refund(c, pid, 1000, "card", reference="moving away"), 20)
    return out
