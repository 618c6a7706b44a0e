"""The management key as a callable: asked before every attempt, checked, never shown."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

import asyncbyok
from asyncbyok import AsyncBYOKError, AuthenticationError, ValidationError
from asyncbyok.emulator import Emulator, FaultConfig, Faults

from .canary import exception_leaks

OLD = "sk-or-v1-mgmt-OLD-0123456789abcdef"
NEW = "sk-or-v1-mgmt-NEW-0123456789abcdef"


def _sent_keys() -> tuple[list[str], aiohttp.TraceConfig]:
    """The Authorization header of every request a session sends, as sent."""
    sent: list[str] = []

    async def on_start(session: object, context: object, params: Any) -> None:
        sent.append(params.headers["Authorization"])

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    return sent, trace


async def test_a_rotated_key_is_used_by_the_next_attempt_a_retry_included() -> None:
    keys: Iterator[str] = iter([OLD, NEW, NEW])
    sent, trace = _sent_keys()
    unavailable = Faults({"list": FaultConfig(error_rate=1.0, error_statuses=(503,))})
    async with Emulator(seed=9, management_keys=[OLD, NEW], faults=unavailable) as emu:

        def current() -> str:
            key = next(keys)
            if key == NEW:  # rotated: and the server's trouble is over, too
                emu.faults = None
            return key

        async with (
            aiohttp.ClientSession(trace_configs=[trace]) as session,
            asyncbyok.Client(
                api_key=current,
                base_url=emu.base_url,
                session=session,
                retry=asyncbyok.RetryPolicy(max_retries=2, wait_scale=0),
            ) as client,
        ):
            response = await client.byok.with_raw_response.list_page()
            await client.byok.list_page()
    assert response.attempts == 2
    assert sent == [f"Bearer {OLD}", f"Bearer {NEW}", f"Bearer {NEW}"]


async def test_an_async_key_function_is_awaited_for_each_call() -> None:
    asked = SimpleNamespace(times=0)

    async def current() -> str:
        asked.times += 1
        return NEW

    async with (
        Emulator(seed=10, management_keys=[NEW]) as emu,
        asyncbyok.Client(api_key=current, base_url=emu.base_url) as client,
    ):
        await client.byok.list_page()
        await client.with_options(timeout=5).byok.list_page()  # copies ask it too
    assert asked.times == 2


async def test_a_revoked_key_is_the_servers_401() -> None:
    async with (
        Emulator(seed=11, management_keys=[NEW]) as emu,
        asyncbyok.Client(api_key=lambda: OLD, base_url=emu.base_url) as client,
    ):
        with pytest.raises(AuthenticationError) as caught:
            await client.byok.list_page()
    assert not exception_leaks(caught.value, [OLD])


@pytest.mark.parametrize("value", [123, b"bytes-key", ["k"], "   ", "two\nlines"])
def test_anything_but_a_key_or_a_callable_is_refused_naming_api_key(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        asyncbyok.Client(api_key=value)  # type: ignore[arg-type]
    assert caught.value.errors[0].path == "api_key"
    assert "lines" not in str(caught.value)  # the value is not repeated


@pytest.mark.parametrize(
    ("returned", "problem"),
    [(None, "must be a string, not NoneType"), ("", "must not be empty"), (b"k", "bytes")],
)
async def test_a_bad_result_of_the_callable_is_refused_before_anything_is_sent(
    returned: object, problem: str
) -> None:
    async with (
        Emulator(seed=12) as emu,
        asyncbyok.Client(api_key=lambda: returned, base_url=emu.base_url) as client,  # type: ignore[arg-type]
    ):
        with pytest.raises(AsyncBYOKError, match="api_key") as caught:
            await client.byok.list_page()
        assert not emu.stats.requests
    assert problem in str(caught.value)


async def test_a_failing_key_function_names_api_key_and_keeps_the_cause() -> None:
    def vault_down() -> str:
        raise ConnectionError("vault unreachable")

    async with (
        Emulator(seed=13) as emu,
        asyncbyok.Client(api_key=vault_down, base_url=emu.base_url) as client,
    ):
        with pytest.raises(AsyncBYOKError, match="api_key: the callable raised") as caught:
            await client.byok.list_page()
    assert isinstance(caught.value.__cause__, ConnectionError)


def test_the_client_shows_no_key_and_no_function() -> None:
    def secret_reader() -> str:
        return OLD

    client = asyncbyok.Client(api_key=secret_reader)
    assert "secret_reader" not in repr(client)
    assert OLD not in repr(client)
