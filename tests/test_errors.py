"""Mapping (status, headers, body) to the exception tree."""

from __future__ import annotations

import email.utils
import time

import pytest

from asyncbyok import errors as e
from asyncbyok.errors import error_from_response, parse_retry_after


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, e.BadRequestError),
        (401, e.AuthenticationError),
        (403, e.PermissionDeniedError),
        (404, e.NotFoundError),
        (409, e.ConflictError),
        (429, e.RateLimitError),
        (500, e.InternalServerError),
        (502, e.InternalServerError),
        (503, e.InternalServerError),
        (418, e.APIStatusError),
    ],
)
def test_status_picks_the_class(status: int, cls: type[e.APIStatusError]) -> None:
    body = {"error": {"code": status, "message": "boom", "metadata": {"why": "x"}}, "user_id": "u"}
    import json

    err = error_from_response(status, {"X-Request-Id": "req_1"}, json.dumps(body).encode())
    assert type(err) is cls
    assert isinstance(err, e.APIStatusError)
    assert isinstance(err, e.APIError)
    assert (err.status, err.code, err.message) == (status, status, "boom")
    assert err.metadata == {"why": "x"}
    assert err.request_id == "req_1"
    assert err.body == body
    assert "req_1" in str(err)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (b"", "HTTP 502"),
        (b'{"error": "upstream down"}', "upstream down"),
        (b'{"message": "plain"}', "plain"),
        (b'{"error": {"code": "x"}}', '{"error": {"code": "x"}}'),
        (b"[1, 2]", "[1, 2]"),
        (b"\xff\xfe", "\ufffd\ufffd"),
    ],
)
def test_malformed_bodies_still_give_the_class_and_a_message(body: bytes, message: str) -> None:
    err = error_from_response(502, {}, body, method="POST", url="https://x/api/v1/byok")
    assert type(err) is e.InternalServerError
    assert err.message == message
    assert err.code == 502
    assert err.request_id is None
    assert "POST https://x/api/v1/byok" in str(err)


def test_rate_limit_carries_retry_after() -> None:
    err = error_from_response(429, {"Retry-After": "3"}, b'{"error":{"code":429,"message":"slow"}}')
    assert isinstance(err, e.RateLimitError)
    assert err.retry_after == 3.0
    assert error_from_response(429, {}, b"").retry_after is None  # type: ignore[attr-defined]


def test_retry_after_forms() -> None:
    now = time.time()
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    date = email.utils.formatdate(now + 30, usegmt=True)
    waited = parse_retry_after(date, now=now)
    assert waited is not None
    assert 28 <= waited <= 31


def test_connection_errors() -> None:
    err = e.APITimeoutError(method="GET", url="http://127.0.0.1/api/v1/byok")
    assert isinstance(err, e.APIConnectionError)
    assert "timed out" in str(err)
    assert err.request_sent


def test_validation_error_lists_paths() -> None:
    err = e.ValidationError([e.FieldError("a[1]", "bad"), e.FieldError("b", "worse")], subject="X")
    assert err.paths == ["a[1]", "b"]
    assert str(err) == "2 invalid fields in X\n  a[1]: bad\n  b: worse"
