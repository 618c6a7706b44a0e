"""Request checks that mirror the API's documented limits (see ``tests/spec``).

Each request field carries a :class:`Rule` (its kind, whether it is required or nullable);
:meth:`Checker.check` applies it. Each check appends a :class:`~asyncbyok.errors.FieldError`
instead of raising, so that one :class:`~asyncbyok.errors.ValidationError` names every bad
field at once. Values of secret fields never appear in messages.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol

from ._constants import ALLOWLIST_MAX_ITEMS
from ._keyshape import looks_like_key
from ._sentinel import UNSET
from .errors import FieldError, ValidationError

# Formats from the OpenAPI excerpt (the numeric limits are in _constants).
API_KEY_HASH_PATTERN = re.compile(r"[a-f0-9]{64}")
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


FieldKind = Literal["string", "secret", "boolean", "uuid", "string_list", "api_key_hashes"]
"""What a request field holds; ``secret`` is a string that is never echoed (the raw key)."""


class Rule(Protocol):
    """What one request field accepts (``models.RequestField`` is one). ``UNSET`` (left
    out) is accepted unless ``required``."""

    @property
    def kind(self) -> FieldKind: ...
    @property
    def nullable(self) -> bool: ...
    @property
    def required(self) -> bool: ...
    @property
    def max_length(self) -> int | None: ...


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def uuid_message(value: str, secrets: tuple[str, ...] = ()) -> str:
    """What is wrong with *value*, a string that is not a UUID (the value shown, cut short).

    A value with the shape of a key, or holding one of *secrets* (the raw key of the same
    request), is not shown: a key pasted into the wrong field must not be echoed, in full
    or cut short.
    """
    like = "must be a UUID like 550e8400-e29b-41d4-a716-446655440000"
    if looks_like_key(value) or any(s and s in value for s in secrets):
        return f"{like}, not a value shaped like a key (it is not shown)"
    shown = value if len(value) <= 60 else value[:60] + "..."
    return f"{like}, not {shown!r}"


class Checker:
    """Collects the field errors of one object."""

    def __init__(self, subject: str, secrets: tuple[str, ...] = ()) -> None:
        self.subject = subject
        self.secrets = secrets
        """What no message may quote (the raw key of the object checked)."""
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors, subject=self.subject)

    def check(self, path: str, rule: Rule, value: Any) -> None:
        """Check *value* against *rule*: the one entry point the request models use."""
        kind = rule.kind
        if kind == "boolean":
            self.boolean(path, value, nullable=rule.nullable)
        elif kind == "uuid":
            self.uuid(path, value, required=rule.required)
        elif kind == "string_list":
            self.string_list(path, value)
        elif kind == "api_key_hashes":
            self.api_key_hashes(path, value)
        elif kind == "secret":
            self.secret(path, value, required=rule.required)
        else:
            self.string(
                path,
                value,
                nullable=rule.nullable,
                non_empty=rule.required,
                max_length=rule.max_length,
                required=rule.required,
            )

    # -- one method per kind of field; UNSET is accepted unless required (field omitted) --

    def _absent(self, path: str, value: Any, *, nullable: bool, required: bool = False) -> bool:
        """Whether there is no value to check further (UNSET or null), noting what is wrong."""
        if value is UNSET:
            if required:
                self.fail(path, "is required")
            return True
        if value is None:
            if not nullable:
                self.fail(path, "must not be null (leave it out instead)")
            return True
        return False

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
        if self._absent(path, value, nullable=nullable, required=required):
            return
        if not isinstance(value, str):
            self.fail(path, f"must be a string, not {_type_name(value)}")
        elif non_empty and not value:
            self.fail(path, "must not be empty")
        elif max_length is not None and len(value) > max_length:
            got = "" if secret else f" (got {len(value)})"
            self.fail(path, f"must be at most {max_length} characters{got}")

    def secret(self, path: str, value: Any, *, required: bool = False) -> None:
        """A raw key: a non-empty string without surrounding white space, never echoed.

        A trailing newline from a file, or a key of spaces, is a mistake the server would
        store as the key; it is refused here, saying what is wrong but not what was given.
        """
        before = len(self.errors)
        self.string(path, value, non_empty=True, secret=True, required=required)
        if len(self.errors) > before or not isinstance(value, str) or not value:
            return
        if not value.strip():
            self.fail(path, "must not be only white space")
        elif value != value.strip():
            self.fail(path, "must not start or end with white space (a newline, a space)")

    def boolean(self, path: str, value: Any, *, nullable: bool = False) -> None:
        if self._absent(path, value, nullable=nullable):
            return
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, not {_type_name(value)}")

    def uuid(self, path: str, value: Any, *, required: bool = False) -> None:
        self.string(path, value, required=required)
        if isinstance(value, str) and not UUID_PATTERN.fullmatch(value):
            self.fail(path, uuid_message(value, self.secrets))

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

    def known_spelling(self, path: str, value: Any, known: tuple[str, ...]) -> None:
        """Refuse a value of an open enum that is a known one in other case (``"Europe"``):
        surely a typo, which the server would store as a region of its own. Other unknown
        values pass (the enum is open)."""
        if not isinstance(value, str) or value in known:
            return
        for spelling in known:
            if value.casefold() == spelling.casefold():
                self.fail(path, f"unknown value {value!r} (did you mean {spelling!r}?)")
                return

    def fallback_exclusive(self, is_byok_only: Any, is_fallback: Any) -> None:
        if is_byok_only is True and is_fallback is True:
            self.fail("is_byok_only", "cannot be true together with is_fallback")
