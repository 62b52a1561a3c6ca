"""The SVG icons of ``resources/icons`` as QIcons (crisp at any device pixel ratio)."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from desk.resources import resource

FILES = {"ticket": "ticket.svg", "credit": "dollar-blue.svg", "owes": "dollar-red.svg",
         "warning": "warning.svg", "check": "check.svg", "app": "desk.svg"}


@cache
def icon(kind: str) -> QIcon:
    """The icon for a balance state (``ticket``, ``credit``, ``owes``), ``warning``,
    ``check`` or ``app``; raises KeyError for anything else."""
    path = resource("icons", FILES[kind])
    found = QIcon(str(path))
    if found.isNull():
        raise FileNotFoundError(f"icon missing: {path}")
    return found
