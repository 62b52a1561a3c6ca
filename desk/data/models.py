"""Table rows. No business logic here: rules live in core, use cases in services.

The schema itself is created by numbered migrations (``migrations.py``); these
models mirror it, and a test checks that they agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()


def utcnow() -> dt.datetime:
    """Naive UTC now (both backends store timestamps without a zone)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(Model):
    if TYPE_CHECKING:  # peewee adds these at run time; tell the type checker
        id: AutoField

    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    name = TextField()
    applied_at = DateTimeField()


class Setting(BaseModel):
    key = CharField(primary_key=True, max_length=64)
    value = TextField()


class Audit(BaseModel):
    at = DateTimeField(default=utcnow)
    staff = TextField()
    workstation = TextField()
    entity = TextField()
    entity_id = BigIntegerField(null=True)
    action = TextField()
    before = TextField(null=True)
    after = TextField(null=True)


class TokenKind(BaseModel):
    name = TextField(unique=True)


class Practitioner(BaseModel):
    name = TextField(unique=True)
    active = BooleanField(default=True)
    sort_order = IntegerField(default=0)


class Service(BaseModel):
    if TYPE_CHECKING:
        token_kind_id: int

    name = TextField(unique=True)
    duration_min = IntegerField()
    price_cents = BigIntegerField()
    token_kind = ForeignKeyField(TokenKind, backref="services")
    colour = TextField(default="#4a90d9")
    active = BooleanField(default=True)
    late_cancel_fee_cents = BigIntegerField(null=True)
    no_show_fee_cents = BigIntegerField(null=True)


class Package(BaseModel):
    if TYPE_CHECKING:
        token_kind_id: int

    name = TextField(unique=True)
    token_kind = ForeignKeyField(TokenKind, backref="packages")
    tokens = IntegerField()
    price_cents = BigIntegerField()
    expires_days = IntegerField(null=True)
    monthly = BooleanField(default=False)
    active = BooleanField(default=True)


class Household(BaseModel):
    name = TextField()
    #: Members spend one credit balance and one set of tokens (household accounts).
    shared_wallet = BooleanField(default=False)


class Patient(BaseModel):
    if TYPE_CHECKING:
        household_id: int | None
        merged_into_id: int | None

    name = TextField()
    search_key = TextField(index=True)
    phone = TextField(default="")
    phone_digits = TextField(default="", index=True)
    email = TextField(default="")
    dob = DateField(null=True)
    notes = TextField(default="")
    household = ForeignKeyField(Household, null=True, backref="members")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)
    #: A duplicate merged into another patient: inactive, its history shown there.
    merged_into = ForeignKeyField("self", null=True, backref="merged")


class Account(BaseModel):
    """A balance holder. ``balance`` is a projection of the lines (debit-positive)."""

    if TYPE_CHECKING:
        patient_id: int | None
        token_kind_id: int | None
        household_id: int | None

    code = TextField(unique=True)
    unit = TextField()
    kind = TextField()
    patient = ForeignKeyField(Patient, null=True, backref="accounts")
    #: Set instead of ``patient`` for a household's shared wallet.
    household = ForeignKeyField(Household, null=True, backref="accounts")
    token_kind = ForeignKeyField(TokenKind, null=True)
    balance = BigIntegerField(default=0)


class Txn(BaseModel):
    """One immutable ledger event. Never updated or deleted (triggers enforce it)."""

    if TYPE_CHECKING:
        patient_id: int | None
        reverses_id: int | None

    kind = TextField()
    idem_key = TextField(unique=True, null=True)
    request_hash = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    staff = TextField()
    workstation = TextField()
    memo = TextField(default="")
    patient = ForeignKeyField(Patient, null=True, backref="txns")
    appointment_id = BigIntegerField(null=True)
    reverses = ForeignKeyField("self", null=True, unique=True, backref="reversed_by")
    receipt_no = BigIntegerField(null=True, unique=True)
    effective_on = DateField(null=True)


class Line(BaseModel):
    if TYPE_CHECKING:
        txn_id: int
        account_id: int

    txn = ForeignKeyField(Txn, backref="lines")
    account = ForeignKeyField(Account, backref="lines")
    amount = BigIntegerField()
    memo = TextField(default="")


class Lot(BaseModel):
    """One grant of tokens. Only ``remaining`` (a projection of lot moves) may change."""

    if TYPE_CHECKING:
        txn_id: int
        account_id: int

    txn = ForeignKeyField(Txn, backref="lots")
    account = ForeignKeyField(Account, backref="lots")
    quantity = IntegerField()
    remaining = IntegerField()
    unit_value_cents = BigIntegerField()
    expires_on = DateField(null=True)


class LotMove(BaseModel):
    """Tokens taken from (negative) or given back to (positive) a lot by a transaction."""

    if TYPE_CHECKING:
        txn_id: int
        lot_id: int

    txn = ForeignKeyField(Txn, backref="lot_moves")
    lot = ForeignKeyField(Lot, backref="moves")
    quantity = IntegerField()
    value_cents = BigIntegerField()


class Appointment(BaseModel):
    """A booking. Mutable (status, time), every change audited; money lives in txns."""

    if TYPE_CHECKING:
        patient_id: int
        practitioner_id: int
        service_id: int
        checkin_txn_id: int | None

    patient = ForeignKeyField(Patient, backref="appointments")
    practitioner = ForeignKeyField(Practitioner, backref="appointments")
    service = ForeignKeyField(Service)
    starts_at = DateTimeField()
    ends_at = DateTimeField()
    duration_min = IntegerField()
    note = TextField(default="")
    status = TextField(default="booked")
    checkin_txn = ForeignKeyField(Txn, null=True)
    idem_key = TextField(null=True, unique=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Hold(BaseModel):
    """A token (or amount) reserved for a booked visit (TigerBeetle's pending transfer)."""

    if TYPE_CHECKING:
        appointment_id: int
        account_id: int

    appointment = ForeignKeyField(Appointment, unique=True, backref="hold")
    account = ForeignKeyField(Account)
    quantity = BigIntegerField()
    status = TextField(default="open")
    created_at = DateTimeField(default=utcnow)
    closed_at = DateTimeField(null=True)


class Membership(BaseModel):
    if TYPE_CHECKING:
        patient_id: int
        package_id: int
        sale_txn_id: int

    patient = ForeignKeyField(Patient, backref="memberships")
    package = ForeignKeyField(Package)
    started_on = DateField()
    ended_on = DateField(null=True)
    sale_txn = ForeignKeyField(Txn)


class Renewal(BaseModel):
    if TYPE_CHECKING:
        membership_id: int
        txn_id: int

    membership = ForeignKeyField(Membership, backref="renewals")
    period = TextField()
    txn = ForeignKeyField(Txn)


class Counter(BaseModel):
    name = CharField(primary_key=True, max_length=32)
    value = BigIntegerField()


ALL_MODELS: list[type[BaseModel]] = [
    SchemaVersion, Setting, Audit, TokenKind, Practitioner, Service, Package, Household,
    Patient, Account, Txn, Line, Lot, LotMove, Counter, Appointment, Hold, Membership, Renewal,
]
LEDGER_TABLES = ("txn", "line", "lot_move")


def rows(query: Any) -> Iterable[tuple[Any, ...]]:
    """A query's rows as plain tuples (typed for mypy; peewee's stubs say models)."""
    return query.tuples()  # type: ignore[no-any-return]
