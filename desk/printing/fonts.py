"""The embedded TrueType font, so €, accents and the clinic's name print everywhere."""

from __future__ import annotations

from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from desk.resources import resource

REGULAR = "DeskSans"
BOLD = "DeskSans-Bold"


@cache
def register() -> tuple[str, str]:
    """Register DejaVu Sans from ``resources/fonts`` once; return (regular, bold) names."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(resource("fonts", "DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(BOLD, str(resource("fonts", "DejaVuSans-Bold.ttf"))))
    return REGULAR, BOLD
