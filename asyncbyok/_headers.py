"""Reading the response headers the API sends: the request id, ``Retry-After``, and the
state of a rate limit.

Pure functions over a header mapping, used by the request engine, the retry policy and
the error mapping alike.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

import attrs

__all__ = [
    "REQUEST_ID_HEADERS",
    "LimitState",
    "find_request_id",
    "find_retry_after",
    "parse_duration",
    "parse_rate_limit",
    "parse_retry_after",
]

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


def find_retry_after(headers: Mapping[str, str]) -> tuple[float | None, bool]:
    """``(seconds, coarse)``: the wait a response asks for, and whether it came as whole
    seconds. ``retry-after-ms`` (sub-second precision, as some APIs send) wins over
    ``Retry-After``.

    >>> find_retry_after({"Retry-After": "2"}), find_retry_after({"retry-after-ms": "250"})
    ((2.0, True), (0.25, False))
    """
    millis = parse_retry_after(_get(headers, "retry-after-ms"))
    if millis is not None:
        return millis / 1000, False
    text = _get(headers, "retry-after")
    seconds = parse_retry_after(text)
    if seconds is None:
        return None, False
    return seconds, text is not None and text.strip().isdigit()


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


@attrs.frozen
class LimitState:
    """What a response says of its rate limit: ``remaining`` of ``limit`` requests are
    left, and the quota is whole again in ``reset`` seconds; ``window`` is the policy's
    window in seconds when the server says it (``RateLimit-Policy: ...;w=60``)."""

    limit: int
    remaining: int
    reset: float
    window: float | None = None


_ITEM = re.compile(r'^\s*(?:"[^"]*"|[A-Za-z*][\w.*-]*|\d+)?\s*((?:;\s*[a-z][\w.*-]*=[^;,]*)*)\s*$')
_PARAM = re.compile(r";\s*([a-z][\w.*-]*)=([^;,]*)")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(value: str | None) -> float | None:
    """Seconds from a reset value: ``"30"``, ``"1.5"``, or a duration such as ``"6m0s"``,
    ``"1.5s"`` or ``"20ms"`` (OpenAI's ``x-ratelimit-reset-*``). ``None`` if unreadable.

    >>> parse_duration("6m0s"), parse_duration("20ms"), parse_duration("2")
    (360.0, 0.02, 2.0)
    """
    if value is None:
        return None
    text = value.strip().lower()
    try:
        seconds = float(text)
    except ValueError:
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            return None
        scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
        seconds = sum(float(n) * scale[u] for n, u in parts)
    if seconds != seconds or seconds in (float("inf"), float("-inf")) or seconds < 0:
        return None
    return seconds


def _params(value: str) -> list[dict[str, str]]:
    """The parameters of each member of a structured-field list (RFC 8941), loosely."""
    members = []
    for member in value.split(","):
        if _ITEM.match(member) is None:
            continue
        members.append({k: v.strip().strip('"') for k, v in _PARAM.findall(member)})
    return members


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(float(value))
    except ValueError:
        return None


def parse_rate_limit(headers: Mapping[str, str], *, now: float | None = None) -> LimitState | None:
    """The rate limit a response describes, in any of the common forms, or ``None``:

    - the IETF draft's structured fields: ``RateLimit: "default";r=13;t=1`` with
      ``RateLimit-Policy: "default";q=20;w=1`` (the most constrained policy is taken);
    - its earlier form: ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``;
    - the common ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (the reset in seconds,
      or as a Unix time, as GitHub sends it);
    - OpenAI's ``x-ratelimit-limit-requests``/``-remaining-requests``/``-reset-requests``.

    >>> parse_rate_limit({"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "3",
    ...                   "X-RateLimit-Reset": "0.850"})
    LimitState(limit=20, remaining=3, reset=0.85, window=None)
    """
    if hasattr(headers, "getone") and not any(name in headers for name in _MARKS):
        return None  # the common case, answered in four lookups
    current = _get(headers, "ratelimit")
    if current:
        return _structured(current, _get(headers, "ratelimit-policy"))
    for prefix, suffix in _FORMS:
        limit = _int(_get(headers, f"{prefix}limit{suffix}"))
        remaining = _int(_get(headers, f"{prefix}remaining{suffix}"))
        reset = parse_duration(_get(headers, f"{prefix}reset{suffix}"))
        if limit is None or remaining is None or reset is None or limit <= 0:
            continue
        if reset > 1e9:  # a Unix time, not a number of seconds
            reset = max(0.0, reset - (time.time() if now is None else now))
        window = _window(_get(headers, "ratelimit-policy")) if prefix == "ratelimit-" else None
        return LimitState(limit, max(0, remaining), reset, window)
    return None


_FORMS = (("ratelimit-", ""), ("x-ratelimit-", ""), ("x-ratelimit-", "-requests"))
_MARKS = ("ratelimit", "ratelimit-limit", "x-ratelimit-limit", "x-ratelimit-limit-requests")


def _get(headers: Mapping[str, str], name: str) -> str | None:
    """*name* (lower case) from *headers*: aiohttp's mapping ignores case; others too."""
    value = headers.get(name)
    if value is None and not hasattr(headers, "getone"):  # not case-insensitive already
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _window(policy: str | None) -> float | None:
    for params in _params(policy or ""):
        window = parse_duration(params.get("w"))
        if window:
            return window
    return None


def _structured(current: str, policy: str | None) -> LimitState | None:
    quotas = [(_int(p.get("q")), parse_duration(p.get("w"))) for p in _params(policy or "")]
    states = []
    for i, params in enumerate(_params(current)):
        remaining, reset = _int(params.get("r")), parse_duration(params.get("t"))
        if remaining is None or reset is None:
            continue
        limit, window = quotas[i] if i < len(quotas) else (None, None)
        if limit is None or limit <= 0:
            limit = max(remaining, 1)
        states.append(LimitState(limit, max(0, remaining), reset, window))
    return min(states, key=lambda s: s.remaining / s.limit, default=None)
