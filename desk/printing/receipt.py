"""Drawing a receipt: an 80 mm roll of the length it needs, or a Letter/A4 page.

Sections, each under a dotted rule: the clinic, what the receipt is (number, date,
staff, patient), what was charged, how it was paid (tokens used, credit, cash with
the cash handed over and the change given, card...), and the patient's balances
right after it. A reversal shows the amounts it takes back as negative and says
what goes back where; a reprint carries a boxed COPY.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desk.core.money import format_money
from desk.printing import fonts
from desk.printing.receipt_data import ReceiptData

METHOD_LABELS = {"cash": "Cash", "card": "Card", "check": "Check", "other": "Other",
                 "credit": "From credit"}
#: What goes back on a reversal, by method (what the clinic gives back).
_RETURNED = {"credit": "Returned to credit"}
_CHANGE = re.compile(r"given (?P<given>.+), change (?P<change>.+)")
_WORDS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}|\S+")
_LINE_GAP = 1.35          # line height as a multiple of the font size

_Money = Callable[[int], str]


@dataclass(frozen=True, slots=True)
class _Row:
    left: str
    right: str = ""
    bold: bool = False
    size: float = 8.5
    centre: bool = False
    rule: bool = False
    indent: float = 0.0   # in points, for sub-rows such as the change given
    boxed: bool = False   # drawn in a box (COPY)


def _is_reversal(data: ReceiptData) -> bool:
    return data.title.startswith("REVERSAL")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if abs(count) == 1 else 's'}"


def _header(data: ReceiptData) -> list[_Row]:
    out = [_Row(data.clinic.name or "Receipt", bold=True, size=11, centre=True)]
    out += [_Row(text, centre=True) for text in (data.clinic.address, data.clinic.phone,
                                                 data.clinic.tax_id) if text]
    out.append(_Row("", rule=True))
    number = f"#{data.receipt_no}" if data.receipt_no else ""
    if _is_reversal(data):
        # "REVERSAL of #2" is the receipt it takes back; its own number goes below.
        out.append(_Row(data.title, bold=True, size=10, centre=True))
        if number:
            out.append(_Row(f"Receipt {number}", centre=True))
    else:
        out.append(_Row(f"{data.title} {number}".strip(), bold=True, size=10, centre=True))
    if data.copy:
        out.append(_Row("COPY", bold=True, size=10, centre=True, boxed=True))
    out.append(_Row(f"{data.created_at:%Y-%m-%d %H:%M}", f"staff: {data.staff}"))
    if data.patient_name:
        out.append(_Row(f"Patient: {data.patient_name}", bold=True))
    if data.memo:
        out.append(_Row(data.memo))
    return out


def _charges(data: ReceiptData, money: _Money) -> list[_Row]:
    """What was charged. A refund reads as positive amounts paid out; a reversal as
    the negative of what it takes back."""
    reversal = _is_reversal(data)
    refund = not reversal and data.total_cents < 0
    out = []
    for line in data.lines:
        if line.amount_cents is None:
            out.append(_Row(line.description, _plural(line.tokens, f"{line.token_kind} token")))
        else:
            cents = -line.amount_cents if reversal else line.amount_cents
            out.append(_Row(line.description, money(abs(cents) if refund else cents)))
    if any(line.amount_cents is not None for line in data.lines):
        if reversal:
            out.append(_Row("Total reversed", money(-data.total_cents), bold=True))
        elif refund:
            out.append(_Row("Total refunded", money(-data.total_cents), bold=True))
        else:
            out.append(_Row("Total", money(data.total_cents), bold=True))
    return out


def _tenders(data: ReceiptData, money: _Money) -> list[_Row]:
    """How it was paid: tokens used, each tender (cash with the change), credit."""
    reversal = _is_reversal(data)
    out = []
    for line in data.lines:
        if line.amount_cents is None and line.tokens:
            what = "returned" if reversal else "used"
            out.append(_Row(f"{line.token_kind} token{'' if line.tokens == 1 else 's'} {what}",
                            str(line.tokens)))
    for pay in data.payments:
        label = METHOD_LABELS.get(pay.method, pay.method.title())
        if reversal:
            label = _RETURNED.get(pay.method) or (
                f"{label} returned" if pay.amount_cents > 0 else f"{label} taken back")
        elif pay.amount_cents < 0:
            label = f"{label} paid out"
        if pay.reference:
            label = f"{label} ({pay.reference})"
        out.append(_Row(label, money(abs(pay.amount_cents))))
    if data.change_note and not reversal:
        found = _CHANGE.fullmatch(data.change_note)
        if found:
            out.append(_Row("Cash handed over", found["given"], indent=8))
            out.append(_Row("Change given", found["change"], bold=True, indent=8))
        else:
            out.append(_Row(data.change_note, indent=8))
    if data.owed_cents:
        label = "Owed amount cancelled" if reversal else "Left owed"
        out.append(_Row(label, money(data.owed_cents), bold=not reversal))
    if data.credit_added_cents:
        label = "Taken back from credit" if reversal else "Added to credit"
        out.append(_Row(label, money(data.credit_added_cents)))
    return out


def _balances(data: ReceiptData, money: _Money) -> list[_Row]:
    out = [_Row("Balance after this receipt", bold=True)]
    for kind, count in sorted(data.tokens_after.items()):
        out.append(_Row(f"{kind} tokens left", str(count)))
    if data.credit_after_cents > 0:
        out.append(_Row("Credit", money(data.credit_after_cents)))
    elif data.credit_after_cents < 0:
        out.append(_Row("Owed", money(-data.credit_after_cents), bold=True))
    if not data.tokens_after and not data.credit_after_cents:
        out.append(_Row("No tokens, no credit"))
    return out


def _rows(data: ReceiptData) -> list[_Row]:
    money: _Money = partial(format_money, currency=data.clinic.currency)
    rule = _Row("", rule=True)
    out = _header(data)
    for section in (_charges(data, money), _tenders(data, money)):
        if section:
            out += [rule, *section]
    if data.patient_id is not None or data.tokens_after or data.credit_after_cents:
        out += [rule, *_balances(data, money)]
    if data.clinic.footer:
        out += [rule, _Row(data.clinic.footer, centre=True)]
    out.append(_Row(f"Transaction {data.txn_id}", centre=True, size=7))
    return out


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    # A date and its time stay together ("2026-03-03 10:00").
    words, lines, current = _WORDS.findall(text), [], ""
    for word in words:
        trial = f"{current} {word}".strip()
        if fonts.width(trial, font, size) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    return [*lines, current] if current else [""]


def render_receipt(data: ReceiptData) -> bytes:
    """The receipt as PDF bytes, on ``data.paper`` (roll80, letter or a4)."""
    regular, bold = fonts.register()
    roll = data.paper == "roll80"
    if roll:
        width, margin, column, scale = 80 * mm, 4 * mm, 72 * mm, 1.0
    else:
        width, margin = (LETTER if data.paper == "letter" else A4)[0], 25 * mm
        column, scale = 110 * mm, 1.2   # a page receipt: wider, larger, still one column
    left = margin if roll else (width - column) / 2
    laid: list[tuple[_Row, list[str], float, float]] = []
    for row in _rows(data):
        font, size = (bold if row.bold else regular), row.size * scale
        if row.rule:
            laid.append((row, [""], size, 10.0 * scale))
            continue
        room = column - row.indent - (fonts.width(row.right, font, size) + 3 * mm
                                      if row.right else 0)
        lines = _wrap(row.left, font, size, room)
        extra = 4.0 * scale if row.boxed else 0.0
        laid.append((row, lines, size, size * _LINE_GAP * len(lines) + extra))
    content = sum(h for _, _, _, h in laid)
    height = content + 2 * margin if roll else (LETTER if data.paper == "letter" else A4)[1]
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=regular)
    pdf.setTitle(f"{data.title} {data.receipt_no or ''}".strip())
    pdf.setLineWidth(0.5)
    pdf.setDash(1, 2)
    y = height - margin
    for row, lines, size, h in laid:
        if row.rule:
            pdf.line(left, y - h / 2, left + column, y - h / 2)
            y -= h
            continue
        font = bold if row.bold else regular
        line_y = y - size - (2.0 * scale if row.boxed else 0.0)
        for index, text in enumerate(lines):
            if row.centre:
                fonts.draw(pdf, left + column / 2, line_y, text, font, size, "centre")
            else:
                fonts.draw(pdf, left + row.indent, line_y, text, font, size)
            if index == 0 and row.right:
                fonts.draw(pdf, left + column, line_y, row.right, font, size, "right")
            line_y -= size * _LINE_GAP
        if row.boxed:
            half = fonts.width(lines[0], font, size) / 2 + 6 * scale
            pdf.setDash()
            pdf.setLineWidth(1.2)
            pdf.rect(left + column / 2 - half, y - h + 1, 2 * half, h - 2)
            pdf.setLineWidth(0.5)
            pdf.setDash(1, 2)
        y -= h
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
