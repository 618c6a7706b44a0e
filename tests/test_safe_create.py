"""No duplicates when creates fail ambiguously, under seeded faults."""

from __future__ import annotations

import asyncio
import collections

import asyncbyok
from asyncbyok import APIError, Client, RetryPolicy
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit


def _names(emu: Emulator) -> collections.Counter[str | None]:
    return collections.Counter(r.name for r in emu.store.live())


async def test_500_concurrent_creates_under_faults_make_exactly_500() -> None:
    faults = Faults(
        {
            "create": FaultConfig(
                error_rate=0.20, commit_then_error_rate=0.10, commit_then_drop_rate=0.05
            )
        }
    )
    # A burst of 20 against 500 creates at once: 429 bursts on any machine, however slow.
    async with Emulator(seed=2026, faults=faults, rate_limit=RateLimit(rate=400, burst=20)) as emu:
        policy = RetryPolicy(max_retries=8, wait_scale=0.01)
        async with Client(api_key=emu.management_key, base_url=emu.base_url, retry=policy) as c:
            results = await asyncio.gather(
                *(
                    c.byok.with_raw_response.create(
                        provider="openai", key=f"sk-proj-{i:06d}-secretAbCd", name=f"k{i}"
                    )
                    for i in range(500)
                ),
                return_exceptions=True,
            )
        fired = emu.stats.faults
        assert fired[("create", "commit_then_error")] > 0
        assert fired[("create", "commit_then_drop")] > 0
        assert fired[("create", "error")] > 0
        assert emu.stats.rate_limited > 0
        # every call returned its key or raised a typed error
        assert all(isinstance(r, (asyncbyok.APIResponse, APIError)) for r in results)
        responses = [r for r in results if isinstance(r, asyncbyok.APIResponse)]
        created = [r.parsed for r in responses]
        names = _names(emu)
        assert len(emu.store.live()) == 500
        assert max(names.values()) == 1  # zero duplicates
        assert len(created) == 500
        assert sorted(k.name for k in created) == sorted(names)  # type: ignore[type-var]
        assert len({k.id for k in created}) == 500
        assert any(r.recovered for r in responses)  # found after ambiguous failures


async def test_unnamed_create_is_recovered_by_label_and_time() -> None:
    faults = Faults({"create": FaultConfig(commit_then_drop_rate=1.0)})
    async with (
        Emulator(seed=1, faults=faults) as emu,
        Client(
            api_key=emu.management_key, base_url=emu.base_url, retry=RetryPolicy(wait_scale=0)
        ) as c,
    ):
        raw = await c.byok.with_raw_response.create(
            asyncbyok.CreateBYOKKeyRequest(provider="openai", key="sk-unnamed-0000WXYZ")
        )
        assert raw.recovered
        assert raw.attempts == 1
        assert len(emu.store.live()) == 1
        assert raw.parsed.id == emu.store.live()[0].id


async def test_an_unambiguous_failure_is_simply_resent() -> None:
    faults = Faults({"create": FaultConfig(error_rate=0.5)})  # failed before storing
    async with (
        Emulator(seed=3, faults=faults) as emu,
        Client(
            api_key=emu.management_key,
            base_url=emu.base_url,
            retry=RetryPolicy(wait_scale=0, max_retries=10),
        ) as c,
    ):
        for i in range(20):
            await c.byok.create(provider="openai", key="sk-proj-abcdefgh1234", name=f"n{i}")
        assert len(emu.store.live()) == 20
        assert max(_names(emu).values()) == 1


async def test_a_key_from_another_create_is_not_taken() -> None:
    faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    async with (
        Emulator(seed=4) as emu,
        Client(
            api_key=emu.management_key, base_url=emu.base_url, retry=RetryPolicy(wait_scale=0)
        ) as c,
    ):
        # an older credential with the same name but another key
        await c.byok.create(provider="openai", key="sk-other-key-0000ZZZZ", name="same")
        emu.faults = faults
        found = await c.byok.with_raw_response.create(
            asyncbyok.CreateBYOKKeyRequest(provider="openai", key="sk-proj-mine-AbCd", name="same")
        )
        assert found.recovered
        assert found.parsed.label == "sk-...AbCd"
        assert len(emu.store.live()) == 2


def test_claims_are_forgotten_after_the_lookup_window() -> None:
    from asyncbyok.safe_create import Claims

    now = [100.0]
    claims = Claims(horizon=300, clock=lambda: now[0])
    claims.add("a")
    assert "a" in claims
    now[0] += 301
    claims.add("b")
    assert "a" not in claims  # older than any credential a lookup would consider
    assert "b" in claims
    assert len(claims) == 1


async def test_a_lookup_lists_under_the_calling_copys_policy() -> None:
    async with (
        Emulator(seed=12) as emu,
        Client(
            api_key=emu.management_key, base_url=emu.base_url, retry=RetryPolicy(wait_scale=0)
        ) as client,
    ):
        # The client's first create is made by a copy without retries.
        await client.with_options(max_retries=0).byok.create(
            provider="openai", key="sk-proj-first-0000AbCd", name="first"
        )
        # Then a create by a copy that retries is lost after storing, and its lookup's
        # first page fails once: the lookup must retry it, as its caller would.
        emu.faults = Faults(
            {
                "create": FaultConfig(commit_then_error_rate=1.0),
                "list": FaultConfig(error_rate=1.0, error_statuses=(503,)),
            }
        )
        retries: list[str] = []

        def heal_the_listing(event: asyncbyok.RetryEvent) -> None:
            retries.append(event.method)
            if event.method == "GET":
                emu.faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})

        patient = client.with_options(on_retry=heal_the_listing)
        found = await patient.byok.with_raw_response.create(
            provider="openai", key="sk-proj-second-0000WxYz", name="second"
        )
    assert found.recovered
    assert retries == ["POST", "GET"]
    assert sorted(_names(emu)) == ["first", "second"]


async def test_single_creates_share_listings_however_many_fail() -> None:
    # 2,000 credentials there; 60 concurrent creates, each stored then answered 500.
    faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    async with (
        Emulator(seed_keys=2_000, seed=13, faults=faults) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as c,
    ):
        raws = await asyncio.gather(
            *(
                c.byok.with_raw_response.create(
                    provider="openai", key=f"sk-proj-{i:06d}-shareAbCd", name=f"s{i}"
                )
                for i in range(60)
            )
        )
    assert all(r.recovered for r in raws)
    assert len(emu.store.live()) == 2_060
    assert max(_names(emu).values()) == 1
    one = 1 + -(-(2_060 - 100) // 95)
    assert emu.stats.requests["list"] <= 2 * one  # one listing, or two: not sixty
