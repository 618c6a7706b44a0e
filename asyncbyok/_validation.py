"""Request checks that mirror the API's documented limits (see ``tests/spec``).

Each check appends a :class:`~asyncbyok.errors.FieldError` instead of raising, so that one
:class:`~asyncbyok.errors.ValidationError` names every bad field at once. Values of secret
fields never appear in messages.
"""

from __future__ import annotations

import re
from typing import Any

from ._constants import ALLOWLIST_MAX_ITEMS
from ._sentinel import UNSET
from .errors import FieldError, ValidationError

# Formats from the OpenAPI excerpt (the numeric limits are in _constants).
API_KEY_HASH_PATTERN = re.compile(r"[a-f0-9]{64}")
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


class Checker:
    """Collects the field errors of one object."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors, subject=self.subject)

    # -- one method per kind of field; UNSET is always accepted (the field is omitted) --

    def string(
        self,
        path: str,
        value: Any,
        *,
        nullable: bool = False,
        non_empty: bool = False,
        max_length: int | None = None,
        secret: bool = False,
        required: bool = False,
    ) -> None:
        if value is UNSET and required:
            self.fail(path, "is required")
        if value is UNSET or (value is None and nullable):
            return
        if value is None:
            self.fail(path, "must not be null (leave it out instead)")
        elif not isinstance(value, str):
            self.fail(path, f"must be a string, not {_type_name(value)}")
        elif non_empty and not value:
            self.fail(path, "must not be empty")
        elif max_length is not None and len(value) > max_length:
            got = "" if secret else f" (got {len(value)})"
            self.fail(path, f"must be at most {max_length} characters{got}")

    def boolean(self, path: str, value: Any, *, nullable: bool = False) -> None:
        if value is UNSET or (value is None and nullable):
            return
        if value is None:
            self.fail(path, "must not be null (leave it out instead)")
        elif not isinstance(value, bool):
            self.fail(path, f"must be true or false, not {_type_name(value)}")

    def uuid(self, path: str, value: Any) -> None:
        self.string(path, value)
        if isinstance(value, str) and not UUID_PATTERN.fullmatch(value):
            example = "550e8400-e29b-41d4-a716-446655440000"
            self.fail(path, f"must be a UUID like {example}, not {value[:60]!r}")

    def string_list(
        self,
        path: str,
        value: Any,
        *,
        min_items: int = 0,
        pattern: re.Pattern[str] | None = None,
        pattern_hint: str = "",
    ) -> None:
        """A nullable allowlist: ``None`` means no restriction."""
        if value is UNSET or value is None:
            return
        if not isinstance(value, (list, tuple)):
            self.fail(path, f"must be a list of strings or null, not {_type_name(value)}")
            return
        if len(value) < min_items:
            self.fail(path, f"must have at least {min_items} item (use null for no restriction)")
        if len(value) > ALLOWLIST_MAX_ITEMS:
            self.fail(path, f"must have at most {ALLOWLIST_MAX_ITEMS} items (got {len(value)})")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.fail(f"{path}[{i}]", f"must be a string, not {_type_name(item)}")
            elif pattern is not None and not pattern.fullmatch(item):
                self.fail(f"{path}[{i}]", f"must be {pattern_hint}")

    def api_key_hashes(self, path: str, value: Any) -> None:
        self.string_list(
            path,
            value,
            min_items=1,
            pattern=API_KEY_HASH_PATTERN,
            pattern_hint="64 lower-case hex characters (an OpenRouter API key hash)",
        )

    def fallback_exclusive(self, is_byok_only: Any, is_fallback: Any) -> None:
        if is_byok_only is True and is_fallback is True:
            self.fail("is_byok_only", "cannot be true together with is_fallback")
