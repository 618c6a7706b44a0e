"""Exit statuses of the command, and the exceptions that stand for them.

``0`` success; ``1`` a failure from the API (for ``apply``, ``delete`` and ``rotate``: some
items failed); ``2`` bad input, found before anything is sent; ``3`` ``plan --exit-code``
found changes; ``130`` interrupted.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_CHANGES",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "BadInput",
    "Declined",
    "Interrupted",
]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_CHANGES = 3
EXIT_INTERRUPTED = 130


class BadInput(Exception):
    """Input the command cannot use (exit status 2); the message is shown as is."""


class Declined(Exception):
    """The user answered no to a confirmation (exit status 1)."""


class Interrupted(Exception):
    """Ctrl-C stopped the command (exit status 130); the message says what it had done,
    ``details`` go into the ``--json`` error document."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}
