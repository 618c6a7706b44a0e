"""Reading an error response's body, whatever its shape: pure functions.

:func:`~asyncbyok.errors.error_from_response` picks the exception class by status; what
it says comes from here. A body may be the API's ``{"error": {...}}``, another JSON shape,
HTML from a proxy, or something hostile: a message of megabytes (cut to
:data:`MAX_MESSAGE_LENGTH` characters), or JSON nested so deep that printing or pickling
it would raise ``RecursionError`` (kept as text past :data:`MAX_ERROR_BODY_DEPTH`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MAX_ERROR_BODY_DEPTH", "MAX_MESSAGE_LENGTH", "cut_message", "decode_error_body"]

_MAX_BODY_IN_MESSAGE = 200

#: Longest message taken from an error response; the rest is cut (the body keeps it all).
MAX_MESSAGE_LENGTH = 1000

#: Deepest nesting of an error body that is kept decoded; deeper, it is kept as text. A
#: structure nested thousands deep can't be printed or pickled without a RecursionError.
MAX_ERROR_BODY_DEPTH = 64


def _nested_deeper_than(value: object, limit: int) -> bool:
    """Whether *value* (decoded JSON) nests lists and objects more than *limit* deep."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _decode_json_error(text: str) -> object:
    """The JSON in *text*; ``ValueError`` if it is none, or nests too deep to keep."""
    try:
        decoded = json.loads(text)
    except RecursionError:  # nested past the interpreter's limit
        raise ValueError("nested too deep") from None
    # Only a body with that many brackets can nest that deep: counting them is cheap.
    if text.count("[") + text.count("{") > MAX_ERROR_BODY_DEPTH and _nested_deeper_than(
        decoded, MAX_ERROR_BODY_DEPTH
    ):
        raise ValueError("nested too deep")
    return decoded


def cut_message(message: str) -> str:
    """*message*, cut to ``MAX_MESSAGE_LENGTH`` characters with a note of how many more."""
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    more = len(message) - MAX_MESSAGE_LENGTH
    return f"{message[:MAX_MESSAGE_LENGTH]}... ({more} more characters)"


def decode_error_body(body: bytes | str | object) -> tuple[object, str | None, int | None, Any]:
    """(decoded body, message, code, metadata) from an error body of any shape."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    decoded: object = body
    if isinstance(body, str):
        try:
            decoded = _decode_json_error(body) if body.strip() else None
        except ValueError:
            text = body.strip()
            return body, (text[:_MAX_BODY_IN_MESSAGE] or None), None, None
    message = code = metadata = None
    if isinstance(decoded, Mapping):
        err = decoded.get("error")
        if isinstance(err, Mapping):
            raw_message, raw_code = err.get("message"), err.get("code")
            message = raw_message if isinstance(raw_message, str) and raw_message else None
            is_int = isinstance(raw_code, int) and not isinstance(raw_code, bool)
            code = raw_code if is_int else None
            metadata = err.get("metadata") if isinstance(err.get("metadata"), Mapping) else None
        elif isinstance(err, str) and err:
            message = err
        elif isinstance(decoded.get("message"), str):
            message = decoded["message"]
    if message is None and decoded is not None:
        message = json.dumps(decoded)[:_MAX_BODY_IN_MESSAGE]
    return decoded, message, code, metadata
