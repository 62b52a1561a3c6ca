"""Patients: registration and search by name or phone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from peewee import Case

from desk.core.errors import BadInput, NotFound
from desk.core.text import clean_name, clean_text, phone_digits, search_key
from desk.data.models import Patient
from desk.data.tx import run_write
from desk.services import audit
from desk.services.context import Ctx

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class PatientInfo:
    id: int
    name: str
    phone: str
    email: str
    dob: dt.date | None
    notes: str
    household_id: int | None
    active: bool


def _info(row: Patient) -> PatientInfo:
    return PatientInfo(int(row.id), row.name, row.phone, row.email, row.dob, row.notes,
                       row.household_id, bool(row.active))


def add_patient(ctx: Ctx, name: str, phone: str = "", email: str = "",
                dob: dt.date | None = None, notes: str = "") -> PatientInfo:
    """Register a patient. The name is stored verbatim (NFC); phone and email checked."""
    clean = clean_name(name, "--name")
    phone = clean_text(phone, "--phone", max_len=40)
    digits = phone_digits(phone)
    if phone and len(digits) < 3:
        raise BadInput("--phone", f"{phone!r} has too few digits for a phone number")
    email = clean_text(email, "--email", max_len=254)
    if email and not _EMAIL.fullmatch(email):
        raise BadInput("--email", f"{email!r} is not an email address")
    if dob is not None and dob > ctx.today():
        raise BadInput("--dob", "is in the future")
    notes = clean_text(notes, "--notes")

    def work() -> PatientInfo:
        row = Patient.create(name=clean, search_key=search_key(clean), phone=phone,
                             phone_digits=digits, email=email, dob=dob, notes=notes,
                             created_at=ctx.now())
        audit.record(ctx, "patient", row.id, "create",
                     after={"name": clean, "phone": phone, "email": email, "dob": dob})
        return _info(row)

    return run_write(ctx.db, work)


def get_patient(patient_id: int, field: str = "--patient") -> PatientInfo:
    row = Patient.get_or_none(Patient.id == patient_id)
    if row is None:
        raise NotFound(f"{field}: no patient with id {patient_id}")
    return _info(row)


def find_patients(query: str, limit: int = 50, include_inactive: bool = False
                  ) -> list[PatientInfo]:
    """Patients whose name contains ``query`` (accent- and case-insensitive) or whose
    phone contains its digits; names starting with the query first."""
    text = (query or "").strip()
    if not text:
        raise BadInput("QUERY", "is empty; type part of a name or a phone number")
    if len(text) > 200:
        raise BadInput("QUERY", "is too long")
    key = search_key(text)
    digits = phone_digits(text)
    cond = Patient.search_key.contains(key)
    if len(digits) >= 3 and len(digits) >= len(text.replace(" ", "")) // 2:
        cond = cond | Patient.phone_digits.contains(digits)
    if not include_inactive:
        cond = cond & (Patient.active == True)  # noqa: E712
    starts = Case(None, [(Patient.search_key.startswith(key), 0)], 1)
    rows = (Patient.select().where(cond).order_by(starts, Patient.search_key, Patient.id)
            .limit(limit))
    return [_info(row) for row in rows]
