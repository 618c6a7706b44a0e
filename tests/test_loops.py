"""Calls in flight and closing (:mod:`asyncbyok._loops`): aclose() cuts every call short,
whatever it is waiting for, and each ends with ClientClosedError."""

from __future__ import annotations

import asyncio

import pytest

import asyncbyok
from asyncbyok import ClientClosedError
from asyncbyok.emulator import Emulator, FaultConfig, Faults

from .conftest import RAW, client_for


async def test_aclose_during_a_lookup_makes_the_create_raise_client_closed() -> None:
    faults = Faults(
        {
            "create": FaultConfig(commit_then_error_rate=1.0),
            "list": FaultConfig(latency=2.0),
        }
    )
    async with Emulator(faults=faults) as emu:
        client = client_for(emu)
        create = asyncio.ensure_future(client.byok.create(provider="openai", key=RAW, name="c"))
        for _ in range(300):  # until the create is in its lookup
            if emu.stats.requests["list"]:
                break
            await asyncio.sleep(0.01)
        await client.aclose()
        with pytest.raises(ClientClosedError):
            await asyncio.wait_for(create, 1)
        assert not create.cancelled()
        with pytest.raises(ClientClosedError):
            await client.byok.list()


async def test_aclose_during_a_listing_raises_client_closed_in_a_taskgroup_free_way() -> None:
    async with Emulator(faults=Faults({"list": FaultConfig(latency=0.5)})) as emu:
        client = client_for(emu)
        for _ in range(3):
            await client.byok.create(provider="openai", key=RAW, name=None)

        async def collect() -> list[asyncbyok.BYOKKey]:
            return [k async for k in client.byok.list(limit=1)]

        task = asyncio.ensure_future(collect())
        await asyncio.sleep(0.1)
        await client.aclose()
        with pytest.raises(ClientClosedError):
            await task
        current = asyncio.current_task()
        assert current is not None
        assert getattr(current, "cancelling", lambda: 0)() == 0  # nobody cancelled us
