"""Listing: await for a page, iterate for everything, concurrently, through churn."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

from asyncbyok import Client, CreateBYOKKeyRequest, Page
from asyncbyok.emulator import Emulator, FaultConfig, Faults
from asyncbyok.pagination import FAN_OUT_START, FanOut


async def _fill(
    emu: Emulator, count: int, provider: str = "openai", workspace: str | None = None
) -> None:
    # Straight into the store: the tests here are about listing, not about creating.
    for i in range(count):
        emu.store.create(
            CreateBYOKKeyRequest(
                provider=provider,
                key=f"sk-proj-{i:08d}-fill",
                name=f"{provider}-{i:05d}",
                **({"workspace_id": workspace} if workspace else {}),
            )
        )


async def test_await_gives_the_first_page(client: Client, emulator: Emulator) -> None:
    await _fill(emulator, 120)
    page = await client.byok.list(limit=50)
    assert len(page.data) == 50
    assert page.total_count == 120
    assert page.has_next_page()
    second = await page.next_page()
    assert second.offset == 50
    third = await second.next_page()
    assert len(third.data) == 20
    assert not third.has_next_page()
    assert await third.next_page() is None  # the end: None, not an exception
    assert [k.name for k in second.data][:1] == ["openai-00050"]


async def test_next_page_walks_to_the_end_inside_an_async_generator(
    client: Client, emulator: Emulator
) -> None:
    await _fill(emulator, 120)

    async def pages() -> AsyncIterator[Page]:
        page: Page | None = await client.byok.list(limit=50)
        while page is not None:
            yield page
            page = await page.next_page()  # a StopAsyncIteration here was a RuntimeError

    walked = [page async for page in pages()]
    assert [(p.offset, len(p.data)) for p in walked] == [(0, 50), (50, 50), (100, 20)]
    assert [k.name for p in walked for k in p.data] == [f"openai-{i:05d}" for i in range(120)]


async def test_a_page_made_by_hand_has_no_next_page() -> None:
    page = Page(data=[], total_count=10, offset=0, limit=5)
    assert not page.has_next_page()
    assert await page.next_page() is None


async def test_iteration_lists_everything_in_order(client: Client, emulator: Emulator) -> None:
    await _fill(emulator, 1234)
    names = [k.name async for k in client.byok.list()]
    assert names == [f"openai-{i:05d}" for i in range(1234)]


async def test_filters(client: Client, emulator: Emulator) -> None:
    await _fill(emulator, 30, "openai")
    await _fill(emulator, 20, "anthropic")
    other = "550e8400-e29b-41d4-a716-446655440000"
    await _fill(emulator, 7, "openai", workspace=other)
    assert len([k async for k in client.byok.list(provider="anthropic")]) == 20
    assert len([k async for k in client.byok.list()]) == 50
    in_other = [k async for k in client.byok.list(workspace_id=other, limit=3)]
    assert len(in_other) == 7
    assert {k.workspace_id for k in in_other} == {other}


async def test_pages_are_fetched_concurrently(client: Client, emulator: Emulator) -> None:
    # A server far away that answers in parallel: each page takes 50 ms however many
    # are in flight, so the fan-out grows from two to the most allowed within a few pages.
    await _fill(emulator, 3000)
    emulator.faults = Faults({"list": FaultConfig(latency=0.05)})
    raw = client.byok.with_raw_response
    fetch = raw.list_page
    in_flight = peak = 0

    async def counting(**query: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await fetch(**query)
        finally:
            in_flight -= 1

    raw.list_page = counting  # type: ignore[method-assign]
    pager = client.byok.list(concurrency=8)
    count = len([k async for k in pager])
    assert count == 3000
    assert peak == 8  # the following pages overlapped, 8 at a time, never more
    assert pager.fan_out.largest == 8
    assert emulator.stats.requests["list"] == 1 + -(-2900 // 95)  # each page once


def test_the_fan_out_grows_while_pages_come_back_unhindered_and_shrinks_when_they_wait() -> None:
    fan_out = FanOut(16)
    assert fan_out.size == FAN_OUT_START
    for _ in range(20):
        fan_out.done(0.05)  # as fast as the fastest: nothing waited
    assert fan_out.size == 16
    for _ in range(30):
        fan_out.done(0.5)  # ten times the fastest: most of the pages in flight waited
    assert fan_out.size == 1  # never less than one
    fan_out.done(0.06)  # one page of 1 in flight, a little slower: still room
    assert fan_out.size == 2
    assert fan_out.largest == 16
    assert FanOut(1).size == 1


async def test_churn_during_listing_loses_nothing_and_repeats_nothing(
    client: Client, emulator: Emulator
) -> None:
    await _fill(emulator, 1500)
    survivors = {r.id for r in emulator.store.live()}
    emulator.faults = Faults({"list": FaultConfig(latency_range=(0.002, 0.01))})
    rng = random.Random(7)
    stop = asyncio.Event()

    async def churn() -> None:
        i = 0
        while not stop.is_set():
            live = emulator.store.live()
            victim = rng.choice(live)
            emulator.store.delete(victim.id)  # deletions shift later keys back
            survivors.discard(victim.id)
            if i % 2 == 0:
                await client.byok.create(
                    provider="openai", key="sk-proj-newcomer-1234", name=f"new{i}"
                )
            i += 1
            await asyncio.sleep(0.001)

    churner = asyncio.create_task(churn())
    seen = [k async for k in client.byok.list(concurrency=4)]
    stop.set()
    await churner
    ids = [k.id for k in seen]
    deleted = sum(r.deleted for r in emulator.store.records)
    assert deleted >= 10  # the listing really ran through churn
    assert len(ids) == len(set(ids))  # no duplicates
    assert survivors <= set(ids)  # nothing that lived throughout was skipped
    order = {r.id: n for n, r in enumerate(emulator.store.records)}
    assert [order[i] for i in ids] == sorted(order[i] for i in ids)  # in order


async def test_list_pages_yields_only_new_keys(client: Client, emulator: Emulator) -> None:
    await _fill(emulator, 250)
    pages = [p async for p in client.byok.list().pages()]
    assert sum(len(p.data) for p in pages) == 250
    assert pages[0].request_id


async def test_each_page_is_fetched_once(client: Client, emulator: Emulator) -> None:
    await _fill(emulator, 2000)
    for concurrency in (1, 3, 8):
        emulator.stats.requests.clear()
        assert len([k async for k in client.byok.list(concurrency=concurrency)]) == 2000
        # pages overlap by 5 keys: 95 new keys a page after the first, and no refetches
        assert emulator.stats.requests["list"] == 1 + -(-1900 // 95)


async def test_undecodable_items_hold_their_places_and_lose_no_key(
    caplog: Any,
) -> None:
    # A server whose every 7th item is malformed: the pager must still list every
    # good key once, advance by the items the server sent, and report the bad ones.
    from asyncbyok import AsyncKeyPager
    from asyncbyok.codec import converter
    from asyncbyok.models import BYOKKeyList

    total = 230
    items: list[Any] = []
    for i in range(total):
        if i % 7 == 3:
            items.append({"id": f"bad-{i}", "provider": "openai"})  # no label: not a key
        else:
            items.append(
                {
                    "id": f"00000000-0000-4000-8000-{i:012d}",
                    "provider": "openai",
                    "label": "sk-...AbCd",
                    "created_at": "2025-08-24T10:30:00Z",
                    "workspace_id": "00000000-0000-4000-8000-000000000000",
                    "name": f"k{i}",
                    "disabled": False,
                    "is_fallback": False,
                    "allowed_models": None,
                    "allowed_user_ids": None,
                    "sort_order": i,
                }
            )

    async def fetch(offset: int, limit: int) -> Page:
        body = converter.structure(
            {"data": items[offset : offset + limit], "total_count": total}, BYOKKeyList
        )
        return Page(
            data=body.data,
            total_count=body.total_count,
            offset=offset,
            limit=limit,
            undecodable=body.undecodable,
            fetch=fetch,
        )

    keys = [k async for k in AsyncKeyPager(fetch, limit=50, concurrency=3)]
    good = [it["id"] for it in items if "label" in it]
    assert [k.id for k in keys] == good
    bad = [it["id"] for it in items if "label" not in it]
    assert all(b in caplog.text for b in bad)
    first = await fetch(0, 50)
    assert first.item_count == 50
    assert len(first.data) == 50 - len(first.undecodable)
    second = await first.next_page()
    assert second is not None
    assert second.offset == 50
