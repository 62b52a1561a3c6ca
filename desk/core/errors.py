"""The error types every layer raises and every front end knows how to show.

``BadInput`` is the user's typing (CLI exit 2), ``Refused`` a business rule
(exit 3), ``NotFound`` a missing id or name (exit 2), ``DatabaseFault`` a known
database condition with a human message (exit 1). Anything else is a bug.
"""

from __future__ import annotations


class DeskError(Exception):
    """Base class for errors with a message meant for a person."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(DeskError):
    """A typed value was refused; ``field`` names what to fix."""

    exit_code = 2

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class NotFound(DeskError):
    """An id or name that does not exist."""

    exit_code = 2


class Refused(DeskError):
    """A business rule refused the operation; nothing was written."""

    exit_code = 3


class DatabaseFault(DeskError):
    """A known database condition (locked, disk full, read-only, unreachable)."""

    exit_code = 1

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
