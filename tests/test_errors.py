"""Mapping (status, headers, body) to the exception tree."""

from __future__ import annotations

import datetime
import email.utils
import json
import pickle
import time

import pytest

import asyncbyok
from asyncbyok import errors as e
from asyncbyok._error_body import MAX_MESSAGE_LENGTH
from asyncbyok._headers import find_request_id, parse_retry_after
from asyncbyok.errors import error_from_response


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
    err = error_from_response(status, {"X-Request-Id": "req_1"}, json.dumps(body).encode())
    assert type(err) is cls
    assert isinstance(err, e.APIStatusError)
    assert isinstance(err, e.APIError)
    assert (err.status_code, err.code, err.message) == (status, status, "boom")
    assert err.status == err.status_code  # the older name stays
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
    assert err.status_code == 502
    assert err.code is None  # the server sent no error.code: not made up from the status
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


def test_code_is_the_bodys_own_even_when_it_differs_from_the_status() -> None:
    err = error_from_response(400, {}, b'{"error": {"code": 422, "message": "no"}}')
    assert (err.status_code, err.code) == (400, 422)
    assert repr(err) == (
        "BadRequestError(status_code=400, code=422, message='no', request_id=None)"
    )
    assert error_from_response(400, {}, b'{"error": {"message": "no"}}').code is None


def test_status_errors_can_be_made_with_either_name() -> None:
    assert e.NotFoundError("gone", status_code=404).status == 404
    assert e.NotFoundError("gone", status=404).status_code == 404
    with pytest.raises(TypeError):
        e.NotFoundError("gone")
    bad = e.APIResponseValidationError("odd", status=200, body="[]")
    assert (bad.status_code, bad.status) == (200, 200)


def test_request_id_headers_in_any_case() -> None:
    assert find_request_id({"X-Request-Id": "a"}) == "a"
    assert find_request_id({"CF-Ray": "b"}) == "b"
    assert find_request_id({"x-openrouter-request-id": "c", "cf-ray": "d"}) == "c"
    assert find_request_id({"content-type": "text/plain"}) is None


# Every exception the client raises, importable from the package, and where it sits.
TREE = {
    "ValidationError": ("AsyncBYOKError", ValueError),
    "InsecureURLError": ("AsyncBYOKError", ValueError),
    "DuplicateNameError": ("AsyncBYOKError", None),
    "ClientClosedError": ("AsyncBYOKError", None),
    "UnreadableStateError": ("AsyncBYOKError", None),
    "EventLoopError": ("AsyncBYOKError", RuntimeError),
    "APIError": ("AsyncBYOKError", None),
    "APIStatusError": ("APIError", None),
    "BadRequestError": ("APIStatusError", None),
    "AuthenticationError": ("APIStatusError", None),
    "PermissionDeniedError": ("APIStatusError", None),
    "NotFoundError": ("APIStatusError", None),
    "ConflictError": ("APIStatusError", None),
    "RateLimitError": ("APIStatusError", None),
    "InternalServerError": ("APIStatusError", None),
    "APIConnectionError": ("APIError", None),
    "APITimeoutError": ("APIConnectionError", None),
    "APIResponseValidationError": ("APIError", None),
    "ResponseTooLargeError": ("APIError", None),
}


@pytest.mark.parametrize("name", sorted(TREE))
def test_every_exception_is_in_the_tree_and_exported(name: str) -> None:
    parent, builtin = TREE[name]
    cls = getattr(asyncbyok, name)
    assert cls is getattr(e, name)
    assert name in asyncbyok.__all__
    assert issubclass(cls, getattr(e, parent))
    if builtin is not None:
        assert issubclass(cls, builtin)
    assert name in (e.__doc__ or "")  # drawn in the module's tree


def test_every_exception_class_of_the_module_is_in_the_tree() -> None:
    classes = {
        name
        for name, value in vars(e).items()
        if isinstance(value, type) and issubclass(value, BaseException) and name in e.__all__
    }
    assert classes == {*TREE, "AsyncBYOKError"}


def test_plain_http_beyond_loopback_raises_the_exported_class() -> None:
    with pytest.raises(asyncbyok.InsecureURLError, match="http"):
        asyncbyok.Client(api_key="sk-or-v1-test", base_url="http://example.com/api/v1")


def test_duplicate_name_error_lists_the_credentials() -> None:
    keys = [
        asyncbyok.BYOKKey(
            id=f"0b7f3a52-1c1e-4d55-9a57-6b0f5e1a000{i}",
            provider="openai",
            name="prod",
            label="sk-...AbCd",
            workspace_id="550e8400-e29b-41d4-a716-446655440000",
            created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
        )
        for i in (1, 2)
    ]
    err = e.DuplicateNameError(
        name="prod", provider="openai", workspace_id=keys[0].workspace_id, keys=keys
    )
    assert err.keys == tuple(keys)
    assert "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001" in str(err)
    assert "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0002" in str(err)
    assert "2 openai credentials are named 'prod'" in str(err)


