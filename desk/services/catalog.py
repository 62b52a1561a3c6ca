"""Practitioners, services, token kinds and packages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from desk.core.errors import BadInput, NotFound
from desk.core.money import MAX_CENTS
from desk.core.text import clean_name, search_key
from desk.data.models import Package, Practitioner, Service, TokenKind
from desk.data.tx import run_write
from desk.services import audit
from desk.services.context import Ctx

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_COLOURS = ("#4a90d9", "#50b37a", "#e0a030", "#b36ad9", "#d9534f", "#2ab3b3",
                   "#8c7853", "#6a7fd9")


@dataclass(frozen=True, slots=True)
class Created:
    id: int
    name: str


def _unique_name(model: type[Practitioner] | type[Service] | type[Package], name: str,
                 what: str, *, except_id: int | None = None) -> None:
    """Refuse ``name`` when another row (not ``except_id``) has it, ignoring case and
    accents."""
    key = search_key(name)
    for row in model.select(model.id, model.name):
        if search_key(row.name) == key and row.id != except_id:
            raise BadInput("--name", f"a {what} named {row.name!r} already exists (id {row.id})")


def token_kind_id(name: str, *, create: bool) -> int:
    """The id of a token kind by name (case- and accent-insensitive)."""
    clean = clean_name(name, "--token-kind")
    row = TokenKind.get_or_none(TokenKind.name == clean)
    if row is None:
        key = search_key(clean)
        row = next((k for k in TokenKind.select() if search_key(k.name) == key), None)
    if row is not None:
        return int(row.id)
    if not create:
        known = ", ".join(k.name for k in TokenKind.select().order_by(TokenKind.name))
        raise NotFound(f"--token-kind: no token kind {clean!r}; "
                       f"known kinds: {known or 'none yet'}")
    return int(TokenKind.create(name=clean).id)


def add_practitioner(ctx: Ctx, name: str) -> Created:
    clean = clean_name(name, "--name")

    def work() -> Created:
        _unique_name(Practitioner, clean, "practitioner")
        order = Practitioner.select().count()
        row = Practitioner.create(name=clean, sort_order=order)
        audit.record(ctx, "practitioner", row.id, "create", after={"name": clean})
        return Created(int(row.id), clean)

    return run_write(ctx.db, work)


def check_colour(colour: str | None, index: int) -> str:
    if colour is None:
        return DEFAULT_COLOURS[index % len(DEFAULT_COLOURS)]
    if not _COLOUR.fullmatch(colour.strip()):
        raise BadInput("--colour", f"{colour!r} is not a colour like #4a90d9")
    return colour.strip().lower()


def check_minutes(duration_min: int, field: str = "--minutes") -> int:
    """A service's length: 1 minute to a whole day."""
    if not 1 <= duration_min <= 1440:
        raise BadInput(field, "must be between 1 and 1440")
    return duration_min


def check_price(price_cents: int, field: str = "--price") -> int:
    """A catalog price: zero (a free service) up to the largest amount desk stores."""
    if not 0 <= price_cents <= MAX_CENTS:
        raise BadInput(field, "is out of range")
    return price_cents


def add_service(ctx: Ctx, name: str, duration_min: int, price_cents: int,
                token_kind: str | None = None, colour: str | None = None) -> Created:
    clean = clean_name(name, "--name")
    check_minutes(duration_min)
    check_price(price_cents)
    kind_name = clean_name(token_kind, "--token-kind") if token_kind is not None else clean

    def work() -> Created:
        _unique_name(Service, clean, "service")
        kind_id = token_kind_id(kind_name, create=True)
        row = Service.create(name=clean, duration_min=duration_min, price_cents=price_cents,
                             token_kind=kind_id,
                             colour=check_colour(colour, Service.select().count()))
        audit.record(ctx, "service", row.id, "create",
                     after={"name": clean, "duration_min": duration_min,
                            "price_cents": price_cents, "token_kind": kind_name})
        return Created(int(row.id), clean)

    return run_write(ctx.db, work)


def add_package(ctx: Ctx, name: str, token_kind: str, tokens: int, price_cents: int,
                expires_days: int | None = None, monthly: bool = False) -> Created:
    clean = clean_name(name, "--name")
    if not 1 <= tokens <= 100_000:
        raise BadInput("--tokens", "must be between 1 and 100000")
    check_price(price_cents)
    if expires_days is not None and not 1 <= expires_days <= 36600:
        raise BadInput("--expires-days", "must be between 1 and 36600")

    def work() -> Created:
        _unique_name(Package, clean, "package")
        kind_id = token_kind_id(token_kind, create=False)
        row = Package.create(name=clean, token_kind=kind_id, tokens=tokens,
                             price_cents=price_cents, expires_days=expires_days,
                             monthly=monthly)
        audit.record(ctx, "package", row.id, "create",
                     after={"name": clean, "tokens": tokens, "price_cents": price_cents,
                            "expires_days": expires_days, "monthly": monthly})
        return Created(int(row.id), clean)

    return run_write(ctx.db, work)


def _by_name(model: type[Service] | type[Package] | type[Practitioner], name: str,
             what: str) -> object:
    clean = clean_name(name, f"--{what}")
    row = model.get_or_none(model.name == clean)
    if row is None:
        key = search_key(clean)
        row = next((r for r in model.select() if search_key(r.name) == key), None)
    if row is None:
        known = ", ".join(r.name for r in model.select().where(model.active == True)  # noqa: E712
                          .order_by(model.name).limit(20))
        raise NotFound(f"--{what}: no {what} named {clean!r}; known: {known or 'none yet'}")
    return row


def package_by_name(name: str) -> Package:
    return _by_name(Package, name, "package")  # type: ignore[return-value]


def service_by_name(name: str) -> Service:
    return _by_name(Service, name, "service")  # type: ignore[return-value]


def practitioner_by_name(name: str) -> Practitioner:
    return _by_name(Practitioner, name, "practitioner")  # type: ignore[return-value]
