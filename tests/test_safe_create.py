"""No duplicates when creates fail ambiguously, under seeded faults."""

from __future__ import annotations

import asyncio
import collections
import random
import time
from typing import Any

import pytest

import asyncbyok
from asyncbyok import APIError, Client, InternalServerError, RetryPolicy
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

from .conftest import RAW, client_for, create_requests


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


# -- against the emulator: every field, deletes, failed lookups, shared listings ----------


async def test_safe_create_never_returns_a_credential_with_other_fields() -> None:
    async with Emulator() as emu, client_for(emu) as a, client_for(emu) as b:
        theirs = await a.byok.create(
            provider="openai", key=RAW, name="prod", allowed_models=["openai/gpt-4o"], disabled=True
        )
        # B's first attempt gets a plain 503 (nothing stored); then the faults stop.
        emu.faults = Faults({"create": FaultConfig(error_rate=1.0, error_statuses=(503,))})
        b = b.with_options(on_retry=lambda event: setattr(emu, "faults", Faults()))
        raw = await b.byok.with_raw_response.create(
            provider="openai", key=RAW, name="prod", allowed_models=["openai/o3"], disabled=False
        )
    assert raw.parsed.id != theirs.id
    assert not raw.recovered
    assert raw.parsed.allowed_models == ["openai/o3"]
    assert raw.parsed.disabled is False
    assert len(emu.store.live()) == 2


async def test_safe_create_recovers_its_own_credential_with_every_field() -> None:
    faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    async with Emulator(faults=faults) as emu, client_for(emu) as client:
        fields: dict[str, Any] = {"allowed_models": ["openai/o3"], "disabled": True}
        client = client.with_options(on_retry=lambda event: setattr(emu, "faults", Faults()))
        raw = await client.byok.with_raw_response.create(
            provider="openai", key=RAW, name="mine", **fields
        )
    assert raw.recovered
    assert raw.attempts == 1
    assert raw.method == "POST"
    assert raw.status == 200  # the facts of the lookup that found it
    assert raw.request_id
    assert raw.parsed.allowed_models == ["openai/o3"]
    assert len(emu.store.live()) == 1


async def test_a_delete_lost_after_it_deleted_is_resent_without_a_lookup() -> None:
    # The first DELETE deletes, then answers 500; every GET would fail (503s, as a busy
    # server's). A DELETE is idempotent: it is resent, and the resend's 404 says the first
    # attempt did it. No GET is needed, so none can fail the call.
    async with Emulator() as emu, client_for(emu) as client:
        key = await client.byok.create(provider="openai", key=RAW, name="gone")
        emu.faults = Faults(
            {
                "delete": FaultConfig(commit_then_error_rate=1.0),
                "get": FaultConfig(error_rate=1.0, error_statuses=(503,)),
            }
        )
        raw = await client.byok.with_raw_response.delete(key.id)
    assert raw.parsed.deleted
    assert raw.recovered
    assert (raw.status, raw.attempts) == (404, 2)
    assert emu.store.live() == []
    assert emu.stats.requests["get"] == 0
    assert emu.stats.requests["delete"] == 2


async def test_delete_returns_true_when_the_resend_finds_it_already_gone() -> None:
    async with Emulator() as emu, client_for(emu) as client:
        key = await client.byok.create(provider="openai", key=RAW, name="gone")
        calls: list[int] = []

        def after_first_failure(event: asyncbyok.RetryEvent) -> None:
            calls.append(event.attempt)
            emu.faults = Faults()  # the resend now reaches the server

        emu.faults = Faults({"delete": FaultConfig(commit_then_error_rate=1.0)})
        raw = await client.with_options(on_retry=after_first_failure).byok.with_raw_response.delete(
            key.id
        )
    assert raw.parsed.deleted
    assert raw.recovered  # the resend's 404 said our first attempt had deleted it
    assert raw.status == 404
    assert calls == [1]


