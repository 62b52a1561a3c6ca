"""Managing the catalog: every practitioner, service and package (inactive ones too)
and the changes a manager makes to them. Rows are never deleted: deactivating takes
a row off the schedule, the booking lists and the sale lists, and leaves its history
as it was.

What a caller may rely on about changes:

* Names may change at any time. Receipts, statements and the history keep the name
  printed at the time (ledger memos are text); another row's name, ignoring case
  and accents, is refused.
* Prices, minutes and fees apply to what happens next. A service's price is
  charged at check-in, so it applies to every visit checked in from now on (booked
  ones included); booked visits keep their own length; a fee of ``None`` follows the
  clinic default. The ledger is immutable anyway.
* A package's tokens, price and expiry apply to new sales, and for a monthly
  membership also to the next renewal of every current member (renewals read the
  package). ``PackageRow.members`` says how many patients that is.
* Some things are fixed once used, so that history keeps its meaning:

  - a service's token kind, once any visit was booked with it: open holds sit on
    the old kind's account, fees of past visits were paid with its tokens, and a
    past day shows the kind each visit took;
  - a package's token kind and whether it is a monthly membership, once it was
    sold: a membership renews with its package's kind, and a one-off sale started
    no membership that turning it monthly could renew (nor would turning it off
    stop the memberships already sold).

  To change those, add a new service or package and deactivate the old one.
* A practitioner with booked visits cannot be deactivated: their column would
  leave the schedule with the visits still on it (move, check in or cancel them
  first). Deactivating a service or a package only stops new bookings and sales:
  booked visits of the service still check in, and memberships already sold keep
  renewing.

Every change is audited with the changed fields only (before and after); a call
that changes nothing writes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from peewee import fn

from desk.core import schedule
from desk.core.errors import BadInput, NotFound, Refused
from desk.core.text import clean_name, search_key
from desk.data.database import is_postgres
from desk.data.models import (
    Account,
    Appointment,
    Audit,
    Line,
    Membership,
    Package,
    Practitioner,
    Service,
    TokenKind,
    rows,
)
from desk.data.tx import lock_row, run_write
from desk.services import audit, catalog
from desk.services.catalog import Created, _unique_name, check_colour
from desk.services.context import Ctx


class _Keep(enum.Enum):
    KEEP = "keep"


#: "Leave this field as it is" for the update functions (``None`` means something).
KEEP: Final = _Keep.KEEP

MAX_PACKAGE_TOKENS = 100_000
MAX_EXPIRY_DAYS = 36600


# -- read side -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PractitionerRow:
    id: int
    name: str
    sort_order: int          # the column order on the schedule (inactive ones hidden)
    active: bool


@dataclass(frozen=True, slots=True)
class ServiceRow:
    id: int
    name: str
    minutes: int
    price_cents: int
    colour: str
    token_kind: str
    late_cancel_fee_cents: int | None    # None: the clinic's late_cancel_fee
    no_show_fee_cents: int | None        # None: the clinic's no_show_fee
    active: bool
    in_use: bool = False                 # visits were booked: the token kind is fixed


@dataclass(frozen=True, slots=True)
class PackageRow:
    id: int
    name: str
    token_kind: str
    tokens: int
    price_cents: int
    expires_days: int | None             # None: the tokens never expire
    monthly: bool
    active: bool
    members: int = 0                     # patients holding an active membership of it
    sold: bool = False                   # sold at least once: kind and monthly are fixed


@dataclass(frozen=True, slots=True)
class CatalogView:
    practitioners: tuple[PractitionerRow, ...]
    services: tuple[ServiceRow, ...]
    packages: tuple[PackageRow, ...]
    token_kinds: tuple[str, ...]


def list_practitioners() -> tuple[PractitionerRow, ...]:
    """Every practitioner in schedule column order, inactive ones included (1 query)."""
    return tuple(PractitionerRow(int(i), str(n), int(o), bool(a)) for i, n, o, a in rows(
        Practitioner.select(Practitioner.id, Practitioner.name, Practitioner.sort_order,
                            Practitioner.active)
        .order_by(Practitioner.sort_order, Practitioner.id)))


def list_services() -> tuple[ServiceRow, ...]:
    """Every service by name, inactive ones included (2 queries)."""
    used = {int(s) for (s,) in rows(Appointment.select(Appointment.service).distinct())}
    return tuple(
        ServiceRow(int(i), str(n), int(m), int(p), str(c), str(k), _cents(late), _cents(ns),
                   bool(a), int(i) in used)
        for i, n, m, p, c, k, late, ns, a in rows(
            Service.select(Service.id, Service.name, Service.duration_min, Service.price_cents,
                           Service.colour, TokenKind.name, Service.late_cancel_fee_cents,
                           Service.no_show_fee_cents, Service.active)
            .join(TokenKind, on=(Service.token_kind == TokenKind.id))
            .order_by(Service.name)))


def list_packages(today: dt.date) -> tuple[PackageRow, ...]:
    """Every package by name, inactive ones included, with how many patients hold an
    active membership of it on ``today`` (4 queries)."""
    found = list(rows(
        Package.select(Package.id, Package.name, TokenKind.name, Package.tokens,
                       Package.price_cents, Package.expires_days, Package.monthly,
                       Package.active, Package.token_kind)
        .join(TokenKind, on=(Package.token_kind == TokenKind.id))
        .order_by(Package.name)))
    members = {int(p): int(n) for p, n in rows(
        Membership.select(Membership.package, fn.COUNT(fn.DISTINCT(Membership.patient)))
        .where(Membership.ended_on.is_null() | (Membership.ended_on > today))
        .group_by(Membership.package))}
    with_members = {int(p) for (p,) in rows(Membership.select(Membership.package).distinct())}
    grants = _grant_memos()
    history = _past_values([int(r[0]) for r in found])
    out = []
    for pid, name, kind, tokens, price, expires, monthly, active, kind_id in found:
        memos = _sale_memos(name, tokens, history.get(int(pid), ()))
        sold = int(pid) in with_members or any((m, int(kind_id)) in grants for m in memos)
        out.append(PackageRow(int(pid), str(name), str(kind), int(tokens), int(price),
                              None if expires is None else int(expires), bool(monthly),
                              bool(active), members.get(int(pid), 0), sold))
    return tuple(out)


def catalog_view(today: dt.date) -> CatalogView:
    """Everything the catalog window shows, in one read."""
    kinds = tuple(str(n) for (n,) in rows(TokenKind.select(TokenKind.name)
                                          .order_by(TokenKind.name)))
    return CatalogView(list_practitioners(), list_services(), list_packages(today), kinds)


def _cents(value: Any) -> int | None:
    return None if value is None else int(value)


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Updated:
    """What one update changed: only the changed fields, before and after."""

    entity: str
    id: int
    name: str
    before: dict[str, object] = field(default_factory=dict)
    after: dict[str, object] = field(default_factory=dict)

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(self.after)


@dataclass(frozen=True, slots=True)
class Reordered:
    order: tuple[int, ...]     # every practitioner id, in column order
    moved: tuple[int, ...]     # those whose position changed


# -- practitioners ---------------------------------------------------------------------


def update_practitioner(ctx: Ctx, practitioner_id: int, *, name: str | None = None,
                        active: bool | None = None) -> Updated:
    """Rename and/or (de)activate a practitioner (None: leave as is)."""
    wanted: dict[str, object] = {}
    if name is not None:
        wanted["name"] = clean_name(name, "--name")
    if active is not None:
        wanted["active"] = _flag(active, "--active")

    def work() -> Updated:
        lock_row(ctx.db, Practitioner, practitioner_id)
        row = Practitioner.get_or_none(Practitioner.id == practitioner_id)
        if row is None:
            raise NotFound(f"--practitioner: no practitioner with id {practitioner_id}")
        current = {"name": row.name, "active": bool(row.active)}
        changes = {k: v for k, v in wanted.items() if current[k] != v}
        if "name" in changes:
            _unique_name(Practitioner, str(changes["name"]), "practitioner",
                         except_id=practitioner_id)
        if changes.get("active") is False:
            _check_no_booked_visits(row)
        return _save(ctx, "practitioner", row, current, changes)

    return run_write(ctx.db, work)


def _check_no_booked_visits(row: Practitioner) -> None:
    booked = (Appointment.select(Appointment.starts_at)
              .where(Appointment.practitioner == row.id,
                     Appointment.status == schedule.BOOKED)
              .order_by(Appointment.starts_at))
    count = booked.count()
    if count:
        first = booked.first()
        assert first is not None
        visits = "1 booked visit" if count == 1 else f"{count} booked visits"
        raise Refused(f"{row.name} still has {visits} (the first on "
                      f"{first.starts_at:%a %d %b %Y %H:%M}); move, check in or cancel "
                      "them before deactivating, so none disappears from the schedule")


def reorder_practitioners(ctx: Ctx, ordered_ids: Sequence[int]) -> Reordered:
    """Set the schedule's column order: ``ordered_ids`` first, in that order, then any
    practitioner not listed (e.g. added meanwhile on another desk) in their order."""
    ids = [_whole(i, "--order") for i in ordered_ids]
    if len(set(ids)) != len(ids):
        raise BadInput("--order", "lists a practitioner more than once")

    def work() -> Reordered:
        if is_postgres(ctx.db):   # two desks reordering at once: one after the other
            list(Practitioner.select(Practitioner.id).order_by(Practitioner.id).for_update())
        current = {int(i): int(o) for i, o in rows(
            Practitioner.select(Practitioner.id, Practitioner.sort_order)
            .order_by(Practitioner.sort_order, Practitioner.id))}
        unknown = [i for i in ids if i not in current]
        if unknown:
            raise NotFound(f"--order: no practitioner with id {unknown[0]}")
        order = ids + [i for i in current if i not in set(ids)]
        moved = []
        for position, pid in enumerate(order):
            if current[pid] != position:
                Practitioner.update(sort_order=position).where(
                    Practitioner.id == pid).execute()
                audit.record(ctx, "practitioner", pid, "update",
                             before={"sort_order": current[pid]},
                             after={"sort_order": position})
                moved.append(pid)
        return Reordered(tuple(order), tuple(moved))

    return run_write(ctx.db, work)


# -- services --------------------------------------------------------------------------


def create_service(ctx: Ctx, name: str, minutes: int, price_cents: int, *,
                   token_kind: str | None = None, colour: str | None = None,
                   late_cancel_fee_cents: int | None = None,
                   no_show_fee_cents: int | None = None) -> Created:
    """``catalog.add_service`` plus its own fees, in one transaction."""
    late = _fee(late_cancel_fee_cents, "--late-cancel-fee")
    no_show = _fee(no_show_fee_cents, "--no-show-fee")

    def work() -> Created:
        made = catalog.add_service(ctx, name, minutes, price_cents, token_kind, colour)
        if late is not None or no_show is not None:
            update_service(ctx, made.id, late_cancel_fee_cents=late,
                           no_show_fee_cents=no_show)
        return made

    return run_write(ctx.db, work)


def update_service(ctx: Ctx, service_id: int, *, name: str | _Keep = KEEP,
                   minutes: int | _Keep = KEEP, price_cents: int | _Keep = KEEP,
                   colour: str | _Keep = KEEP, token_kind: str | _Keep = KEEP,
                   late_cancel_fee_cents: int | _Keep | None = KEEP,
                   no_show_fee_cents: int | _Keep | None = KEEP,
                   active: bool | _Keep = KEEP) -> Updated:
    """Change a service (``KEEP``: leave the field as it is). A new token kind name
    creates the kind; a fee of ``None`` follows the clinic default."""
    wanted: dict[str, object] = {}
    if not isinstance(name, _Keep):
        wanted["name"] = clean_name(name, "--name")
    if not isinstance(minutes, _Keep):
        wanted["duration_min"] = catalog.check_minutes(_whole(minutes, "--minutes"))
    if not isinstance(price_cents, _Keep):
        wanted["price_cents"] = catalog.check_price(_whole(price_cents, "--price"))
    if not isinstance(colour, _Keep):
        if not isinstance(colour, str):
            raise BadInput("--colour", "is missing")
        wanted["colour"] = check_colour(colour, 0)
    if not isinstance(token_kind, _Keep):
        wanted["token_kind"] = clean_name(token_kind, "--token-kind")
    if not isinstance(late_cancel_fee_cents, _Keep):
        wanted["late_cancel_fee_cents"] = _fee(late_cancel_fee_cents, "--late-cancel-fee")
    if not isinstance(no_show_fee_cents, _Keep):
        wanted["no_show_fee_cents"] = _fee(no_show_fee_cents, "--no-show-fee")
    if not isinstance(active, _Keep):
        wanted["active"] = _flag(active, "--active")

    def work() -> Updated:
        lock_row(ctx.db, Service, service_id)
        row = Service.get_or_none(Service.id == service_id)
        if row is None:
            raise NotFound(f"--service: no service with id {service_id}")
        current = _service_fields(row)
        changes = {k: v for k, v in wanted.items() if current[k] != v}
        if "name" in changes:
            _unique_name(Service, str(changes["name"]), "service", except_id=service_id)
        if "token_kind" in changes:
            kind = str(changes.pop("token_kind"))
            if search_key(kind) != search_key(str(current["token_kind"])):
                if Appointment.select().where(Appointment.service == service_id).exists():
                    raise BadInput("--token-kind", f"stays {current['token_kind']!r}: "
                                   f"{row.name} has visits booked with it; add a new "
                                   "service for the other kind and deactivate this one")
                kind_id = catalog.token_kind_id(kind, create=True)
                changes["token_kind"] = str(TokenKind.get_by_id(kind_id).name)
                return _save(ctx, "service", row, current, changes, kind_id)
        return _save(ctx, "service", row, current, changes)

    return run_write(ctx.db, work)


def _service_fields(row: Service) -> dict[str, object]:
    return {"name": row.name, "duration_min": int(row.duration_min),
            "price_cents": int(row.price_cents), "colour": row.colour,
            "token_kind": str(TokenKind.get_by_id(row.token_kind_id).name),
            "late_cancel_fee_cents": _cents(row.late_cancel_fee_cents),
            "no_show_fee_cents": _cents(row.no_show_fee_cents), "active": bool(row.active)}


# -- packages --------------------------------------------------------------------------


def update_package(ctx: Ctx, package_id: int, *, name: str | _Keep = KEEP,
                   token_kind: str | _Keep = KEEP, tokens: int | _Keep = KEEP,
                   price_cents: int | _Keep = KEEP, expires_days: int | _Keep | None = KEEP,
                   monthly: bool | _Keep = KEEP, active: bool | _Keep = KEEP) -> Updated:
    """Change a package (``KEEP``: leave the field as it is; ``expires_days=None``: the
    tokens never expire). Its token kind and ``monthly`` are fixed once it was sold."""
    wanted: dict[str, object] = {}
    if not isinstance(name, _Keep):
        wanted["name"] = clean_name(name, "--name")
    if not isinstance(token_kind, _Keep):
        wanted["token_kind"] = clean_name(token_kind, "--token-kind")
    if not isinstance(tokens, _Keep):
        count = _whole(tokens, "--tokens")
        if not 1 <= count <= MAX_PACKAGE_TOKENS:
            raise BadInput("--tokens", f"must be between 1 and {MAX_PACKAGE_TOKENS}")
        wanted["tokens"] = count
    if not isinstance(price_cents, _Keep):
        wanted["price_cents"] = catalog.check_price(_whole(price_cents, "--price"))
    if not isinstance(expires_days, _Keep):
        if expires_days is not None and not 1 <= _whole(expires_days, "--expires-days") \
                <= MAX_EXPIRY_DAYS:
            raise BadInput("--expires-days", f"must be between 1 and {MAX_EXPIRY_DAYS}")
        wanted["expires_days"] = expires_days
    if not isinstance(monthly, _Keep):
        wanted["monthly"] = _flag(monthly, "--monthly")
    if not isinstance(active, _Keep):
        wanted["active"] = _flag(active, "--active")

    def work() -> Updated:
        lock_row(ctx.db, Package, package_id)
        row = Package.get_or_none(Package.id == package_id)
        if row is None:
            raise NotFound(f"--package: no package with id {package_id}")
        kind = TokenKind.get_by_id(row.token_kind_id)
        current: dict[str, object] = {
            "name": row.name, "token_kind": str(kind.name), "tokens": int(row.tokens),
            "price_cents": int(row.price_cents),
            "expires_days": None if row.expires_days is None else int(row.expires_days),
            "monthly": bool(row.monthly), "active": bool(row.active)}
        changes = {k: v for k, v in wanted.items() if current[k] != v}
        if "name" in changes:
            _unique_name(Package, str(changes["name"]), "package", except_id=package_id)
        kind_id: int | None = None
        if "token_kind" in changes:
            wanted_kind = str(changes.pop("token_kind"))
            if search_key(wanted_kind) != search_key(str(kind.name)):
                _check_unsold(row, "--token-kind", f"stays {kind.name!r}")
                kind_id = catalog.token_kind_id(wanted_kind, create=False)
                changes["token_kind"] = str(TokenKind.get_by_id(kind_id).name)
        if "monthly" in changes:
            _check_unsold(row, "--monthly", "stays a membership" if row.monthly
                          else "stays a one-off package")
        return _save(ctx, "package", row, current, changes, kind_id)

    return run_write(ctx.db, work)


def _check_unsold(row: Package, field_name: str, stays: str) -> None:
    if package_sold(row):
        raise BadInput(field_name, f"{stays}: {row.name} was sold already; add a new "
                       "package and deactivate this one")


def package_sold(row: Package) -> bool:
    """Whether the package was ever sold (at a sale or a check-in): it started a
    membership, or a grant of its kind carries its sale memo under one of the names
    and token counts it has had (the audit log remembers the earlier ones)."""
    if Membership.select().where(Membership.package == row.id).exists():
        return True
    memos = _sale_memos(row.name, row.tokens, _past_values([int(row.id)]).get(int(row.id), ()))
    return bool(Line.select(Line.id).join(Account, on=(Line.account == Account.id))
                .where(Account.kind == "patient_tokens",
                       Account.token_kind == row.token_kind_id,
                       Line.amount < 0, Line.memo.in_(sorted(memos)))
                .exists())


def _sale_memos(name: str, tokens: int, past: Iterable[dict[str, object]]) -> set[str]:
    """The memo a sale of the package writes (``sales.grant_tokens``), for every name
    and token count it has had."""
    names, counts = {str(name)}, {int(tokens)}
    for before in past:
        old_name, old_tokens = before.get("name"), before.get("tokens")
        if isinstance(old_name, str):
            names.add(old_name)
        if isinstance(old_tokens, int):
            counts.add(old_tokens)
    return {f"{n} ({t} tokens)" for n in names for t in counts}


def _past_values(package_ids: list[int]) -> dict[int, tuple[dict[str, object], ...]]:
    """The "before" values of each package's audited updates (1 query)."""
    out: dict[int, list[dict[str, object]]] = {}
    if not package_ids:
        return {}
    for pid, before in rows(Audit.select(Audit.entity_id, Audit.before)
                            .where(Audit.entity == "package", Audit.action == "update",
                                   Audit.entity_id.in_(package_ids),
                                   Audit.before.is_null(False))):
        loaded = json.loads(before)
        if isinstance(loaded, dict):
            out.setdefault(int(pid), []).append(loaded)
    return {pid: tuple(items) for pid, items in out.items()}


