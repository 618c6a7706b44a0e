"""Configuration value objects: :class:`Timeout` and :class:`Limits`."""

from __future__ import annotations

from typing import Any

import attrs

from ._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
)
from ._sentinel import UNSET, Unset

__all__ = ["Limits", "Timeout"]


def _positive_or_none(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"Timeout.{attribute.name} must be a positive number or None")


def _seconds(value: float | None) -> float | None:
    return None if value is None else float(value)


@attrs.frozen(init=False)
class Timeout:
    """How long one attempt may take, in seconds (``None``: no limit).

    - ``connect``: establishing the TCP/TLS connection;
    - ``read``: the longest silence while waiting for or reading the response (none by
      default: the total bounds it; a ``read`` of at least ``total`` adds nothing and is
      not enforced separately);
    - ``total``: the whole attempt, counted from when it holds a connection slot, so
      time spent queued behind the client's own connection limit is not counted.

    As in httpx, the positional argument sets all three, and keywords override it::

        Timeout()                # total 60, connect 10, read None: the defaults
        Timeout(5)               # 5, 5, 5
        Timeout(60, connect=5)   # total 60, connect 5, read 60
        Timeout(connect=5)       # total 60, connect 5, read None: other defaults kept
        Timeout(read=20)         # total 60, connect 10, read 20: 20 s of silence at most
        Timeout(None)            # no limits at all

    Retries have their own deadline (:class:`~asyncbyok.retry.RetryPolicy`).
    """

    total: float | None = attrs.field(validator=_positive_or_none)
    connect: float | None = attrs.field(validator=_positive_or_none)
    read: float | None = attrs.field(validator=_positive_or_none)

    def __init__(
        self,
        timeout: float | None | Unset = UNSET,
        *,
        total: float | None | Unset = UNSET,
        connect: float | None | Unset = UNSET,
        read: float | None | Unset = UNSET,
    ) -> None:
        # Each value: its own keyword if given, else the positional one, else its default.
        # Whether an argument was given is told by UNSET, never by comparing numbers.
        def pick(own: float | None | Unset, default: float | None) -> float | None:
            if own is not UNSET:
                return _seconds(own)
            return default if timeout is UNSET else _seconds(timeout)

        self.__attrs_init__(
            pick(total, DEFAULT_TOTAL_TIMEOUT),
            pick(connect, DEFAULT_CONNECT_TIMEOUT),
            pick(read, DEFAULT_READ_TIMEOUT),
        )

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """A :class:`Timeout` from a number of seconds (all three), ``None`` (no limits),
        or itself."""
        if isinstance(value, Timeout):
            return value
        return cls(value)


def _positive_int(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"Limits.{attribute.name} must be a positive integer, not {value!r}")


@attrs.frozen
class Limits:
    """What one client may hold at once.

    - ``max_connections``: connections open at once; requests beyond it wait for a slot;
    - ``keepalive_timeout``: seconds an idle connection is kept for reuse;
    - ``max_response_size``: the largest response body read, in bytes, counted after
      decompression (16 MiB by default). A longer body, or a ``Content-Length`` over it,
      raises :class:`~asyncbyok.errors.ResponseTooLargeError` once that much was read,
      so a broken or hostile server (a gzip bomb, an endless body) can't exhaust memory::

        Limits(max_response_size=64 * 1024 * 1024)  # 64 MiB
    """

    max_connections: int = attrs.field(
        default=DEFAULT_MAX_CONNECTIONS, validator=attrs.validators.ge(1)
    )
    keepalive_timeout: float = 15.0
    max_response_size: int = attrs.field(default=DEFAULT_MAX_RESPONSE_SIZE, validator=_positive_int)
