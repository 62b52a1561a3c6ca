"""Table rows. No business logic here: rules live in core, use cases in services.

The schema itself is created by numbered migrations (``migrations.py``); these
models mirror it, and a test checks that they agree.
"""

from __future__ import annotations

import datetime as dt

from peewee import (
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
    name = TextField(unique=True)
    duration_min = IntegerField()
    price_cents = BigIntegerField()
    token_kind = ForeignKeyField(TokenKind, backref="services")
    colour = TextField(default="#4a90d9")
    active = BooleanField(default=True)
    late_cancel_fee_cents = BigIntegerField(null=True)
    no_show_fee_cents = BigIntegerField(null=True)


class Package(BaseModel):
    name = TextField(unique=True)
    token_kind = ForeignKeyField(TokenKind, backref="packages")
    tokens = IntegerField()
    price_cents = BigIntegerField()
    expires_days = IntegerField(null=True)
    monthly = BooleanField(default=False)
    active = BooleanField(default=True)


class Household(BaseModel):
    name = TextField()


class Patient(BaseModel):
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


class Account(BaseModel):
    """A balance holder. ``balance`` is a projection of the lines (debit-positive)."""

    code = TextField(unique=True)
    unit = TextField()
    kind = TextField()
    patient = ForeignKeyField(Patient, null=True, backref="accounts")
    token_kind = ForeignKeyField(TokenKind, null=True)
    balance = BigIntegerField(default=0)


class Txn(BaseModel):
    """One immutable ledger event. Never updated or deleted (triggers enforce it)."""

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
    txn = ForeignKeyField(Txn, backref="lines")
    account = ForeignKeyField(Account, backref="lines")
    amount = BigIntegerField()
    memo = TextField(default="")


class Lot(BaseModel):
    """One grant of tokens. Only ``remaining`` (a projection of lot moves) may change."""

    txn = ForeignKeyField(Txn, backref="lots")
    account = ForeignKeyField(Account, backref="lots")
    quantity = IntegerField()
    remaining = IntegerField()
    unit_value_cents = BigIntegerField()
    expires_on = DateField(null=True)


class LotMove(BaseModel):
    """Tokens taken from (negative) or given back to (positive) a lot by a transaction."""

    txn = ForeignKeyField(Txn, backref="lot_moves")
    lot = ForeignKeyField(Lot, backref="moves")
    quantity = IntegerField()
    value_cents = BigIntegerField()


class Counter(BaseModel):
    name = CharField(primary_key=True, max_length=32)
    value = BigIntegerField()


ALL_MODELS: list[type[BaseModel]] = [
    SchemaVersion, Setting, Audit, TokenKind, Practitioner, Service, Package, Household,
    Patient, Account, Txn, Line, Lot, LotMove, Counter,
]
LEDGER_TABLES = ("txn", "line", "lot_move")
