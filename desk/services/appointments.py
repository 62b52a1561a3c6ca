"""Booking and moving appointments (SPEC §3 Book), with the booking policies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from desk.core import schedule
from desk.core.errors import BadInput, NotFound, Refused
from desk.core.money import format_money
from desk.core.text import clean_text
from desk.data.database import is_postgres
from desk.data.models import Appointment, Audit, Hold, Patient, Practitioner, Service
from desk.data.tx import lock_accounts, lock_row, run_write
from desk.services import accounts, audit, availability
from desk.services.catalog import practitioner_by_name, service_by_name
from desk.services.context import Ctx
from desk.services.patients import get_patient
from desk.services.posting import setting_bool

EARLIEST = dt.datetime(2000, 1, 1)
LATEST = dt.datetime(2100, 1, 1)


@dataclass(frozen=True, slots=True)
class BookResult:
    appointment_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    hold: str | None          # "token", "credit" or None
    covered: bool             # a token or enough credit is available for it
    overridden: bool
    replayed: bool


def get_appointment(appointment_id: int) -> Appointment:
    row = Appointment.get_or_none(Appointment.id == appointment_id)
    if row is None:
        raise NotFound(f"--appointment: no appointment with id {appointment_id}")
    return row


def snapshot(appt: Appointment) -> dict[str, object]:
    """The audited fields of an appointment."""
    return {"patient": appt.patient_id, "practitioner": appt.practitioner_id,
            "service": appt.service_id, "starts_at": appt.starts_at.isoformat(),
            "duration_min": appt.duration_min, "status": appt.status, "note": appt.note}


def _resolve_service(service: str | int) -> Service:
    row = Service.get_or_none(Service.id == service) if isinstance(service, int) else \
        service_by_name(service)
    if row is None:
        raise NotFound(f"--service: no service with id {service}")
    if not row.active:
        raise Refused(f"the service {row.name!r} is no longer offered")
    return row


def _resolve_practitioner(practitioner: str | int) -> Practitioner:
    row = Practitioner.get_or_none(Practitioner.id == practitioner) \
        if isinstance(practitioner, int) else practitioner_by_name(practitioner)
    if row is None:
        raise NotFound(f"--practitioner: no practitioner with id {practitioner}")
    if not row.active:
        raise Refused(f"{row.name} is not taking appointments (inactive)")
    return row


def _check_time(starts_at: dt.datetime, duration_min: int) -> dt.datetime:
    if not EARLIEST <= starts_at < LATEST:
        raise BadInput("--at", "is out of range (2000 to 2099)")
    if starts_at.second or starts_at.microsecond:
        raise BadInput("--at", "must be a whole minute")
    if not 1 <= duration_min <= 1440:
        raise BadInput("--minutes", "must be between 1 and 1440")
    return starts_at + dt.timedelta(minutes=duration_min)


def _lock_practitioner(ctx: Ctx, practitioner_id: int) -> None:
    """Serialise bookings per practitioner so two desks cannot take one slot, and read
    ``active`` again under the lock: a deactivation that committed while this
    booking waited for the lock is seen (refused) rather than overwritten."""
    if is_postgres(ctx.db):
        found = list(Practitioner.select(Practitioner.id, Practitioner.name,
                                         Practitioner.active)
                     .where(Practitioner.id == practitioner_id).for_update())
        if found and not found[0].active:
            raise Refused(f"{found[0].name} is not taking appointments (inactive)")


def check_free(practitioner: Practitioner, starts_at: dt.datetime, ends_at: dt.datetime,
               *, ignore: int | None = None) -> None:
    """Refuse an overlap with another visit of the practitioner (unless allowed)."""
    if setting_bool("allow_double_booking"):
        return
    clash = (Appointment.select(Appointment, Patient.name)
             .join(Patient, on=(Appointment.patient == Patient.id))
             .where(Appointment.practitioner == practitioner.id,
                    Appointment.status.in_(sorted(schedule.OCCUPYING)),
                    Appointment.starts_at < ends_at, Appointment.ends_at > starts_at))
    if ignore is not None:
        clash = clash.where(Appointment.id != ignore)
    other = clash.order_by(Appointment.starts_at).first()
    if other is not None:
        raise Refused(f"{practitioner.name} already has {other.patient.name} "
                      f"{other.starts_at:%H:%M}–{other.ends_at:%H:%M} that day (appointment "
                      f"{other.id}); double booking is off")


def book(ctx: Ctx, patient_id: int, service: str | int, practitioner: str | int,
         starts_at: dt.datetime, *, duration_min: int | None = None, note: str = "",
         override: bool = False, idem_key: str | None = None) -> BookResult:
    """Book a visit. Applies "prevent booking without credit" (a manager may
    override, audited) and "reserve token at booking" (places a hold)."""
    get_patient(patient_id)
    text = clean_text(note, "--note", max_len=1000)

    def work() -> BookResult:
        if idem_key is not None:
            earlier = Appointment.get_or_none(Appointment.idem_key == idem_key)
            if earlier is not None:
                if (earlier.patient_id, earlier.starts_at) != (patient_id, starts_at):
                    raise Refused(f"the key {idem_key!r} was already used for another booking "
                                  f"(appointment {earlier.id}); use a new key")
                return _booked(earlier, replayed=True)
        svc = _resolve_service(service)
        who = _resolve_practitioner(practitioner)
        minutes = duration_min if duration_min is not None else int(svc.duration_min)
        ends_at = _check_time(starts_at, minutes)
        _lock_practitioner(ctx, who.id)
        lock_accounts(ctx.db, [accounts.patient_credit(patient_id),
                               accounts.patient_tokens(patient_id, svc.token_kind_id)])
        check_free(who, starts_at, ends_at)
        # Tokens that will have expired by the visit do not cover it.
        tokens = availability.available_tokens(patient_id, svc.token_kind_id,
                                               max(ctx.today(), starts_at.date()))
        credit = availability.available_credit(patient_id)
        covered = tokens > 0 or credit >= svc.price_cents
        if not covered and setting_bool("prevent_no_credit_booking") and not override:
            raise Refused(f"{get_patient(patient_id).name} has no {svc.token_kind.name} token "
                          f"and only {format_money(credit)} credit for {svc.name} "
                          f"({format_money(svc.price_cents)}); a manager may override")
        now = ctx.now()
        appt = Appointment.create(patient=patient_id, practitioner=who.id, service=svc.id,
                                  starts_at=starts_at, ends_at=ends_at, duration_min=minutes,
                                  note=text, status=schedule.BOOKED, idem_key=idem_key,
                                  created_at=now, updated_at=now)
        hold = None
        if setting_bool("reserve_token_at_booking"):
            if tokens > 0:
                hold = "token"
                Hold.create(appointment=appt.id, account=accounts.patient_tokens(
                    patient_id, svc.token_kind_id), quantity=1, status="open", created_at=now)
            elif credit >= svc.price_cents > 0:
                hold = "credit"
                Hold.create(appointment=appt.id, account=accounts.patient_credit(patient_id),
                            quantity=svc.price_cents, status="open", created_at=now)
        audit.record(ctx, "appointment", appt.id, "book", after=snapshot(appt))
        overridden = not covered and override and setting_bool("prevent_no_credit_booking")
        if overridden:
            audit.record(ctx, "appointment", appt.id, "override: booked without credit",
                         after={"credit": credit, "tokens": tokens})
        return BookResult(int(appt.id), starts_at, ends_at, hold, covered, overridden, False)

    return run_write(ctx.db, work)


def _booked(appt: Appointment, *, replayed: bool) -> BookResult:
    """Describe a booking as it stands (for a replayed key or a move)."""
    hold = Hold.get_or_none(Hold.appointment == appt.id)
    kind = None
    if hold is not None:
        kind = "credit" if hold.account.kind == "patient_credit" else "token"
    overridden = Audit.select().where(Audit.entity == "appointment",
                                      Audit.entity_id == appt.id,
                                      Audit.action.startswith("override")).exists()
    service = Service.get_by_id(appt.service_id)
    covered = hold is not None or availability.available_tokens(
        int(appt.patient_id), int(service.token_kind_id), appt.starts_at.date(),
        except_appointment=int(appt.id)) > 0 or availability.available_credit(
        int(appt.patient_id), except_appointment=int(appt.id)) >= service.price_cents
    return BookResult(int(appt.id), appt.starts_at, appt.ends_at, kind, covered, overridden,
                      replayed)


def move(ctx: Ctx, appointment_id: int, starts_at: dt.datetime,
         practitioner: str | int | None = None, *,
         seen: tuple[dt.datetime, int] | None = None) -> BookResult:
    """Move a booked visit to another time (and practitioner); refused on an overlap.

    ``seen`` is the (start, practitioner id) the caller's screen showed: when another
    desk moved the visit meanwhile, the move is refused rather than overwriting it.
    """

    def work() -> BookResult:
        lock_row(ctx.db, Appointment, appointment_id)
        appt = get_appointment(appointment_id)
        if seen is not None and (appt.starts_at, int(appt.practitioner_id)) != seen:
            raise Refused(f"appointment {appointment_id} was changed on another workstation "
                          f"(it is now {appt.starts_at:%a %d %b %H:%M}); look again and "
                          "move it from there")
        if appt.status != schedule.BOOKED:
            raise Refused(f"appointment {appointment_id} is "
                          f"{schedule.LABELS[appt.status]}; only booked visits can move")
        who = _resolve_practitioner(practitioner if practitioner is not None
                                    else int(appt.practitioner_id))
        ends_at = _check_time(starts_at, int(appt.duration_min))
        _lock_practitioner(ctx, who.id)
        check_free(who, starts_at, ends_at, ignore=appointment_id)
        before = snapshot(appt)
        appt.starts_at, appt.ends_at, appt.practitioner = starts_at, ends_at, who.id
        appt.updated_at = ctx.now()
        appt.save()
        audit.record(ctx, "appointment", appt.id, "move", before=before, after=snapshot(appt))
        return _booked(appt, replayed=False)

    return run_write(ctx.db, work)
