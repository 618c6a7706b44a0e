"""Answers in the API's shapes: JSON bodies, and errors as ``{"error": {...}}``.

Every error the emulator sends, whatever its cause, has the documented body
``{"error": {"code": <status>, "message": <text>}}`` (``BadRequestResponse`` and its
siblings in the excerpt).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from aiohttp import web

__all__ = ["ERROR_MESSAGES", "ErrorReply", "error_body", "json_response", "new_request_id"]

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
