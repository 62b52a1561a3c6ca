"""What a receipt says, as plain data (built by services, drawn by ``receipt.py``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ClinicHeader:
    name: str
    address: str = ""
    phone: str = ""
    tax_id: str = ""
    footer: str = ""
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    description: str
    amount_cents: int | None      # None: paid with tokens (see ``tokens``)
    tokens: int = 0
    token_kind: str = ""


@dataclass(frozen=True, slots=True)
class Payment:
    method: str                   # cash, card, check, other, credit
    amount_cents: int             # negative: paid out to the patient (refund)
    reference: str = ""


@dataclass(frozen=True, slots=True)
class ReceiptData:
    clinic: ClinicHeader
    title: str                    # "Receipt", "REVERSAL of #12", ...
    receipt_no: int | None
    txn_id: int
    created_at: dt.datetime       # local time
    staff: str
    patient_name: str
    patient_id: int | None
    lines: tuple[ReceiptLine, ...]
    payments: tuple[Payment, ...]
    total_cents: int
    owed_cents: int = 0           # left on the patient's account by this visit
    credit_added_cents: int = 0
    change_note: str = ""
    tokens_after: dict[str, int] = field(default_factory=dict)
    credit_after_cents: int = 0
    copy: bool = False
    memo: str = ""
    paper: str = "roll80"
