"""Keeping secrets out of what the command prints.

A :class:`Redactor` knows the secrets of one run: the management key, every raw key the
command read, and any option value that looks like a key (a key pasted where a variable
name or a URL belongs). :meth:`Redactor.scrub` replaces them, and any token that has the
shape of a provider or OpenRouter key, with ``<redacted>``. Every diagnostic goes through
it; the data on stdout (tables, JSON) never holds a key in the first place.
"""

from __future__ import annotations

import re
import reprlib

from ..apply._keys import KEY_TOKEN, looks_like_key

__all__ = ["REDACTED", "Redactor"]

REDACTED = "<redacted>"

# Shorter strings are too likely to occur in ordinary text to be replaced everywhere.
_MIN_EXACT = 8


class Redactor:
    """The secrets of one command run, and the scrubbing of messages."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, value: str | None, *, always: bool = False) -> None:
        """Remember *value* as a secret if it looks like a key (or *always*)."""
        if not value or len(value) < _MIN_EXACT:
            return
        if always or looks_like_key(value):
            for form in (value, value.strip()):
                self._secrets.add(form)
                # How reprlib (asyncio's reprs of callback arguments) cuts a long string:
                # 'sk-proj-0123...89abcdAbCd' keeps more of the key than its label does.
                shortened = reprlib.repr(form)
                if "..." in shortened:
                    self._secrets.add(shortened)

    def scrub(self, text: str) -> str:
        """*text* with every known secret and every key-shaped token redacted."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, REDACTED)
        return re.sub(KEY_TOKEN, REDACTED, text)
