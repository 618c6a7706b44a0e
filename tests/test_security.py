"""Secrets: the management key and raw provider keys appear in no log, repr or error."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

import asyncbyok
from asyncbyok import Client, RetryPolicy, Timeout
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

from .canary import exception_leaks, texts_of
from .hostile.test_modes import EXPECTED as FROM_THE_HOSTILE_SERVER

MANAGEMENT_KEY = "sk-or-v1-mgmt-CANARY-0a1b2c3d4e5f"
RAW_KEY = "sk-proj-RAWCANARY-9f8e7d6c5b4a"
ROTATED_KEY = "sk-proj-ROTATEDCANARY-1234abcd"
SECRETS = (MANAGEMENT_KEY, RAW_KEY, ROTATED_KEY, "CANARY")


def _texts(obj: object, *, frame_locals: bool = False) -> list[str]:
    if isinstance(obj, BaseException):  # the whole cause/context chain, frames and all
        return [text for _, text in texts_of(obj, frame_locals=frame_locals)]
    return [repr(obj), str(obj)]


# The exceptions test_canary_never_leaks provokes, through the emulator.
FROM_THE_EMULATOR = (
    "ValidationError",
    "BadRequestError",
    "NotFoundError",
    "ConflictError",
    "InternalServerError",
    "RateLimitError",
    "PermissionDeniedError",
    "APIConnectionError",
    "APITimeoutError",
    "InsecureURLError",
)


async def test_canary_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp's, asyncio's
    seen: list[object] = []

    async def attempt(coro: object) -> None:
        try:
            seen.append(await coro)  # type: ignore[misc]
        except Exception as exc:
            seen.append(exc)

    async with Emulator(seed=5, management_keys=[MANAGEMENT_KEY]) as emu:
        async with Client(
            api_key=MANAGEMENT_KEY,
            base_url=emu.base_url,
            retry=RetryPolicy(max_retries=2, wait_scale=0),
            timeout=Timeout(0.3),
            on_retry=seen.append,
            event_hooks={
                "request": [seen.append],
                "response": [seen.append],
                "error": [seen.append],
            },
        ) as c:
            seen.append(c)
            key = await c.byok.create(provider="openai", key=RAW_KEY, name="canary")
            seen.append(key)
            await attempt(c.byok.create(provider="openai", key=RAW_KEY, name="x" * 300))
            await attempt(c.byok.create(provider="nope", key=RAW_KEY))  # 400 from the server
            await attempt(c.byok.get("00000000-0000-0000-0000-000000000000"))  # 404
            seen.append(asyncbyok.CreateBYOKKeyRequest(provider="openai", key=RAW_KEY))
            seen.append(asyncbyok.UpdateBYOKKeyRequest(key=ROTATED_KEY))
            await attempt(c.byok.update(key.id, key=ROTATED_KEY))
            await attempt(c.byok.with_raw_response.get(key.id))
            for faults in (
                Faults({"create": FaultConfig(commit_then_error_rate=1.0)}),
                Faults({"create": FaultConfig(commit_then_drop_rate=1.0)}),
                Faults({"create": FaultConfig(reset_rate=1.0)}),
                Faults({"create": FaultConfig(slow_rate=1.0, slow_seconds=1.0)}),
                Faults({"update": FaultConfig(conflict_rate=1.0)}),
                Faults.everywhere(error_rate=1.0),
            ):
                emu.faults = faults
                await attempt(c.byok.create(provider="openai", key=RAW_KEY, name="again"))
                await attempt(c.byok.update(key.id, key=ROTATED_KEY))
            emu.faults = None
            emu.rate_limit = RateLimit(rate=0.001, burst=1)
            await attempt(c.byok.list())
            await attempt(c.byok.list())  # 429, Retry-After past the cap
        async with Client(api_key=emu.api_key, base_url=emu.base_url) as other:
            await attempt(other.byok.list())  # 403
    fast = RetryPolicy(wait_scale=0)  # the backoff waits are not what this test is about
    async with Client(
        api_key=MANAGEMENT_KEY, base_url="http://127.0.0.1:9/api/v1", retry=fast
    ) as dead:
        await attempt(dead.byok.create(provider="openai", key=RAW_KEY))  # refused
    await attempt(_insecure())

    kinds = {type(o).__name__ for o in seen}
    for expected in (
        *FROM_THE_EMULATOR,
        "RetryEvent",
        "RequestEvent",
        "ResponseEvent",
        "ErrorEvent",
    ):
        assert expected in kinds, expected
    haystack = [r.getMessage() for r in caplog.records] + [t for o in seen for t in _texts(o)]
    assert any("retrying" in h for h in haystack)  # DEBUG/INFO logging did capture our lines
    for secret in SECRETS:
        leaks = [h for h in haystack if secret in h]
        assert not leaks, f"{secret!r} leaked: {leaks[0][:300]}"
    # The management key is in no frame of ours either (a raw key passed as an argument
    # is, like any argument, a local of the calls it goes through).
    frames = [t for o in seen for t in _texts(o, frame_locals=True)]
    assert not [t for t in frames if MANAGEMENT_KEY in t]


async def _insecure() -> None:
    Client(api_key=MANAGEMENT_KEY, base_url="http://example.com/api/v1")


PASSWORD = "hunter2-CANARY-pw"


@pytest.mark.parametrize(
    "url",
    [
        f"http://user:{PASSWORD}@127.0.0.1:8080/api/v1",
        f"https://user:{PASSWORD}@openrouter.ai/api/v1",
        f"https://{PASSWORD}@openrouter.ai/api/v1",
        f"https://:{PASSWORD}@openrouter.ai/api/v1",
    ],
)
def test_a_base_url_with_a_password_is_refused_without_showing_it(url: str) -> None:
    """Was: accepted; repr(client) showed the password and every request failed with a
    bare ValueError from aiohttp."""
    with pytest.raises(asyncbyok.ValidationError) as caught:
        Client(api_key=MANAGEMENT_KEY, base_url=url, allow_insecure_http=True)
    assert caught.value.paths == ["base_url"]
    assert "user name or password" in str(caught.value)
    # The URL is an argument: a local of the calls it went through, as any argument is.
    assert not exception_leaks(caught.value, [PASSWORD], frame_locals=False)
    assert not exception_leaks(caught.value, [MANAGEMENT_KEY])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://openrouter.ai/api/v1", "must start with https:// (or http:// for loopback), "
         "not ftp://"),
        (MANAGEMENT_KEY, "must start with https:// (or http:// for loopback)"),
        ("https:///api/v1", "must name a host"),
        ("https://[::1/api/v1", "is not a valid URL"),
        ("https://openrouter.ai:99999/api/v1", "has a port that is not a number"),
    ],
)  # fmt: skip
def test_a_base_url_the_client_cannot_use_is_refused_naming_the_field(
    url: str, message: str
) -> None:
    """Was: the ftp URL was refused with the message about plain http (the command's)."""
    with pytest.raises(asyncbyok.ValidationError) as caught:
        Client(api_key=MANAGEMENT_KEY, base_url=url)
    assert str(caught.value).startswith(f"1 invalid field in Client\n  base_url: {message}")
    # Not quoted: a base_url may be a key pasted in the wrong place (the second case).
    assert not exception_leaks(caught.value, [MANAGEMENT_KEY], frame_locals=False)


async def _raised(call: object) -> BaseException:
    try:
        await call  # type: ignore[misc]
    except BaseException as exc:
        return exc
    raise AssertionError("nothing raised")


async def _the_rest_of_the_tree(emu: Emulator) -> list[BaseException]:
    """The exceptions neither the emulator test nor the hostile server provokes."""
    raised = []
    async with Client(api_key=MANAGEMENT_KEY, base_url=emu.base_url) as client:
        await client.byok.create(provider="openai", key=RAW_KEY, name="twice")
        await client.byok.create(provider="openai", key=RAW_KEY, name="twice")
        raised.append(await _raised(client.byok.ensure(provider="openai", name="twice")))
    raised.append(await _raised(client.byok.list()))  # closed
    stranger = Client(api_key=f"{MANAGEMENT_KEY}-unknown", base_url=emu.base_url)
    async with stranger:
        raised.append(await _raised(stranger.byok.list()))  # 401
    try:
        Client(api_key="", base_url=emu.base_url)
    except asyncbyok.AsyncBYOKError as exc:
        raised.append(exc)
    return raised


def _event_loop_error(emu: Emulator) -> BaseException:
    """A client used by two running event loops at once."""
    client = Client(api_key=MANAGEMENT_KEY, base_url=emu.base_url)
    bound, release = threading.Event(), threading.Event()

    async def hold() -> None:
        await client.byok.list()
        bound.set()
        await asyncio.to_thread(release.wait, 30)

    thread = threading.Thread(target=asyncio.run, args=(hold(),))
    thread.start()
    try:
        assert bound.wait(30)
        return asyncio.run(_raised(client.byok.list()))
    finally:
        release.set()
        thread.join(30)


def test_every_exception_of_the_tree_is_canary_free() -> None:
    """With the emulator test and the hostile server's, every class the SDK raises.

    UnreadableStateError is apply's (its items come from a listing, never from a
    request) and APIError is only ever raised as one of its subclasses: both are
    checked built by hand, in tests/test_errors.py (pickling).
    """
    with Emulator(management_keys=[MANAGEMENT_KEY], api_keys=[]).run_in_thread() as emu:
        raised = asyncio.run(_the_rest_of_the_tree(emu))
        raised.append(_event_loop_error(emu))
    for exc in raised:
        assert not exception_leaks(exc, [MANAGEMENT_KEY])
        assert not exception_leaks(exc, [RAW_KEY], frame_locals=False)
    here = {type(exc).__name__ for exc in raised}
    assert here == {
        "DuplicateNameError",
        "ClientClosedError",
        "AuthenticationError",
        "AsyncBYOKError",
        "EventLoopError",
    }
    hostile = {cls.__name__ for cls in FROM_THE_HOSTILE_SERVER.values()}
    tree = {name for name in asyncbyok.errors.__all__ if name.endswith("Error")}
    tree -= {"FieldError", "APIError", "UnreadableStateError"}
    assert tree | {"AsyncBYOKError"} == here | hostile | set(FROM_THE_EMULATOR)


@pytest.mark.parametrize(
    "key",
    [
        "f00dface4bee9c0ffee5a1b2c3d4e5f6",  # no prefix to know it by
        "f00dface4bee9c0ffee5a1b2c3d4e5f6" * 3,  # long: quoted cut short, it would show
        "sk-proj-PASTED0pasted1PASTED2pasted3",  # the shape of a key
    ],
)
def test_a_key_pasted_into_the_workspace_id_is_not_echoed(key: str) -> None:
    with pytest.raises(asyncbyok.ValidationError) as caught:
        asyncbyok.CreateBYOKKeyRequest(provider="openai", key=key, workspace_id=key)
    text = str(caught.value) + repr(caught.value) + repr(caught.value.errors)
    assert "workspace_id" in text
    assert "must be a UUID" in text
    assert key[:12] not in text
    assert key[-12:] not in text
