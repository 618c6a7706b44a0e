"""Configuration value objects: :class:`Timeout` and :class:`Limits`."""

from __future__ import annotations

from typing import Any

import attrs

from ._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_TOTAL_TIMEOUT,
)

__all__ = ["Limits", "Timeout"]


def _positive_or_none(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"Timeout.{attribute.name} must be a positive number or None")


@attrs.frozen
class Timeout:
    """How long one attempt may take, in seconds (``None``: no limit).

    - ``connect``: establishing the TCP/TLS connection;
    - ``read``: the longest silence while waiting for or reading the response;
    - ``total``: the whole attempt, counted from when it holds a connection slot, so
      time spent queued behind the client's own connection limit is not counted.

    ``Timeout(5)`` sets all three to 5 seconds. Retries have their own deadline
    (:class:`~asyncbyok.retry.RetryPolicy`).
    """

    total: float | None = attrs.field(default=DEFAULT_TOTAL_TIMEOUT, validator=_positive_or_none)
    connect: float | None = attrs.field(validator=_positive_or_none)
    read: float | None = attrs.field(validator=_positive_or_none)

    @connect.default
    def _connect_default(self) -> float | None:
        return DEFAULT_CONNECT_TIMEOUT if self.total == DEFAULT_TOTAL_TIMEOUT else self.total

    @read.default
    def _read_default(self) -> float | None:
        return DEFAULT_READ_TIMEOUT if self.total == DEFAULT_TOTAL_TIMEOUT else self.total

    @classmethod
    def coerce(cls, value: Timeout | float | None) -> Timeout:
        """A :class:`Timeout` from a number of seconds, ``None`` (no limits), or itself."""
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(None, connect=None, read=None)
        return cls(float(value))


@attrs.frozen
class Limits:
    """Connection limits. Requests beyond ``max_connections`` wait for a free slot."""

    max_connections: int = attrs.field(
        default=DEFAULT_MAX_CONNECTIONS, validator=attrs.validators.ge(1)
    )
    keepalive_timeout: float = 15.0