async def test_a_failed_lookup_raises_the_creates_own_error() -> None:
    faults = Faults(
        {
            "create": FaultConfig(commit_then_error_rate=1.0),
            "list": FaultConfig(error_rate=1.0, error_statuses=(503,)),
        }
    )
    async with Emulator(faults=faults) as emu, client_for(emu) as client:
        with pytest.raises(InternalServerError) as info:
            await client.byok.create(provider="openai", key=RAW, name="lost")
    err = info.value
    assert err.method == "POST"
    assert str(err.url).endswith("/byok")
    assert err.status == 500
    assert err.attempts == 1  # writes sent: the lookup failed before any resend
    assert isinstance(err.__cause__, InternalServerError)
    assert err.__cause__.method == "GET"
    assert len(emu.store.live()) == 1  # stored once; never sent again blind


async def test_concurrent_ambiguous_failures_share_listings() -> None:
    faults = Faults({"create": FaultConfig(commit_then_error_rate=0.3)})
    retry = RetryPolicy(max_retries=10, wait_scale=0.0)  # 0.3**11: no item runs out
    async with Emulator(seed=7, faults=faults) as emu, client_for(emu, retry=retry) as client:
        results = await client.byok.create_many(create_requests(300), concurrency=64)
        assert all(r.ok for r in results), next(r.error for r in results if not r.ok)
        ambiguous = (
            emu.stats.faults[("create", "commit_then_error")]
            + emu.stats.faults[("create", "error")]
        )
        lists = emu.stats.requests["list"]
    assert len(emu.store.live()) == 300
    assert ambiguous > 50
    assert lists / ambiguous <= 1.5, (lists, ambiguous)


async def test_a_create_the_server_answered_is_looked_up_before_its_backoff() -> None:
    # Stored, then answered 500: the server is done with the attempt, nothing of it is in
    # flight, so the lookup need not wait (in a bulk run, it must not hold the listing
    # that settles the run). Here the backoff is minutes; the call ends without it.
    faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    policy = RetryPolicy(initial_backoff=300, max_backoff=300, deadline=None)
    waits: list[float] = []
    state = random.getstate()
    random.seed(7)  # tenacity's full jitter: a wait of 97 s
    try:
        async with (
            Emulator(seed=5, faults=faults) as emu,
            client_for(emu, retry=policy, on_retry=lambda e: waits.append(e.wait)) as c,
        ):
            found = await asyncio.wait_for(
                c.byok.with_raw_response.create(provider="openai", key=RAW, name="n"), 60
            )
    finally:
        random.setstate(state)
    assert found.recovered
    assert found.attempts == 1
    assert len(waits) == 1
    assert waits[0] > 60  # the backoff the lookup did not wait for


async def test_a_resend_after_an_answered_failure_still_waits_out_its_backoff() -> None:
    faults = Faults({"create": FaultConfig(error_rate=1.0)})  # 500, nothing stored
    policy = RetryPolicy(initial_backoff=0.4, max_backoff=0.4, max_retries=1)
    retries: list[tuple[float, float]] = []
    posts: list[float] = []

    def on_request(event: Any) -> None:
        if event.method == "POST":
            posts.append(time.monotonic())

    state = random.getstate()
    random.seed(7)  # tenacity's full jitter: a wait of 0.13 s
    try:
        async with (
            Emulator(seed=6, faults=faults) as emu,
            client_for(
                emu,
                retry=policy,
                on_retry=lambda e: retries.append((time.monotonic(), e.wait)),
                event_hooks={"request": [on_request]},
            ) as c,
        ):
            with pytest.raises(InternalServerError):
                await c.byok.create(provider="openai", key=RAW, name="n")
            lists = emu.stats.requests["list"]
    finally:
        random.setstate(state)
    (failed_at, wait), resent_at = retries[0], posts[1]
    assert wait > 0.1
    assert lists >= 1  # looked up first, found nothing
    # then the backoff, counted from the failure (less a margin for a busy machine)
    assert resent_at - failed_at >= wait - 0.05
