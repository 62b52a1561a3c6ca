"""Patients: registration and search by name or phone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from peewee import Case

from desk.core.errors import BadInput, NotFound, Refused
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
    merged_into_id: int | None = None


def _info(row: Patient) -> PatientInfo:
    return PatientInfo(int(row.id), row.name, row.phone, row.email, row.dob, row.notes,
                       row.household_id, bool(row.active), row.merged_into_id)


@dataclass(frozen=True, slots=True)
class Profile:
    """A patient's editable fields, validated."""

    name: str
    phone: str
    email: str
    dob: dt.date | None
    notes: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "phone": self.phone, "email": self.email,
                "dob": self.dob, "notes": self.notes}


def check_profile(ctx: Ctx, name: str, phone: str = "", email: str = "",
                  dob: dt.date | None = None, notes: str = "") -> Profile:
    """Validate typed profile fields; ``BadInput`` names the first bad one."""
    clean = clean_name(name, "--name")
    phone = clean_text(phone, "--phone", max_len=40)
    if phone and len(phone_digits(phone)) < 3:
        raise BadInput("--phone", f"{phone!r} has too few digits for a phone number")
    email = clean_text(email, "--email", max_len=254)
    if email and not _EMAIL.fullmatch(email):
        raise BadInput("--email", f"{email!r} is not an email address")
    if dob is not None and dob > ctx.today():
        raise BadInput("--dob", "is in the future")
    if dob is not None and dob.year < 1900:
        raise BadInput("--dob", "is before 1900")
    return Profile(clean, phone, email, dob, clean_text(notes, "--notes"))


def add_patient(ctx: Ctx, name: str, phone: str = "", email: str = "",
                dob: dt.date | None = None, notes: str = "") -> PatientInfo:
    """Register a patient. The name is stored verbatim (NFC); phone and email checked."""
    profile = check_profile(ctx, name, phone, email, dob, notes)

    def work() -> PatientInfo:
        row = Patient.create(name=profile.name, search_key=search_key(profile.name),
                             phone=profile.phone, phone_digits=phone_digits(profile.phone),
                             email=profile.email, dob=profile.dob, notes=profile.notes,
                             created_at=ctx.now())
        audit.record(ctx, "patient", row.id, "create",
                     after={"name": profile.name, "phone": profile.phone,
                            "email": profile.email, "dob": profile.dob})
        return _info(row)

    return run_write(ctx.db, work)


def update_patient(ctx: Ctx, patient_id: int, profile: Profile,
                   active: bool | None = None) -> PatientInfo:
    """Store an edited profile (from ``check_profile``) and the active flag; the audit
    log keeps the fields that changed, before and after."""

    def work() -> PatientInfo:
        row = Patient.get_or_none(Patient.id == patient_id)
        if row is None:
            raise NotFound(f"--patient: no patient with id {patient_id}")
        if row.merged_into_id is not None and active:
            raise Refused(f"patient {patient_id} was merged into patient "
                          f"{row.merged_into_id}; edit that one")
        before = {"name": row.name, "phone": row.phone, "email": row.email, "dob": row.dob,
                  "notes": row.notes, "active": bool(row.active)}
        after = dict(profile.as_dict(), active=before["active"] if active is None else active)
        changed = {k: v for k, v in after.items() if before[k] != v}
        if changed:
            fields = dict(changed)
            if "name" in changed:
                fields["search_key"] = search_key(profile.name)
            if "phone" in changed:
                fields["phone_digits"] = phone_digits(profile.phone)
            Patient.update(**fields).where(Patient.id == patient_id).execute()
            audit.record(ctx, "patient", patient_id, "update",
                         before={k: before[k] for k in changed}, after=changed)
        return get_patient(patient_id)

    return run_write(ctx.db, work)


def live_patient(patient_id: int, field: str = "--patient") -> Patient:
    """The patient row for a change, refused for a duplicate merged into another."""
    row = Patient.get_or_none(Patient.id == patient_id)
    if row is None:
        raise NotFound(f"{field}: no patient with id {patient_id}")
    if row.merged_into_id is not None:
        raise Refused(f"{field}: patient {patient_id} was merged into patient "
                      f"{row.merged_into_id}; use that one")
    return row


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
