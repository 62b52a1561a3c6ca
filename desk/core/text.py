"""Names and search keys: how typed text is stored and matched."""

from __future__ import annotations

import unicodedata

from desk.core.errors import BadInput

MAX_NAME_LEN = 200
MAX_TEXT_LEN = 4000


def clean_name(text: str | None, field: str, *, max_len: int = MAX_NAME_LEN) -> str:
    """NFC-normalise, trim and collapse inner whitespace; refuse empty or over-long names.

    Any Unicode is kept verbatim otherwise (quotes, SQL-looking text, emoji, CJK).
    """
    if text is None:
        raise BadInput(field, "is missing")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise BadInput(field, "contains control characters")
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    if not cleaned:
        raise BadInput(field, "is empty")
    if len(cleaned) > max_len:
        raise BadInput(field, f"is too long ({len(cleaned)} characters, at most {max_len})")
    return cleaned


def clean_text(text: str | None, field: str, *, max_len: int = MAX_TEXT_LEN) -> str:
    """Free text (notes, reasons, memos): NFC, trimmed, may be empty, bounded."""
    if text is None:
        return ""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
        raise BadInput(field, "contains control characters")
    cleaned = unicodedata.normalize("NFC", text).strip()
    if len(cleaned) > max_len:
        raise BadInput(field, f"is too long ({len(cleaned)} characters, at most {max_len})")
    return cleaned


def search_key(text: str) -> str:
    """Accent- and case-insensitive key: ``"Zoë  O'Brien" -> "zoe o'brien"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", stripped).casefold().split())


def phone_digits(text: str) -> str:
    """Only the ASCII digits of a phone number, for matching however it was typed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if "0" <= ch <= "9")
