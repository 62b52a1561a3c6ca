"""Embedded TrueType fonts, so €, accents and Chinese, Japanese and Korean names print
the same on every printer.

DejaVu Sans covers Latin, Greek and Cyrillic; WenQuanYi Micro Hei covers CJK. Text
is split into runs by which font has each character (reportlab does no font
fallback of its own), and every run is drawn with the font that has it.
"""

from __future__ import annotations

from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from desk.resources import resource

REGULAR = "DeskSans"
BOLD = "DeskSans-Bold"
CJK = "DeskCJK"

Run = tuple[str, str]   # (font name, text)


@cache
def register() -> tuple[str, str]:
    """Register the fonts once; return the (regular, bold) names."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(resource("fonts", "DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(BOLD, str(resource("fonts", "DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFont(TTFont(CJK, str(resource("fonts", "wqy-microhei.ttc")),
                                   subfontIndex=0))
    return REGULAR, BOLD


@cache
def _covered(font: str) -> frozenset[int]:
    face = pdfmetrics.getFont(font).face
    return frozenset(face.charWidths)


def runs(text: str, font: str) -> list[Run]:
    """``text`` cut where the font changes: ``font`` where it has the character, else
    the CJK font where that has it, else ``font`` (drawn as its missing glyph)."""
    register()
    main, fallback = _covered(font), _covered(CJK)
    out: list[Run] = []
    for char in text:
        code = ord(char)
        use = font if code in main or code not in fallback or char.isspace() else CJK
        if out and out[-1][0] == use:
            out[-1] = (use, out[-1][1] + char)
        else:
            out.append((use, char))
    return out


def width(text: str, font: str, size: float) -> float:
    return float(sum(stringWidth(part, name, size) for name, part in runs(text, font)))


def draw(pdf: Canvas, x: float, y: float, text: str, font: str, size: float,
         align: str = "left") -> None:
    """Draw ``text`` with fallback; ``align`` is left, right (x is the right edge) or
    centre (x is the middle)."""
    if align == "right":
        x -= width(text, font, size)
    elif align == "centre":
        x -= width(text, font, size) / 2
    for name, part in runs(text, font):
        pdf.setFont(name, size)
        pdf.drawString(x, y, part)
        x += stringWidth(part, name, size)


def markup(text: str, font: str) -> str:
    """``text`` as platypus Paragraph markup (escaped) with ``<font>`` tags for runs
    that need the CJK font."""
    out = []
    for name, part in runs(text, font):
        safe = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out.append(safe if name == font else f'<font name="{name}">{safe}</font>')
    return "".join(out)
