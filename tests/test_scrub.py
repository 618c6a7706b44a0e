"""Scrubbing secrets from exception chains and echoed answers (asyncbyok._scrub)."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from asyncbyok._scrub import (
    REDACTED,
    ScrubbedError,
    redact,
    redact_response,
    request_secrets,
    scrub_chain,
)

from .canary import exception_leaks

KEY = "mgmt-canary-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
HEADERS = {"Authorization": f"Bearer {KEY}", "User-Agent": "asyncbyok/test"}
SECRETS = request_secrets(HEADERS)


def test_the_secrets_are_the_credential_headers_and_their_tokens() -> None:
    assert request_secrets(HEADERS) == (f"Bearer {KEY}", KEY)  # longest first
    assert request_secrets({"Proxy-Authorization": "Basic abc", "Accept": "x"}) == (
        "Basic abc",
        "abc",
    )
    assert request_secrets({"User-Agent": "asyncbyok"}) == ()


def _response_error() -> aiohttp.ClientResponseError:
    url = URL("http://127.0.0.1:9/api/v1/byok")
    headers = CIMultiDictProxy(CIMultiDict(HEADERS))
    info = aiohttp.RequestInfo(url, "GET", headers, url)
    return aiohttp.ClientResponseError(info, (), status=400, message=f"bad line: {KEY}")


def _raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    """*exc* as raised, with a traceback whose frame holds the key in a local variable."""
    authorization = HEADERS["Authorization"]  # noqa: F841 - what aiohttp's frames hold
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


def test_an_aiohttp_response_error_is_scrubbed_in_place_and_kept() -> None:
    inner = _raised(ValueError(f"while parsing {KEY!r}"))
    error = _raised(_response_error(), inner)
    assert exception_leaks(error, SECRETS)  # as aiohttp raises it: the key, everywhere
    cause = scrub_chain(error, SECRETS)
    assert cause is error  # the original, class and all, for isinstance checks
    assert not exception_leaks(error, SECRETS)
    assert error.request_info.headers["Authorization"] == REDACTED  # type: ignore[attr-defined]
    assert error.request_info.headers["User-Agent"] == "asyncbyok/test"  # type: ignore[attr-defined]
    assert error.args[0] is error.request_info  # type: ignore[attr-defined]
    assert error.message == f"bad line: {REDACTED}"  # type: ignore[attr-defined]
    assert error.__traceback__ is None  # its frames' locals held the key
    assert error.__cause__ is inner
    assert str(inner) == f"while parsing '{REDACTED}'"


class _Odd(Exception):
    """An exception keeping the key where scrubbing does not look (a nested attribute)."""

    def __init__(self) -> None:
        super().__init__("odd")
        self.kept = {"headers": dict(HEADERS)}


def test_an_exception_that_cannot_be_cleaned_is_replaced_by_a_stand_in() -> None:
    error = _raised(_response_error(), _raised(_Odd()))
    cause = scrub_chain(error, SECRETS)
    assert cause is error
    assert type(error.__cause__) is ScrubbedError
    assert str(error.__cause__) == f"{__name__}._Odd: odd"
    assert not exception_leaks(error, SECRETS)

    alone = _raised(_Odd())
    stand_in = scrub_chain(alone, SECRETS)  # the head itself: what to chain to instead
    assert type(stand_in) is ScrubbedError
    assert not exception_leaks(stand_in, SECRETS)


def test_a_chain_with_a_loop_ends() -> None:
    first, second = ValueError(KEY), ValueError("x")
    first.__context__, second.__context__ = second, first
    assert scrub_chain(first, SECRETS) is first
    assert str(first) == REDACTED


@pytest.mark.parametrize("headers", [{"X-Echo": f"Bearer {KEY}"}, CIMultiDict(X_Echo=KEY)])
def test_an_echoed_key_is_redacted_from_the_answer(headers: dict[str, str]) -> None:
    body = f'{{"error": {{"message": "got Bearer {KEY}"}}}}'.encode()
    new_headers, new_body = redact_response(headers, body, SECRETS)
    assert new_body == b'{"error": {"message": "got <redacted>"}}'
    assert KEY not in repr(new_headers)
    assert type(new_headers) is type(headers)


def test_an_answer_without_the_key_is_returned_as_it_is() -> None:
    headers = CIMultiDictProxy(CIMultiDict({"X-Request-Id": "r"}))
    body = b'{"data": []}'
    assert redact_response(headers, body, SECRETS) == (headers, body)
    assert redact_response(headers, body, ())[0] is headers


def test_a_secret_too_short_to_find_safely_is_left_alone() -> None:
    # "k" is in "key" and "sk-...": scrubbing it would corrupt every answer.
    body = b'{"data": {"label": "sk-...abcd", "key_hint": "k"}}'
    headers, scrubbed = redact_response({"X-Key": "k"}, body, ("Bearer k", "k"))
    assert scrubbed == body
    assert headers["X-Key"] == "k"
    assert redact("a key", ("k",)) == "a key"
    assert redact("Bearer sk-or-v1-long", ("sk-or-v1-long",)) == "Bearer <redacted>"