def _grant_memos() -> set[tuple[str, int]]:
    """(memo, token kind id) of every token grant to a patient that reads like a
    package sale (1 query)."""
    return {(str(m), int(k)) for m, k in rows(
        Line.select(Line.memo, Account.token_kind).distinct()
        .join(Account, on=(Line.account == Account.id))
        .where(Account.kind == "patient_tokens", Line.amount < 0,
               Line.memo.endswith(" tokens)")))}


# -- shared ----------------------------------------------------------------------------


def _save(ctx: Ctx, entity: str, row: Practitioner | Service | Package,
          current: dict[str, object], changes: dict[str, object],
          kind_id: int | None = None) -> Updated:
    """Write the changed fields of ``row`` (``kind_id``: its new token kind, whose name
    is in ``changes``) and audit them; nothing when none changed."""
    if not changes:
        return Updated(entity, int(row.id), str(row.name))
    model = type(row)
    values = {getattr(model, k): v for k, v in changes.items() if k != "token_kind"}
    if kind_id is not None:
        values[getattr(model, "token_kind")] = kind_id  # noqa: B009 (not on Practitioner)
    model.update(values).where(model.id == row.id).execute()
    before = {k: current[k] for k in changes}
    audit.record(ctx, entity, int(row.id), "update", before=before, after=dict(changes))
    return Updated(entity, int(row.id), str(changes.get("name", row.name)), before,
                   dict(changes))


def _whole(value: object, field_name: str) -> int:
    if type(value) is not int:
        raise BadInput(field_name, "must be a whole number")
    return value


def _flag(value: object, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(field_name, "must be true or false")
    return value


def _fee(value: int | None, field_name: str) -> int | None:
    """A service's own fee, or None for the clinic default."""
    if value is None:
        return None
    return catalog.check_price(_whole(value, field_name), field_name)
