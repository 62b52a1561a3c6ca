"""Drawing a receipt: an 80 mm roll of the length it needs, or a Letter/A4 page."""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desk.core.money import format_money
from desk.printing import fonts
from desk.printing.receipt_data import ReceiptData

METHOD_LABELS = {"cash": "Cash", "card": "Card", "check": "Check", "other": "Other",
                 "credit": "From credit"}


@dataclass(frozen=True, slots=True)
class _Row:
    left: str
    right: str = ""
    bold: bool = False
    size: float = 8.5
    centre: bool = False
    rule: bool = False


def _rows(data: ReceiptData) -> list[_Row]:
    cur = data.clinic.currency

    def money(cents: int) -> str:
        return format_money(cents, cur)

    out = [_Row(data.clinic.name or "Receipt", bold=True, size=11, centre=True)]
    out += [_Row(text, centre=True) for text in (data.clinic.address, data.clinic.phone,
                                                 data.clinic.tax_id) if text]
    out.append(_Row("", rule=True))
    title = data.title + (f" #{data.receipt_no}" if data.receipt_no else "")
    out.append(_Row(title, bold=True, size=10, centre=True))
    if data.copy:
        out.append(_Row("COPY", bold=True, size=10, centre=True))
    out.append(_Row(f"{data.created_at:%Y-%m-%d %H:%M}", f"staff: {data.staff}"))
    if data.patient_name:
        out.append(_Row(f"Patient: {data.patient_name}", bold=True))
    if data.memo:
        out.append(_Row(data.memo))
    out.append(_Row("", rule=True))
    for line in data.lines:
        if line.amount_cents is None:
            plural = "s" if line.tokens != 1 else ""
            out.append(_Row(line.description, f"{line.tokens} {line.token_kind} token{plural}"))
        else:
            out.append(_Row(line.description, money(line.amount_cents)))
    out.append(_Row("Total", money(data.total_cents), bold=True))
    out.append(_Row("", rule=True))
    for pay in data.payments:
        label = METHOD_LABELS.get(pay.method, pay.method.title())
        if pay.amount_cents < 0:
            label = f"{label} paid out"
        if pay.reference:
            label = f"{label} ({pay.reference})"
        out.append(_Row(label, money(abs(pay.amount_cents))))
    if data.change_note:
        out.append(_Row(f"Cash {data.change_note}"))
    if data.owed_cents:
        out.append(_Row("Left owed", money(data.owed_cents), bold=True))
    if data.credit_added_cents:
        out.append(_Row("Added to credit", money(data.credit_added_cents)))
    out.append(_Row("", rule=True))
    out.append(_Row("Balance after this visit", bold=True))
    for kind, count in sorted(data.tokens_after.items()):
        out.append(_Row(f"  {kind} tokens", str(count)))
    if data.credit_after_cents > 0:
        out.append(_Row("  Credit", money(data.credit_after_cents)))
    elif data.credit_after_cents < 0:
        out.append(_Row("  Owed", money(-data.credit_after_cents), bold=True))
    if not data.tokens_after and not data.credit_after_cents:
        out.append(_Row("  No tokens, no credit"))
    if data.clinic.footer:
        out.append(_Row("", rule=True))
        out.append(_Row(data.clinic.footer, centre=True))
    out.append(_Row(f"Transaction {data.txn_id}", centre=True, size=7))
    return out


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    words, lines, current = text.split(), [], ""
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
    if data.paper == "roll80":
        width, margin = 80 * mm, 4 * mm
    else:
        width, margin = (LETTER if data.paper == "letter" else A4)[0], 25 * mm
    column = min(width - 2 * margin, 90 * mm)
    left = margin if data.paper == "roll80" else (width - column) / 2
    laid: list[tuple[_Row, list[str], float]] = []
    for row in _rows(data):
        font = bold if row.bold else regular
        room = column - (fonts.width(row.right, font, row.size) + 3 * mm if row.right else 0)
        lines = _wrap(row.left, font, row.size, room) if not row.rule else [""]
        laid.append((row, lines, row.size * 1.35 * len(lines) + (2 if row.rule else 0)))
    content = sum(h for _, _, h in laid)
    height = content + 2 * margin if data.paper == "roll80" else \
        (LETTER if data.paper == "letter" else A4)[1]
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=regular)
    pdf.setTitle(f"{data.title} {data.receipt_no or ''}".strip())
    y = height - margin
    for row, lines, h in laid:
        font = bold if row.bold else regular
        if row.rule:
            pdf.setLineWidth(0.5)
            pdf.setDash(1, 2)
            pdf.line(left, y - h / 2, left + column, y - h / 2)
            y -= h
            continue
        line_y = y - row.size
        for index, text in enumerate(lines):
            if row.centre:
                fonts.draw(pdf, left + column / 2, line_y, text, font, row.size, "centre")
            else:
                fonts.draw(pdf, left, line_y, text, font, row.size)
            if index == 0 and row.right:
                fonts.draw(pdf, left + column, line_y, row.right, font, row.size, "right")
            line_y -= row.size * 1.35
        y -= h
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
