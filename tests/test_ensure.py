"""``client.byok.ensure``: get-or-create by name, safe to repeat after timeouts."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from typing import Any

import pytest

import asyncbyok
from asyncbyok import Client, DuplicateNameError, RetryPolicy, ValidationError
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

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


def _listing(keys: int) -> int:
    """Requests in one listing of *keys* credentials: pages of 100 that overlap by 5."""
    return 1 + -(-max(0, keys - 100) // 95)


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


# -- at scale -------------------------------------------------------------------------------


async def test_ensure_many_lists_each_scope_once_and_writes_only_what_is_needed() -> None:
    # 2,000 credentials already there (20 pages); 100 names asked for: 50 of them exist
    # (10 with a setting to change), 50 must be made; plus 3 in another provider.
    async with (
        Emulator(seed_keys={"openai": 2_000, "anthropic": 3}, seed=6) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as c,
    ):
        existing = [f"seed-openai-{i:06d}" for i in range(0, 2_000, 40)]
        specs: list[dict[str, Any]] = [
            {"provider": "openai", "name": n, "disabled": i < 10} for i, n in enumerate(existing)
        ]
        specs += [{"provider": "openai", "name": f"new-{i}", "key": RAW} for i in range(50)]
        specs += [
            asyncbyok.EnsureSpec(provider="anthropic", name=f"seed-anthropic-{i:06d}")
            for i in range(3)
        ]
        seen: list[asyncbyok.EnsureOutcome] = []
        outcomes = await c.byok.ensure_many(specs, on_progress=seen.append)
    assert [o.index for o in outcomes] == list(range(103))
    assert all(o.ok for o in outcomes), next(o.error for o in outcomes if not o.ok)
    actions = collections.Counter(o.result.action for o in outcomes if o.result)
    assert actions == {"created": 50, "updated": 10, "unchanged": 43}
    assert len(seen) == 103
    assert emu.stats.requests["list"] == _listing(2_000) + _listing(3)  # once per scope
    assert emu.stats.requests["create"] == 50
    assert emu.stats.requests["update"] == 10
    assert len(emu.store.live()) == 2_053


async def test_ensure_many_checks_everything_before_anything_is_sent(
    client: Client, emu: Emulator
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.byok.ensure_many(
            [
                {"provider": "openai", "name": "a", "key": RAW},
                {"provider": "openai", "name": "b", "allowed_api_key_hashes": ["x"]},
                {"provider": "openai", "name": "a"},
                {"provider": "openai", "name": "c", "colour": "red"},
            ],
            concurrency=0,
        )
    assert info.value.paths == [
        "specs[1].allowed_api_key_hashes[0]",
        "specs[2]",
        "specs[3]",
        "concurrency",
    ]
    assert sum(emu.stats.requests.values()) == 0


async def test_ensure_many_reports_one_items_problem_as_its_outcome(
    client: Client, emu: Emulator
) -> None:
    await client.byok.create(provider="openai", key=RAW, name="twin")
    await client.byok.create(provider="openai", key=OTHER, name="twin")
    outcomes = await client.byok.ensure_many(
        [
            {"provider": "openai", "name": "twin"},
            {"provider": "openai", "name": "keyless"},
            {"provider": "openai", "name": "fine", "key": RAW},
        ]
    )
    assert isinstance(outcomes[0].error, DuplicateNameError)
    assert isinstance(outcomes[1].error, ValidationError)
    assert outcomes[2].result is not None
    assert outcomes[2].result.action == "created"
    assert RAW not in repr(outcomes)


async def test_ensure_with_max_age_reuses_a_listing_and_sees_its_own_writes() -> None:
    async with (
        Emulator(seed_keys=2_000, seed=8) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as c,
    ):
        for i in range(20):
            done = await c.byok.ensure(
                provider="openai", name=f"seed-openai-{i:06d}", disabled=False, max_age=60
            )
            assert done.action == "unchanged"
        assert emu.stats.requests["list"] == _listing(2_000)  # one listing for 20 calls
        made = await c.byok.ensure(provider="openai", name="tenant-1", key=RAW, max_age=60)
        again = await c.byok.ensure(provider="openai", name="tenant-1", key=RAW, max_age=60)
        assert (made.action, again.action) == ("created", "unchanged")
        assert again.key.id == made.key.id
        await c.byok.delete(made.key.id)
        remade = await c.byok.ensure(provider="openai", name="tenant-1", key=RAW, max_age=60)
        assert remade.action == "created"
        assert emu.stats.requests["list"] == _listing(2_000)  # still that one listing
        fresh = await c.byok.ensure(provider="openai", name="tenant-1", key=RAW)
        assert fresh.action == "unchanged"
        assert emu.stats.requests["list"] == _listing(2_000) + _listing(2_001)  # lists anew
    assert collections.Counter(r.name for r in emu.store.live())["tenant-1"] == 1


async def test_concurrent_ensures_of_one_scope_share_a_listing() -> None:
    async with (
        Emulator(seed_keys=1_000, seed=9) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as c,
    ):
        results = await asyncio.gather(
            *(c.byok.ensure(provider="openai", name=f"t{i}", key=RAW) for i in range(20))
        )
    assert [r.action for r in results] == ["created"] * 20
    assert emu.stats.requests["list"] == _listing(1_000)  # one listing, not twenty


async def test_a_fresh_clients_listing_does_not_stampede_a_limit_it_does_not_know() -> None:
    # 3,000 credentials (32 pages) under 10 requests per 0.2 s window: a fresh client
    # knows nothing of the limit, and every page it has in flight when the window's
    # quota runs out is refused. Fanning out 16 pages at once met 12 to 16 429s here; a
    # fan-out that grows only while pages come back unhindered meets 3 to 5.
    limit = RateLimit(rate=50.0, kind="window", window=0.2, retry_after="fractional")
    async with (
        Emulator(seed_keys=3_000, seed=10, rate_limit=limit) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as c,
    ):
        names = [f"seed-openai-{i:06d}" for i in range(0, 3_000, 300)]
        outcomes = await c.byok.ensure_many([{"provider": "openai", "name": n} for n in names])
    assert [o.result.action for o in outcomes if o.result] == ["unchanged"] * 10
    assert emu.stats.rate_limited <= 10
    assert emu.stats.requests["list"] == _listing(3_000) + emu.stats.rate_limited
