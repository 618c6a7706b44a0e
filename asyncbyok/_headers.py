"""Reading the response headers the API sends: the request id, and ``Retry-After``.

Pure functions over a header mapping, used by the request engine, the retry policy and
the error mapping alike.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

__all__ = ["REQUEST_ID_HEADERS", "find_request_id", "parse_retry_after"]

#: Response headers that may carry the request id, most specific first.
REQUEST_ID_HEADERS = ("x-request-id", "x-openrouter-request-id", "cf-ray")


def find_request_id(headers: Mapping[str, str]) -> str | None:
    """The request id from response *headers*, if the server sent one.

    Case-insensitive mappings (what the transport returns) are asked directly; others are
    searched without regard to case.

    >>> find_request_id({"X-Request-Id": "req_1"})
    'req_1'
    """
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in REQUEST_ID_HEADERS:
        if lowered.get(name):
            return lowered[name]
    return None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Returns ``None`` when absent or unparseable, and never a negative number.

    >>> parse_retry_after("1.5"), parse_retry_after("-4"), parse_retry_after("soon")
    (1.5, 0.0, None)
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        # Only the HTTP-date form needs the email package: import it when it is met.
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)
