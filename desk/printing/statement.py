"""Drawing a patient statement on Letter or A4: the clinic and the patient at the
top with a summary that adds up (previous balance, charges, payments, other
credits, balance), then every transaction of the period with a running balance
(the table's header row repeats on every page), the tokens left and their next
expiry, and "Page 2 of 3" at the foot of every page.

Every string goes through ``fonts.markup`` (Paragraph text) or ``fonts.draw``, so
accents, € and Chinese, Japanese or Korean names print with embedded fonts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import partial
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from desk.core.money import format_money
from desk.printing import fonts
from desk.printing.statement_data import StatementData, StatementEntry

_MARGIN = 14 * mm
_GREY = colors.Color(0.35, 0.35, 0.35)
_RULE = colors.Color(0.6, 0.6, 0.6)
_SHADE = colors.Color(0.93, 0.93, 0.93)
#: Table columns: title, share of the fixed width (points on Letter), right-aligned.
_COLUMNS = (("Date", 52, False), ("Description", 0, False), ("Receipt", 40, True),
            ("Charges", 54, True), ("Paid", 54, True), ("Credit +/-", 58, True),
            ("Tokens +/-", 70, False), ("Balance", 58, True))
#: "2026-03-05 16:00" stays on one line (a no-break space between date and time).
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2})")


class _Styles:
    def __init__(self) -> None:
        self.regular, self.bold = fonts.register()
        base = ParagraphStyle("cell", fontName=self.regular, fontSize=8, leading=10,
                              alignment=TA_LEFT)
        self.cell = base
        self.cell_right = ParagraphStyle("cell_right", base, alignment=TA_RIGHT)
        self.head = ParagraphStyle("head", base, fontName=self.bold)
        self.head_right = ParagraphStyle("head_right", self.head, alignment=TA_RIGHT)
        self.strong = ParagraphStyle("strong", base, fontName=self.bold)
        self.strong_right = ParagraphStyle("strong_right", self.strong, alignment=TA_RIGHT)
        self.body = ParagraphStyle("body", base, fontSize=9, leading=12)
        self.body_right = ParagraphStyle("body_right", self.body, alignment=TA_RIGHT)
        self.small = ParagraphStyle("small", base, fontSize=7.5, leading=9.5, textColor=_GREY)
        self.label = ParagraphStyle("label", self.small, fontSize=8)
        self.clinic = ParagraphStyle("clinic", base, fontName=self.bold, fontSize=14,
                                     leading=17)
        self.title = ParagraphStyle("title", self.clinic, fontSize=18, leading=22,
                                    alignment=TA_RIGHT)
        self.name = ParagraphStyle("name", self.clinic, fontSize=12, leading=15)
        self.section = ParagraphStyle("section", base, fontName=self.bold, fontSize=10,
                                      leading=13, spaceBefore=8, spaceAfter=4)

    def p(self, text: str, style: ParagraphStyle) -> Paragraph:
        """Paragraph text with the CJK fallback (``text`` is plain, not markup)."""
        return Paragraph(fonts.markup(text, style.fontName), style)

    def lines(self, texts: list[str], style: ParagraphStyle) -> Paragraph:
        return Paragraph("<br/>".join(fonts.markup(t, style.fontName) for t in texts if t),
                         style)


def _font(st: _Styles) -> tuple[Any, ...]:
    """Plain (empty) cells draw with the embedded font too, never Helvetica."""
    return ("FONT", (0, 0), (-1, -1), st.regular, 8)


def _signed(money: Callable[[int], str], cents: int) -> str:
    return "" if cents == 0 else ("+" if cents > 0 else "") + money(cents)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _tokens(changes: dict[str, int], signed: bool = True) -> list[str]:
    return [f"{n:+d} {kind}" if signed else f"{n} {kind}" for kind, n in sorted(changes.items())
            if n]


def _header(data: StatementData, st: _Styles, width: float) -> list[Any]:
    clinic = [st.p(data.clinic.name, st.clinic)] if data.clinic.name else []
    clinic += [st.p(text, st.body) for text in (data.clinic.address, data.clinic.phone,
                                                data.clinic.tax_id) if text]
    meta = [st.p("STATEMENT", st.title), Spacer(1, 2),
            st.p(f"Period {data.first.isoformat()} to {data.last.isoformat()}", st.body_right),
            st.p(f"Issued {data.issued_on.isoformat()}", st.body_right),
            st.p(f"Patient no. {data.patient_id}", st.body_right)]
    top = Table([[clinic, meta]], colWidths=[width * 0.55, width * 0.45])
    top.setStyle(TableStyle([_font(st),("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                             ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                             ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [top, Spacer(1, 6 * mm)]


def _summary(data: StatementData, st: _Styles, money: Callable[[int], str]) -> list[list[Any]]:
    other = (data.closing_credit_cents - data.opening_credit_cents
             - (data.paid_cents - data.charges_cents))
    rows = [[st.p("Previous balance", st.body), st.p(money(data.opening_credit_cents),
                                                     st.body_right)],
            [st.p("Charges", st.body), st.p(money(data.charges_cents), st.body_right)],
            [st.p("Payments", st.body), st.p(money(data.paid_cents), st.body_right)]]
    if other:
        rows.append([st.p("Adjustments and transfers", st.body),
                     st.p(_signed(money, other), st.body_right)])
    closing = data.closing_credit_cents
    label, shown = (("Amount owed", -closing) if closing < 0 else
                    ("Credit on account", closing) if closing > 0 else ("Balance", 0))
    bold = ParagraphStyle("summary_bold", st.body, fontName=st.bold)
    bold_right = ParagraphStyle("summary_bold_right", bold, alignment=TA_RIGHT)
    rows.append([st.p(label, bold), st.p(money(shown), bold_right)])
    return rows


def _patient_block(data: StatementData, st: _Styles, width: float,
                   money: Callable[[int], str]) -> list[Any]:
    who = [st.p("Statement for", st.label), st.p(data.patient_name, st.name)]
    who += [st.p(text, st.body) for text in (data.patient_phone, data.patient_email) if text]
    summary = Table(_summary(data, st, money), colWidths=[width * 0.27, width * 0.15])
    summary.setStyle(TableStyle([_font(st),
        ("BOX", (0, 0), (-1, -1), 0.75, colors.black),
        ("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black),
        ("BACKGROUND", (0, -1), (-1, -1), _SHADE),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    block = Table([[who, summary]], colWidths=[width * 0.55, width * 0.45])
    block.setStyle(TableStyle([_font(st),("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [block, Spacer(1, 6 * mm)]


def _entry_row(entry: StatementEntry, st: _Styles, money: Callable[[int], str]) -> list[Any]:
    kind = f'<font name="{st.bold}">{fonts.markup(entry.kind, st.bold)}</font>'
    memo = fonts.markup(_DATE_TIME.sub("\\1\u00a0\\2", entry.memo), st.regular)
    return [st.p(f"{entry.at:%Y-%m-%d}", st.cell),
            Paragraph(kind + (f" — {memo}" if memo else ""), st.cell),
            st.p(str(entry.receipt_no or ""), st.cell_right),
            st.p(money(entry.charge_cents) if entry.charge_cents else "", st.cell_right),
            st.p(money(entry.paid_cents) if entry.paid_cents else "", st.cell_right),
            st.p(_signed(money, entry.credit_change_cents), st.cell_right),
            st.lines(_tokens(entry.token_changes), st.cell),
            st.p(money(entry.balance_cents), st.cell_right)]


def _transactions(data: StatementData, st: _Styles, width: float,
                  money: Callable[[int], str]) -> list[Any]:
    fixed = sum(w for _, w, _ in _COLUMNS)
    scale = min(1.0, (width - 120) / fixed)   # A4 is narrower: every column gives a little
    widths = [w * scale for _, w, _ in _COLUMNS]
    widths[1] = width - sum(widths)
    head = [st.p(title, st.head_right if right else st.head) for title, _, right in _COLUMNS]
    opening = [st.p(data.first.isoformat(), st.cell), st.p("Opening balance", st.strong),
               "", "", "", "", st.lines(_tokens(data.opening_tokens, signed=False), st.cell),
               st.p(money(data.opening_credit_cents), st.strong_right)]
    body = [_entry_row(entry, st, money) for entry in data.entries]
    if not body:
        body = [["", st.p("No transactions in this period.", st.cell), *[""] * 6]]
    closing = [st.p(data.last.isoformat(), st.cell), st.p("Closing balance", st.strong), "",
               st.p(money(data.charges_cents), st.strong_right),
               st.p(money(data.paid_cents), st.strong_right),
               st.p(_signed(money, data.closing_credit_cents - data.opening_credit_cents),
                    st.strong_right),
               st.lines(_tokens(data.closing_tokens, signed=False), st.cell),
               st.p(money(data.closing_credit_cents), st.strong_right)]
    table = Table([head, opening, *body, closing], colWidths=widths, repeatRows=1)
    last = len(body) + 2
    table.setStyle(TableStyle([_font(st),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
        ("LINEBELOW", (0, 1), (-1, last - 1), 0.25, _RULE),
        ("LINEABOVE", (0, last), (-1, last), 0.75, colors.black),
        ("LINEBELOW", (0, last), (-1, last), 0.75, colors.black)]))
    note = st.p("Balance is your credit with the clinic; a negative balance is an amount "
                "you owe. Credit +/- is how each transaction changed it.", st.small)
    return [st.p("Transactions", st.section), table, Spacer(1, 2 * mm), note]


def _tokens_left(data: StatementData, st: _Styles, width: float) -> list[Any]:
    head = [st.p("Tokens left", st.section)]
    if not data.tokens_left:
        return [*head, st.p(f"No tokens left on {data.last.isoformat()}.", st.body)]
    rows = [[st.p("Treatment", st.head), st.p("Tokens left", st.head_right),
             st.p("Next expiry", st.head)]]
    for left in data.tokens_left:
        expiry = "no expiry" if left.next_expiry is None else (
            f"{left.next_expiry.isoformat()} ({_plural(left.expiring, 'token')})")
        rows.append([st.p(left.kind, st.cell), st.p(str(left.count), st.cell_right),
                     st.p(expiry, st.cell)])
    table = Table(rows, colWidths=[width * 0.4, width * 0.15, width * 0.3], hAlign="LEFT",
                  repeatRows=1)
    table.setStyle(TableStyle([_font(st),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE)]))
    return [KeepTogether([*head, table])]


def _page_furniture(data: StatementData, regular: str) -> Callable[[Canvas, int, int], None]:
    """Draws the running head (pages after the first) and "Page n of N" on a page."""
    size = LETTER if data.paper == "letter" else A4
    left, right = _MARGIN, size[0] - _MARGIN
    head = f"Statement for {data.patient_name}, {data.first.isoformat()} to " \
           f"{data.last.isoformat()}"

    def draw(pdf: Canvas, page: int, pages: int) -> None:
        pdf.saveState()
        pdf.setFillColor(_GREY)
        if page > 1:
            y = size[1] - _MARGIN + 4 * mm
            fonts.draw(pdf, left, y, data.clinic.name, regular, 8)
            fonts.draw(pdf, right, y, head, regular, 8, "right")
        fonts.draw(pdf, left, _MARGIN - 8 * mm, data.clinic.footer, regular, 8)
        fonts.draw(pdf, right, _MARGIN - 8 * mm, f"Page {page} of {pages}", regular, 8,
                   "right")
        pdf.restoreState()

    return draw


def _numbered_canvas(furniture: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas that holds its pages until the end, so each can say "Page 2 of 3"."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                furniture(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


def render_statement(data: StatementData) -> bytes:
    """The statement as PDF bytes on ``data.paper`` (letter or a4), as many pages as
    the period needs."""
    st = _Styles()
    money = partial(format_money, currency=data.clinic.currency)
    buffer = io.BytesIO()
    size = LETTER if data.paper == "letter" else A4
    top = _MARGIN + 4 * mm     # room for the running head of pages 2, 3...
    doc = BaseDocTemplate(
        buffer, pagesize=size, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=top,
        bottomMargin=_MARGIN,
        title=f"Statement {data.patient_name} {data.first.isoformat()} to "
              f"{data.last.isoformat()}",
        author=data.clinic.name, pageCompression=1, initialFontName=st.regular)
    width = size[0] - 2 * _MARGIN
    frame = Frame(_MARGIN, _MARGIN, width, size[1] - top - _MARGIN, leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("page", frames=[frame])])
    story: list[Any] = [*_header(data, st, width), *_patient_block(data, st, width, money),
                        *_transactions(data, st, width, money), *_tokens_left(data, st, width)]
    doc.build(story, canvasmaker=_numbered_canvas(_page_furniture(data, st.regular)))
    return buffer.getvalue()
