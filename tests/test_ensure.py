"""``client.byok.ensure``: get-or-create by name, safe to repeat after timeouts."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator

import pytest

from asyncbyok import Client, DuplicateNameError, RetryPolicy, ValidationError
from asyncbyok.emulator import Emulator, FaultConfig, Faults

RAW = "sk-proj-ensure-0123456789-AbCd"
OTHER = "sk-proj-ensure-9876543210-WxYz"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=5) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[Client]:
    retry = RetryPolicy(wait_scale=0.0)
    async with Client(api_key=emu.management_key, base_url=emu.base_url, retry=retry) as c:
        yield c


def _names(emu: Emulator) -> collections.Counter[str | None]:
    return collections.Counter(r.name for r in emu.store.live())


async def test_creates_then_leaves_alone_then_updates_what_differs(
    client: Client, emu: Emulator
) -> None:
    first = await client.byok.ensure(provider="openai", name="prod", key=RAW, disabled=True)
    assert first.action == "created"
    assert first.key.disabled is True
    again = await client.byok.ensure(provider="openai", name="prod", key=RAW, disabled=True)
    assert (again.action, again.changed, again.key.id) == ("unchanged", (), first.key.id)
    changed = await client.byok.ensure(
        provider="openai", name="prod", key=RAW, disabled=False, allowed_models=["openai/o3"]
    )
    assert changed.action == "updated"
    assert set(changed.changed) == {"disabled", "allowed_models"}
    assert changed.key.allowed_models == ["openai/o3"]
    assert changed.key.label == first.key.label  # the key is not rotated unless asked
    assert _names(emu) == {"prod": 1}


async def test_rotates_the_key_only_when_asked(client: Client, emu: Emulator) -> None:
    first = await client.byok.ensure(provider="openai", name="rot", key=RAW)
    same = await client.byok.ensure(provider="openai", name="rot", key=OTHER)
    assert same.action == "unchanged"
    assert same.key.label == first.key.label
    rotated = await client.byok.ensure(provider="openai", name="rot", key=OTHER, rotate_key=True)
    assert rotated.action == "rotated"
    assert rotated.changed == ("key",)
    assert rotated.key.label != first.key.label
    assert rotated.key.id == first.key.id


async def test_two_credentials_with_the_name_are_an_error_listing_them(
    client: Client, emu: Emulator
) -> None:
    a = await client.byok.create(provider="openai", key=RAW, name="twin")
    b = await client.byok.create(provider="openai", key=OTHER, name="twin")
    with pytest.raises(DuplicateNameError) as info:
        await client.byok.ensure(provider="openai", name="twin", key=RAW)
    assert {k.id for k in info.value.keys} == {a.id, b.id}
    assert a.id in str(info.value)
    assert b.id in str(info.value)
    assert RAW not in str(info.value)


async def test_bad_input_is_refused_before_anything_is_sent(client: Client, emu: Emulator) -> None:
    with pytest.raises(ValidationError) as info:
        await client.byok.ensure(
            provider="openai", name="x", key=RAW, allowed_api_key_hashes=["not-hex"]
        )
    assert "allowed_api_key_hashes" in str(info.value)
    with pytest.raises(ValidationError, match="workspace_id"):
        await client.byok.ensure(provider="openai", name="x", key=RAW, workspace_id="ws-1")
    with pytest.raises(ValidationError, match="key"):
        await client.byok.ensure(provider="openai", name="x", rotate_key=True)
    with pytest.raises(TypeError, match="colour"):
        await client.byok.ensure(provider="openai", name="x", key=RAW, colour="red")
    assert sum(emu.stats.requests.values()) == 0
    with pytest.raises(ValidationError, match="key"):  # needed only once it must create
        await client.byok.ensure(provider="openai", name="absent")
    assert emu.store.live() == []


async def test_safe_to_call_again_after_timeouts(client: Client, emu: Emulator) -> None:
    # A slow server: every create is stored after 0.3 s, long after the caller gave up.
    emu.faults = Faults({"create": FaultConfig(latency=0.3)})
    names = [f"slow-{i}" for i in range(10)]
    for name in names:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.byok.ensure(provider="openai", name=name, key=RAW), 0.05)
    results = [await client.byok.ensure(provider="openai", name=n, key=RAW) for n in names]
    assert _names(emu) == dict.fromkeys(names, 1)  # not one duplicate
    assert {r.action for r in results} <= {"created", "unchanged"}


async def test_concurrent_calls_for_one_name_make_one_credential(
    client: Client, emu: Emulator
) -> None:
    results = await asyncio.gather(
        *(client.byok.ensure(provider="openai", name="same", key=RAW) for _ in range(8))
    )
    assert _names(emu) == {"same": 1}
    assert [r.action for r in results].count("created") == 1
    assert len({r.key.id for r in results}) == 1


async def test_raw_ensure_gives_the_facts_of_its_last_request(client: Client) -> None:
    raw = await client.byok.with_raw_response.ensure(provider="openai", name="r", key=RAW)
    assert raw.parsed.action == "created"
    assert raw.method == "POST"
    assert raw.request_id
