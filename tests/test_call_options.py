"""One call's options: ``timeout=``, ``max_retries=`` and ``extra_headers=`` on every
method of ``client.byok``, and ``with_options(default_headers=...)``; none outlives its
call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

import asyncbyok
from asyncbyok import APITimeoutError, InternalServerError, ValidationError
from asyncbyok.emulator import Emulator, FaultConfig, Faults

from .conftest import RAW, client_for


@pytest.fixture
async def sent() -> AsyncIterator[tuple[list[dict[str, str]], aiohttp.ClientSession]]:
    """The headers of every request a session sends, and the session."""
    headers: list[dict[str, str]] = []

    async def on_start(session: object, context: object, params: Any) -> None:
        headers.append(dict(params.headers))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        yield headers, session


async def test_extra_headers_go_with_that_call_only(
    emulator: Emulator, sent: tuple[list[dict[str, str]], aiohttp.ClientSession]
) -> None:
    headers, session = sent
    async with client_for(emulator, session=session) as client:
        key = await client.byok.create(
            provider="openai", key=RAW, name="traced", extra_headers={"X-Trace-Id": "t-1"}
        )
        await client.byok.get(key.id)
        await client.byok.update(key.id, name="renamed", extra_headers={"X-Trace-Id": "t-2"})
        pages = [k async for k in client.byok.list(extra_headers={"X-Trace-Id": "t-3"})]
        await client.byok.delete(key.id, extra_headers={"X-Trace-Id": "t-4"})
    assert len(pages) == 1
    assert [h.get("X-Trace-Id") for h in headers] == ["t-1", None, "t-2", "t-3", "t-4"]
    assert all(h["Authorization"] == f"Bearer {emulator.management_key}" for h in headers)


async def test_a_timeout_for_one_call_leaves_the_client_s_alone() -> None:
    slow = Faults({"get": FaultConfig(latency=0.5)})
    async with (
        Emulator(seed=31, faults=slow, shutdown_timeout=0.1) as emu,
        client_for(emu) as client,
    ):
        key = await client.byok.create(provider="openai", key=RAW, name="slow")
        with pytest.raises(APITimeoutError):
            await client.byok.get(key.id, timeout=0.05, max_retries=0)
        assert client.timeout == asyncbyok.Timeout()  # the client's own, unchanged
        emu.faults = None
        assert (await client.byok.get(key.id)).id == key.id


async def test_max_retries_for_one_call() -> None:
    failing = Faults({"list": FaultConfig(error_rate=1.0, error_statuses=(500,))})
    async with (
        Emulator(seed=32, faults=failing) as emu,
        client_for(emu, max_retries=2) as client,
    ):
        with pytest.raises(InternalServerError) as once:
            await client.byok.list_page(max_retries=0)
        with pytest.raises(InternalServerError) as thrice:
            await client.byok.list_page()
    assert (once.value.attempts, thrice.value.attempts) == (1, 3)


async def test_bad_call_options_are_refused_before_anything_is_sent(emulator: Emulator) -> None:
    async with client_for(emulator) as client:
        with pytest.raises(ValidationError) as caught:
            await client.byok.list_page(extra_headers={"Bad Name": "v"})
        with pytest.raises(ValidationError, match="extra_headers"):
            client.byok.list(extra_headers={"X-Ok": "line\nbreak"})
    assert caught.value.errors[0].path == "extra_headers['Bad Name']"
    assert not emulator.stats.requests


async def test_with_options_adds_default_headers_to_the_copy_only(
    emulator: Emulator, sent: tuple[list[dict[str, str]], aiohttp.ClientSession]
) -> None:
    headers, session = sent
    async with client_for(emulator, session=session, default_headers={"X-Team": "a"}) as client:
        tagged = client.with_options(default_headers={"x-team": "b", "X-Tenant": "t"})
        await tagged.byok.list_page()
        await client.byok.list_page()
    copy, parent = headers
    assert (copy.get("x-team"), copy.get("X-Team"), copy["X-Tenant"]) == ("b", None, "t")
    assert (parent["X-Team"], parent.get("X-Tenant")) == ("a", None)


def test_the_blocking_client_takes_them_too() -> None:
    with (
        Emulator(seed=33, shutdown_timeout=0.1).run_in_thread() as emu,
        asyncbyok.SyncClient(api_key=emu.management_key, base_url=emu.base_url) as client,
    ):
        page = client.byok.list_page(timeout=5, max_retries=0, extra_headers={"X-A": "1"})
    assert page.total_count == 0