# -- hostile error bodies ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # past the interpreter's recursion limit
        b'{"error": {"message": "x", "metadata": {"a": ' + b"[" * 900 + b"]" * 900 + b"}}}",
    ],
)
def test_an_error_body_nested_too_deep_is_kept_as_text(body: bytes) -> None:
    err = error_from_response(500, {}, body)  # was: RecursionError for the first
    assert type(err) is e.InternalServerError
    assert err.body == body.decode()
    assert err.message == body.decode()[:200]
    assert pickle.loads(pickle.dumps(err)).body == err.body  # no RecursionError either
    repr(err.body)


def test_an_error_body_nested_a_little_is_decoded() -> None:
    body = {"error": {"message": "x", "metadata": {"a": [[[[1]]]]}}}
    err = error_from_response(400, {}, json.dumps(body).encode())
    assert (err.message, err.metadata, err.body) == ("x", {"a": [[[[1]]]]}, body)


def test_a_long_error_message_is_cut_and_says_how_much_more() -> None:
    body = json.dumps({"error": {"code": 400, "message": "m" * 2_000_000}}).encode()
    err = error_from_response(400, {}, body, method="GET", url="https://x/api/v1/byok")
    more = 2_000_000 - MAX_MESSAGE_LENGTH
    assert err.message == "m" * MAX_MESSAGE_LENGTH + f"... ({more} more characters)"
    assert len(str(err)) < MAX_MESSAGE_LENGTH + 100
    assert err.body["error"]["message"] == "m" * 2_000_000  # type: ignore[index]  # all kept


# -- pickling (multiprocessing, process pools) -----------------------------------------

_URL = "https://openrouter.ai/api/v1/byok"


def _keys() -> list[asyncbyok.BYOKKey]:
    return [
        asyncbyok.BYOKKey(
            id=f"0b7f3a52-1c1e-4d55-9a57-6b0f5e1a000{i}",
            provider="openai",
            name="prod",
            label="sk-...AbCd",
            workspace_id="550e8400-e29b-41d4-a716-446655440000",
            created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
        )
        for i in (1, 2)
    ]


def _status(status: int, headers: dict[str, str] | None = None) -> e.APIStatusError:
    body = {"error": {"code": status, "message": "boom", "metadata": {"why": "x"}}}
    headers = {"X-Request-Id": "req_1", **(headers or {})}
    return error_from_response(status, headers, json.dumps(body).encode(), method="GET", url=_URL)


def _samples() -> dict[str, BaseException]:
    """One of each exception of the tree, with every attribute set."""
    rate_limited = _status(429, {"Retry-After": "2"})
    rate_limited.sent_early = True  # type: ignore[attr-defined]
    where = {"method": "POST", "url": _URL}
    return {
        "AsyncBYOKError": e.AsyncBYOKError("no API key: pass api_key=..."),
        "ValidationError": e.ValidationError(
            [e.FieldError("key", "must not be empty"), e.FieldError("name", "too long")],
            subject="CreateBYOKKeyRequest",
        ),
        "InsecureURLError": e.InsecureURLError("refusing to send the management key ..."),
        "DuplicateNameError": e.DuplicateNameError(
            name="prod", provider="openai", workspace_id=_keys()[0].workspace_id, keys=_keys()
        ),
        "UnreadableStateError": e.UnreadableStateError(
            "openai",
            None,
            [asyncbyok.UndecodableItem(index=3, raw={"id": "x", "disabled": "no"}, error="bad")],
        ),
        "ClientClosedError": e.ClientClosedError("the client is closed"),
        "EventLoopError": e.EventLoopError("in use by another event loop"),
        "APIError": e.APIError("odd", **where),
        "APIStatusError": _status(418),
        "BadRequestError": _status(400),
        "AuthenticationError": _status(401),
        "PermissionDeniedError": _status(403),
        "NotFoundError": _status(404),
        "ConflictError": _status(409),
        "RateLimitError": rate_limited,
        "InternalServerError": _status(503),
        "APIConnectionError": e.APIConnectionError("Cannot connect", request_sent=False, **where),
        "APITimeoutError": e.APITimeoutError(**where),
        "APIResponseValidationError": e.APIResponseValidationError(
            "unexpected body", status_code=200, body="[]", request_id="req_2", **where
        ),
        "ResponseTooLargeError": e.ResponseTooLargeError(
            "too large", limit=16, received=17, status_code=200, request_id="req_3", **where
        ),
    }


def test_every_exception_of_the_tree_has_a_pickling_sample() -> None:
    assert set(_samples()) == {*TREE, "AsyncBYOKError"}


@pytest.mark.parametrize("name", sorted({*TREE, "AsyncBYOKError"}))
def test_every_exception_survives_pickling(name: str) -> None:
    """Was: TypeError on unpickling (keyword-only arguments), or a garbled message."""
    original = _samples()[name]
    if isinstance(original, e.APIError):
        original.attempts = 3  # set after the fact, by the retry loop: kept too
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is type(original)
    assert str(copy) == str(original)
    assert repr(copy) == repr(original)
    assert copy.args == original.args
    assert vars(copy) == vars(original)
    for name in ("status", "paths"):  # properties computed from the state
        if hasattr(original, name):
            assert getattr(copy, name) == getattr(original, name)
