"""The management key: a string, or a callable asked before every attempt (rotation).

``Client(api_key=read_key)``: ``read_key()`` (a function, or a coroutine function) is
called for each attempt, so a key rotated in a secret store is picked up by the next
attempt, a retry included, without a new client. What it returns is checked like a key
given as a string, and scrubbed from answers like one.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import attrs

from ._scrub import request_secrets
from .errors import AsyncBYOKError, FieldError, ValidationError
from .sansio import HTTPRequest

__all__ = ["APIKey", "KeySource", "check_api_key"]

APIKey = str | Callable[[], str] | Callable[[], Awaitable[str]]
"""A management key, or a function (sync or async) that returns the current one."""


def _key_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if not value.strip():
        return "must not be empty"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "must not hold control characters (a line break would split the header)"
    return None


def check_api_key(value: object) -> None:
    """Refuse, naming ``api_key``, anything that is neither a usable key nor a callable."""
    if callable(value):
        return
    problem = _key_problem(value)
    if problem is not None:
        if not isinstance(value, str):
            problem = f"must be a string or a callable returning one, not {type(value).__name__}"
        raise ValidationError([FieldError("api_key", problem)], subject="Client")


class KeySource:
    """A callable ``api_key``, asked for the key before each attempt."""

    __slots__ = ("_read",)

    def __init__(self, read: Callable[[], object]) -> None:
        self._read = read

    def __repr__(self) -> str:
        return "KeySource(<api_key callable>)"

    async def current(self) -> str:
        """The key the callable returns now; a clear error naming ``api_key`` if unusable.

        The error never shows the value: it may be a key with a typo in it.
        """
        try:
            value = self._read()
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:
            raise AsyncBYOKError(
                f"api_key: the callable raised {type(exc).__name__}; nothing was sent"
            ) from exc
        problem = _key_problem(value)
        if problem is not None:
            raise AsyncBYOKError(f"api_key: the callable's result {problem}; nothing was sent")
        assert isinstance(value, str)
        return value

    async def authorize(self, request: HTTPRequest) -> HTTPRequest:
        """*request* with the current key in its ``Authorization`` header."""
        key = await self.current()
        headers = {**request.headers, "Authorization": f"Bearer {key}"}
        secrets = tuple(
            sorted({*request.secrets, *request_secrets(headers)}, key=len, reverse=True)
        )
        return attrs.evolve(request, headers=headers, secrets=secrets)
