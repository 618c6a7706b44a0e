"""Shared scope listings: who waits for which listing, and how own writes stay visible."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from asyncbyok import BYOKKey
from asyncbyok.listings import COALESCE_MIN, Found, Scope, ScopeListings

SCOPE: Scope = ("openai", None)


def _found(i: int, name: str | None = None) -> Found:
    key = BYOKKey(
        id=f"00000000-0000-4000-8000-{i:012d}",
        provider="openai",
        label="sk-...AbCd",
        name=name if name is not None else f"k{i}",
    )
    return Found(key, 200, {}, f"req_{i}")


class Server:
    """A scope that a listing reads page by page, slowly enough to overlap callers."""

    def __init__(self, keys: int, *, page_delay: float = 0.01) -> None:
        self.keys = [_found(i) for i in range(keys)]
        self.page_delay = page_delay
        self.listings = 0
        self.fail_next = False

    async def list_keys(self, scope: Scope) -> AsyncIterator[Found]:
        self.listings += 1
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the listing broke")
        for start in range(0, len(self.keys), 100):
            await asyncio.sleep(self.page_delay)
            for found in list(self.keys[start : start + 100]):
                yield found


async def test_concurrent_callers_share_one_listing() -> None:
    server, listings = Server(300), ScopeListings()
    now = asyncio.get_running_loop().time()
    indexes = await asyncio.gather(
        *(listings.index(SCOPE, since=now, list_keys=server.list_keys) for _ in range(50))
    )
    assert server.listings == 1
    assert all(index is indexes[0] for index in indexes)
    assert len(indexes[0]) == 300


async def test_a_caller_needing_a_later_start_waits_for_the_next_one_only() -> None:
    server, listings = Server(500, page_delay=0.02), ScopeListings()
    loop = asyncio.get_running_loop()
    first = asyncio.ensure_future(
        listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys)
    )
    await asyncio.sleep(COALESCE_MIN + 0.03)  # the first listing is under way
    # Forty failures after it began: none can use it; all share the one after it.
    later = [
        asyncio.ensure_future(listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys))
        for _ in range(40)
    ]
    done = await asyncio.gather(first, *later)
    assert server.listings == 2
    assert all(index is done[1] for index in done[1:])
    assert done[1].started > done[0].started


async def test_a_fresh_enough_index_is_served_without_a_request() -> None:
    server, listings = Server(100), ScopeListings()
    loop = asyncio.get_running_loop()
    before = loop.time()
    first = await listings.index(SCOPE, since=before, list_keys=server.list_keys, max_age=60)
    again = await listings.index(SCOPE, since=before, list_keys=server.list_keys)
    assert again is first
    assert server.listings == 1
    fresh = await listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys)
    assert fresh is not first
    assert server.listings == 2


async def test_own_writes_show_in_kept_indexes_and_in_a_listing_that_missed_them() -> None:
    server, listings = Server(200, page_delay=0.02), ScopeListings()
    loop = asyncio.get_running_loop()
    kept = await listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys, max_age=60)
    listings.created(SCOPE, _found(900, "new"))
    listings.deleted(_found(5).key.id)
    renamed = _found(7, "renamed")
    listings.updated(renamed)
    assert [f.key.id for f in kept.named("new")] == [_found(900).key.id]
    assert kept.named("k5") == []
    assert kept.named("k7") == []
    assert kept.named("renamed") == [renamed]
    # A listing running while a write returns may have read its page before the write:
    # the write is applied to it when it ends.
    running = asyncio.ensure_future(
        listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys)
    )
    await asyncio.sleep(COALESCE_MIN + 0.03)
    listings.created(SCOPE, _found(901, "during"))
    listings.deleted(_found(150).key.id)  # on the second page, not yet read
    index = await running
    assert [f.key.name for f in index.named("during")] == ["during"]
    assert index.named("k150") == []
    assert len(index.named("k0")) == 1
    assert listings.listings == 2


async def test_a_workspace_listed_whole_shows_creates_of_each_of_its_providers() -> None:
    """``(None, workspace)`` is every provider of the workspace (find_by_key, get_by_name):
    a create in one provider of that workspace belongs there too, and not elsewhere."""
    server, listings = Server(3), ScopeListings()
    loop = asyncio.get_running_loop()
    whole: Scope = (None, None)
    other: Scope = (None, "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001")
    every = await listings.index(whole, since=loop.time(), list_keys=server.list_keys, max_age=60)
    elsewhere = await listings.index(
        other, since=loop.time(), list_keys=server.list_keys, max_age=60
    )
    listings.created(("anthropic", None), _found(900, "new"))
    assert [f.key.id for f in every.named("new")] == [_found(900).key.id]
    assert elsewhere.named("new") == []


async def test_a_failed_listing_fails_its_callers_and_the_next_caller_lists_again() -> None:
    server, listings = Server(100), ScopeListings()
    loop = asyncio.get_running_loop()
    server.fail_next = True
    results = await asyncio.gather(
        *(listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys) for _ in range(3)),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [RuntimeError] * 3
    index = await listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys)
    assert len(index) == 100
    assert server.listings == 2


async def test_the_wait_to_join_grows_with_what_a_listing_costs() -> None:
    server, listings = Server(1000, page_delay=0.04), ScopeListings()
    loop = asyncio.get_running_loop()
    await listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys)
    took = listings.last_duration(SCOPE)
    assert took is not None
    assert took >= 0.4  # ten pages of 40 ms
    # A failure now waits about a quarter of that for others: a burst spread over
    # 80 ms still makes one listing.
    first = asyncio.ensure_future(
        listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys)
    )
    await asyncio.sleep(0.08)
    second = await listings.index(SCOPE, since=loop.time(), list_keys=server.list_keys)
    assert await first is second
    assert server.listings == 2


@pytest.mark.parametrize("max_age", [0.0, 5.0])
async def test_an_index_is_dropped_once_no_caller_may_want_it(max_age: float) -> None:
    server, listings = Server(10), ScopeListings(clock=lambda: now[0])
    now = [100.0]
    first = await listings.index(SCOPE, since=0.0, list_keys=server.list_keys, max_age=max_age)
    now[0] += max(max_age, 1.0) + 0.5
    again = await listings.index(SCOPE, since=0.0, list_keys=server.list_keys)
    assert again is not first
    assert server.listings == 2
