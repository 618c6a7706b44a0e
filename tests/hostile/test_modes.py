"""The client against every misbehaviour of the hostile server: a typed error, no key.

Each mode must end in the :class:`~asyncbyok.AsyncBYOKError` subclass that says what
happened (never a bare aiohttp exception, ``ValueError`` or ``RecursionError``), with the
management key absent from every exception of the chain: ``repr``, ``str``, attributes,
tracebacks, frame locals, pickles. The key is a canary with no known prefix, so it is
found by value, not by its shape. Time is bounded by the client's own timeout.
"""

from __future__ import annotations

import pytest

from asyncbyok import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncBYOKError,
    BadRequestError,
    Client,
    InternalServerError,
    Limits,
    ResponseTooLargeError,
    RetryPolicy,
    Timeout,
)

from ..canary import exception_leaks
from .memory import CANARY
from .server import MODES, HostileServer, Sizes

_BROKEN = APIConnectionError  # no usable answer: the connection is of no further use
EXPECTED: dict[str, type[AsyncBYOKError]] = {
    "status-garbage": _BROKEN,
    "status-not-http": _BROKEN,
    "status-binary": _BROKEN,
    "status-huge": _BROKEN,
    "header-bad-byte": _BROKEN,
    "header-nul-value": _BROKEN,
    "header-no-colon": _BROKEN,
    "header-huge": _BROKEN,
    "headers-thousands": _BROKEN,
    "length-and-chunked": _BROKEN,
    "length-negative": _BROKEN,
    "chunk-size-garbage": _BROKEN,
    "gzip-corrupt": APIResponseValidationError,  # aiohttp reads it as an empty body
    "close-mid-body": _BROKEN,
    "close-at-once": _BROKEN,
    "echo-in-status-line": _BROKEN,
    "echo-in-header-line": _BROKEN,
    "echo-in-error": BadRequestError,
    "echo-body-in-error": BadRequestError,
    "gzip-bomb": ResponseTooLargeError,
    "deflate-bomb": ResponseTooLargeError,
    "deflate-raw-bomb": ResponseTooLargeError,
    "huge-body": ResponseTooLargeError,
    "huge-body-chunked": ResponseTooLargeError,
    "huge-content-length": ResponseTooLargeError,
    "endless-chunked": ResponseTooLargeError,
    "endless-until-close": ResponseTooLargeError,
    "error-huge-message": ResponseTooLargeError,
    "error-long-message": BadRequestError,
    "json-invalid": APIResponseValidationError,
    "json-not-utf8": APIResponseValidationError,
    "json-nested": APIResponseValidationError,
    "json-nested-in-data": APIResponseValidationError,
    "json-nested-medium": APIResponseValidationError,
    "json-huge-number": APIResponseValidationError,
    "json-nested-error": InternalServerError,
    "json-nested-error-medium": BadRequestError,
    "status-999": InternalServerError,
    "redirect-away": APIStatusError,  # not followed: the key stays with the host named
    "hang": APITimeoutError,
    "hang-mid-headers": APITimeoutError,
    "hang-mid-body": APITimeoutError,
    "trickle": APITimeoutError,
    "endless-1xx": APITimeoutError,
}
# Modes that only end by the client's timeout; every other mode ends on its own.
HANGS = {name for name, error in EXPECTED.items() if error is APITimeoutError}

# The bombs expand to 64 MiB here (1 GiB in test_memory.py, run in a child process): the
# limit is the default 16 MiB either way, and building a 1 GiB bomb costs a second.
SIZES = Sizes(bomb=64 << 20)


def test_every_mode_has_an_expected_error() -> None:
    assert set(EXPECTED) == set(MODES)


