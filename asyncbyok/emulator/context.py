"""What the handlers share: the store, the counters, the fault plan, the keys.

:class:`Stats` and :attr:`AppContext.received` are what tests inspect; they are plain
Python objects, read from any thread (the emulator only ever adds to them).

Both are bounded, so that a long-running emulator (or a flood of requests) cannot grow
without end: ``received`` keeps the newest ``DEFAULT_MAX_RECEIVED`` requests, and
``stats.client_headers`` counts at most ``MAX_CLIENT_HEADER_VALUES`` distinct values,
from authenticated requests only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

import attrs
from aiohttp import web

from ..models import (
    API_AGES,
    ApiAge,
    CreateBYOKKeyRequest,
    UpdateBYOKKeyRequest,
    request_fields,
)
from .faults import FaultPlan
from .ratelimit import RateLimiter
from .replies import TimestampStyle
from .store import Store

__all__ = [
    "API_VERSIONS",
    "CONTEXT",
    "DEFAULT_MAX_RECEIVED",
    "HIDDEN_FIELDS",
    "MAX_CLIENT_HEADER_VALUES",
    "ApiVersion",
    "AppContext",
    "ReceivedLog",
    "ReceivedRequest",
    "Stats",
]

#: How many requests :attr:`AppContext.received` keeps (the newest).
DEFAULT_MAX_RECEIVED = 10_000

#: How many distinct ``(header, value)`` pairs :attr:`Stats.client_headers` counts; later
#: new values are not counted (values already seen still are).
MAX_CLIENT_HEADER_VALUES = 1_000

ApiVersion = ApiAge
"""Which age of the API to play (``tests/spec/NOTES.md``): ``"newest"``, ``"excerpt"``,
``"oldest"``."""
API_VERSIONS: tuple[ApiVersion, ...] = tuple(reversed(API_AGES))


def _hidden(age: ApiAge) -> frozenset[str]:
    """The request fields an API of *age* does not know: those of a later age."""
    later = API_AGES[API_AGES.index(age) + 1 :]
    fields = (*request_fields(CreateBYOKKeyRequest), *request_fields(UpdateBYOKKeyRequest))
    return frozenset(f.name for f in fields if f.since in later)


HIDDEN_FIELDS: dict[ApiVersion, frozenset[str]] = {age: _hidden(age) for age in API_AGES}
"""Fields a server of each age does not know: absent from its answers, refused in bodies.
Derived from the request models' field table (each field's ``since``)."""


@attrs.define
class Stats:
    """Counters of what the emulator saw and did.

    ``requests[operation]`` counts every request routed to an operation (refused ones too);
    ``responses[status]`` every answer sent (a dropped connection sends none);
    ``faults[(operation, kind)]`` every injected fault; ``rate_limited`` the 429s;
    ``unexpected_errors`` the exceptions that became a 500 on their own: a bug, never
    bad input, so tests assert it stays 0.
    """

    requests: Counter[str] = attrs.field(factory=Counter)
    responses: Counter[int] = attrs.field(factory=Counter)
    faults: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    rate_limited: int = 0
    unexpected_errors: int = 0
    client_headers: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    """``(header, value)`` of the identifying headers authenticated clients sent
    (User-Agent, attribution): at most ``MAX_CLIENT_HEADER_VALUES`` distinct pairs."""

    def count_client_header(self, name: str, value: str) -> None:
        """Count one identifying header, within ``MAX_CLIENT_HEADER_VALUES`` pairs."""
        pair = (name, value)
        if pair in self.client_headers or len(self.client_headers) < MAX_CLIENT_HEADER_VALUES:
            self.client_headers[pair] += 1

    def clear(self) -> None:
        """Back to zero, in place (references held by tests stay valid)."""
        self.requests.clear()
        self.responses.clear()
        self.faults.clear()
        self.rate_limited = 0
        self.unexpected_errors = 0
        self.client_headers.clear()


# Request headers worth counting in Stats.client_headers: none of them is a secret.
IDENTIFYING_HEADERS = ("User-Agent", "HTTP-Referer", "X-OpenRouter-Title")


class ReceivedRequest(NamedTuple):
    """A request that reached its handler: ``(operation, body)``.

    ``body`` is the decoded JSON body with the value of ``"key"`` replaced by
    ``"<redacted>"``; ``None`` for operations without a body or a body that was not JSON.
    """

    operation: str
    body: Any


class ReceivedLog(list[ReceivedRequest]):
    """The newest *maxlen* :class:`ReceivedRequest` entries, oldest first: a list that
    drops its oldest entry when :meth:`append` would make it longer than *maxlen*.

    A list, not a deque, so that tests compare it with lists (``emu.received == [...]``)
    and slice it, as they always have.
    """

    def __init__(self, maxlen: int = DEFAULT_MAX_RECEIVED) -> None:
        if maxlen < 1:
            raise ValueError(f"maxlen must be at least 1, not {maxlen}")
        super().__init__()
        self.maxlen = maxlen

    def append(self, request: ReceivedRequest) -> None:
        """Add *request*, dropping the oldest entry if there are already *maxlen*."""
        if len(self) >= self.maxlen:
            del self[: len(self) - self.maxlen + 1]
        super().append(request)


@attrs.define
class AppContext:
    """The state one emulator's handlers work on."""

    store: Store
    stats: Stats
    plan: FaultPlan
    management_keys: frozenset[str]
    api_keys: frozenset[str]
    api_version: ApiVersion = "newest"
    timestamp_style: TimestampStyle = "z"
    limiter: RateLimiter | None = None
    received: ReceivedLog = attrs.field(factory=ReceivedLog)
    log_requests: bool = False


CONTEXT = web.AppKey("asyncbyok_emulator_context", AppContext)
"""Where the :class:`AppContext` lives on the ``aiohttp`` application."""
