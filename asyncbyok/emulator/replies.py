"""Answers in the API's shapes: JSON bodies, timestamps, and errors as ``{"error": {...}}``.

Every error the emulator sends, whatever its cause, has the documented body
``{"error": {"code": <status>, "message": <text>}}`` (``BadRequestResponse`` and its
siblings in the excerpt).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from aiohttp import web

from ..codec import format_datetime

__all__ = [
    "ERROR_MESSAGES",
    "TIMESTAMP_STYLES",
    "ErrorReply",
    "TimestampStyle",
    "error_body",
    "format_timestamp",
    "json_response",
    "new_request_id",
]

TimestampStyle = Literal["z", "utc-offset", "offset", "lower", "fraction", "mixed"]
"""How the emulator writes ``created_at``: every form is valid RFC 3339, as real servers
send them. ``"z"`` (the default) ``2025-08-24T10:30:00.123456Z``; ``"utc-offset"``
``...+00:00``; ``"offset"`` the same instant at ``-05:30``; ``"lower"`` a lower-case ``t``
and ``z``; ``"fraction"`` nine fractional digits; ``"mixed"`` each of those in turn, by the key's
``sort_order`` (so five keys of one provider show all five)."""
TIMESTAMP_STYLES: tuple[TimestampStyle, ...] = (
    "z",
    "utc-offset",
    "offset",
    "lower",
    "fraction",
    "mixed",
)
_INDIA_WEST = timezone(-timedelta(hours=5, minutes=30))  # a half-hour offset, west of UTC


def format_timestamp(value: datetime, style: TimestampStyle, n: int = 0) -> str:
    """*value* written in *style*; ``"mixed"`` takes the *n*-th of the others, in turn."""
    if style == "mixed":
        fixed = TIMESTAMP_STYLES[:-1]
        style = fixed[n % len(fixed)]
    utc = value.astimezone(timezone.utc)
    if style == "utc-offset":
        return utc.isoformat()
    if style == "offset":
        return utc.astimezone(_INDIA_WEST).isoformat()
    if style == "lower":
        return format_datetime(utc).replace("T", "t").replace("Z", "z")
    if style == "fraction":
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return format_datetime(utc)


# The messages of the excerpt's examples where it has one.
ERROR_MESSAGES: dict[int, str] = {
    400: "Invalid request parameters",
    401: "Missing Authentication header",
    403: "Only management keys can perform this operation",
    404: "Resource not found",
    405: "Method not allowed",
    409: "Conflict: the credential was changed by another request",
    413: "Request body too large",
    429: "Rate limit exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class ErrorReply(Exception):
    """Raised by a handler or middleware to answer with an error in the documented shape."""

    def __init__(
        self, status: int, message: str | None = None, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.message = message or ERROR_MESSAGES.get(status, "Error")
        self.headers = dict(headers or {})
        super().__init__(f"{status} {self.message}")

    def response(self) -> web.Response:
        """The error as a response."""
        return json_response(error_body(self.status, self.message), self.status, self.headers)


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """``{"error": {"code": status, "message": message}}``."""
    return {"error": {"code": status, "message": message or ERROR_MESSAGES.get(status, "Error")}}


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response. ASCII escapes keep lone surrogates from bodies encodable."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode("ascii"),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def new_request_id() -> str:
    """An id for the ``X-Request-Id`` header: ``req_`` and 16 hex characters."""
    return f"req_{secrets.token_hex(8)}"