def client_for(server: HostileServer, mode: str, **options: object) -> Client:
    # A hang is cut by the client's total timeout; other modes end on their own, and get
    # a minute so that a busy machine can't make them time out instead.
    timeout = Timeout(0.3) if mode in HANGS else Timeout(60)
    return Client(
        api_key=CANARY,
        base_url=server.base_url(mode),
        retry=RetryPolicy(max_retries=0),
        timeout=timeout,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("mode", sorted(EXPECTED))
async def test_a_hostile_answer_raises_a_typed_error_without_the_key(mode: str) -> None:
    async with HostileServer(SIZES) as server, client_for(server, mode) as client:
        with pytest.raises(AsyncBYOKError) as caught:
            await client.byok.list()
    assert type(caught.value) is EXPECTED[mode], repr(caught.value)
    assert not exception_leaks(caught.value, [CANARY])
    assert len(str(caught.value)) < 2000  # messages quote the answer, never all of it


@pytest.mark.parametrize("mode", ["echo-in-status-line", "echo-in-header-line"])
async def test_the_aiohttp_cause_is_kept_scrubbed_for_debugging(mode: str) -> None:
    async with HostileServer(SIZES) as server, client_for(server, mode) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.byok.list()
    cause = caught.value.__cause__
    assert type(cause).__name__ == "ClientResponseError"  # the real class, not a stand-in
    assert cause.request_info.headers["Authorization"] == "<redacted>"  # type: ignore[attr-defined]
    assert "<redacted>" in str(caught.value)  # the echoed key, replaced
    assert "ClientResponseError" in str(caught.value)


async def test_an_echoed_key_is_redacted_in_the_error_body_and_headers() -> None:
    async with HostileServer(SIZES) as server, client_for(server, "echo-in-error") as client:
        with pytest.raises(BadRequestError) as caught:
            await client.byok.list()
    assert caught.value.message == "bad: <redacted>"
    assert caught.value.headers["X-Echo"] == "<redacted>"


async def test_an_echoed_rotating_key_is_redacted_too() -> None:
    async with HostileServer(SIZES) as server:
        client = Client(
            api_key=lambda: CANARY,
            base_url=server.base_url("echo-in-error"),
            retry=RetryPolicy(max_retries=0),
        )
        async with client:
            with pytest.raises(BadRequestError) as caught:
                await client.byok.list()
    assert caught.value.message == "bad: <redacted>"
    assert not exception_leaks(caught.value, [CANARY])


async def test_an_echoed_provider_key_is_redacted_like_the_management_key() -> None:
    raw = "sk-proj-ECHOED-provider-key-0123456789"
    key_id = "11111111-2222-3333-4444-555555555555"
    async with HostileServer(SIZES) as server:
        async with client_for(server, "echo-body-in-error") as client:
            with pytest.raises(BadRequestError) as created:
                await client.byok.create(provider="openai", key=raw, name="echo")
        async with client_for(server, "echo-body-in-error") as client:  # a new connection
            with pytest.raises(BadRequestError) as updated:
                await client.byok.update(key_id, key=raw)
    for caught in (created, updated):
        assert "cannot accept" in caught.value.message  # the message, the key cut out
        assert "<redacted>" in caught.value.message
        assert "<redacted>" in caught.value.headers["X-Echo"]
        assert not exception_leaks(caught.value, [raw, CANARY], frame_locals=False)


@pytest.mark.parametrize(
    ("mode", "received"),
    [
        ("huge-content-length", 10**12),  # refused before a byte of body is read
        ("gzip-bomb", None),  # stopped a chunk past the limit, counted decompressed
        ("error-huge-message", 50 * (1 << 20) + 39),  # a 500's body is bounded too
    ],
)
async def test_a_body_over_the_limit_is_not_retried_and_names_the_limit(
    mode: str, received: int | None
) -> None:
    limit = 1 << 20
    async with HostileServer(SIZES) as server:
        options = {"limits": Limits(max_response_size=limit)}
        async with client_for(server, mode, **options) as client:
            retrying = client.with_options(retry=RetryPolicy(max_retries=3, wait_scale=0))
            with pytest.raises(ResponseTooLargeError) as caught:
                await retrying.byok.list()
        assert server.hits[mode] == 1  # not retried as if it were transient
    error = caught.value
    assert error.limit == limit
    assert "max_response_size" in str(error)
    assert error.received == received if received else limit < error.received < 2 * limit
    assert error.attempts == 1
    assert error.status_code == (500 if mode.startswith("error") else 200)


async def test_a_body_at_the_limit_is_read() -> None:
    """The limit is inclusive, and counts the decompressed bytes."""
    async with HostileServer(Sizes(bomb=1 << 20)) as server:
        options = {"limits": Limits(max_response_size=1 << 20)}
        async with client_for(server, "gzip-bomb", **options) as client:
            with pytest.raises(APIResponseValidationError):  # read whole: zeros aren't JSON
                await client.byok.list()
