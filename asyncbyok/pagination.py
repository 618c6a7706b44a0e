"""Offset/limit pagination: a :class:`Page`, and a pager that is awaitable and iterable.

``await client.byok.list()`` is the first :class:`Page`; ``async for key in
client.byok.list()`` is every key. Because the first page carries ``total_count``, the
pager fetches the following pages concurrently (up to ``concurrency`` at a time, yielded
in order), holding only the pages in flight in memory.

How many pages are in flight is found as the listing goes (:class:`FanOut`, after TCP
Vegas): it starts at two and grows by a page each time a page comes back about as fast
as the fastest one did, so a server that answers in parallel (a slow network, a fast
server) soon has ``concurrency`` pages at once. Pages that come back much slower waited
somewhere (in the server's queue, in the client's pacer, behind a ``Retry-After``):
more in flight would not list faster, only land more requests in a rate limit at the
moment it runs out (every page in flight then gets a 429), so it shrinks again.

Offsets move when keys are created or deleted during a listing. To list completely and
without repeats anyway, consecutive pages overlap by a few keys: each page must contain
one of the last keys already yielded (an *anchor*), and only keys after the anchor are
new. If no anchor is found (many keys before it were deleted), the pager steps back and
fetches again. Keys created while listing may or may not appear; a key is never yielded
twice, and no key that existed throughout the listing is skipped.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any

import attrs

from ._constants import DEFAULT_LIST_CONCURRENCY, MAX_PAGE_SIZE
from .models import BYOKKey, UndecodableItem

__all__ = ["FAN_OUT_START", "AsyncKeyPager", "FanOut", "Page", "only_named"]

logger = logging.getLogger("asyncbyok")

FetchPage = Callable[[int, int], Awaitable["Page"]]

#: Pages in flight at first, before any page showed how the server keeps up.
FAN_OUT_START = 2
#: A page that took up to this many times the fastest one lets the fan-out grow; one
#: that took more than ``_SLOW`` times makes it shrink (it waited longer than it was served).
_UNHINDERED = 1.5
_SLOW = 2.0


@attrs.frozen(kw_only=True)
class Page:
    """One page of keys: ``data``, ``total_count``, and where it starts.

    ``request_id`` is the server's id for the request that fetched it. ``undecodable``
    holds the items of the page that are not credentials as this release reads them
    (:class:`~asyncbyok.models.UndecodableItem`): one malformed item never loses the
    others, and it still counts in :attr:`item_count`, which is what paging advances by.
    ``filtered_out`` counts the credentials the server sent that a filter made here left
    out of ``data`` (``client.byok.list(name=...)``); they count in :attr:`item_count`
    too, so the next page starts where the server's page ended.
    """

    data: list[BYOKKey]
    total_count: int
    offset: int
    limit: int
    request_id: str | None = None
    undecodable: list[UndecodableItem] = attrs.field(factory=list)
    filtered_out: int = 0
    _fetch: FetchPage | None = attrs.field(default=None, repr=False, eq=False, alias="fetch")

    @property
    def item_count(self) -> int:
        """How many items the server sent in this page, decoded or not, filtered or not."""
        return len(self.data) + len(self.undecodable) + self.filtered_out

    def has_next_page(self) -> bool:
        """Whether keys follow this page (by ``total_count`` at the time it was fetched)."""
        return self.item_count > 0 and self.offset + self.item_count < self.total_count

    async def next_page(self) -> Page | None:
        """Fetch the page after this one, or return ``None`` when this is the last.

        ``None``, not an exception, so that walking page by page is one loop anywhere,
        async generators included (where a ``StopAsyncIteration`` would become a
        ``RuntimeError``)::

            page = await client.byok.list(limit=50)
            while page is not None:
                ...
                page = await page.next_page()

        openai-python's ``get_next_page()`` raises instead; the official OpenRouter
        SDK's ``next()`` returns ``None``, as this does. A page built without a way to
        fetch (not by a client) has no next page either.
        """
        if not self.has_next_page() or self._fetch is None:
            return None
        return await self._fetch(self.offset + self.item_count, self.limit)

    def __iter__(self) -> Any:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def only_named(page: Page, name: str) -> Page:
    """*page* with only the credentials named exactly *name* in ``data``; the others count
    in ``filtered_out``, and the pages after it (``next_page()``) are filtered the same way.

    The API has no filter by name: the whole page was fetched, and this is done here.
    """
    fetch = page._fetch
    kept = [key for key in page.data if key.name == name]
    filtered_out = page.filtered_out + len(page.data) - len(kept)
    if fetch is None:
        return attrs.evolve(page, data=kept, filtered_out=filtered_out)

    async def fetch_named(offset: int, limit: int) -> Page:
        return only_named(await fetch(offset, limit), name)

    return attrs.evolve(page, data=kept, filtered_out=filtered_out, fetch=fetch_named)


class FanOut:
    """How many pages of a listing to fetch at once: up to *most*, and no more than the
    server answers in parallel (see the module docstring).

    :meth:`done` is told how long each page took, its wait for a turn included (the
    client's pacer and backoff gate). Compared with the fastest page of the listing: up
    to 1.5 times as long, nothing held it up, so one more page goes in flight (after TCP
    Vegas and BBR: a server far away takes many pages at once at no cost); more than
    twice as long, it spent more time waiting than being served, so one fewer.
    """

    def __init__(self, most: int) -> None:
        self.most = most
        self.size = min(most, FAN_OUT_START)
        self.largest = self.size
        """The most pages it allowed in flight at once (for tests and benchmarks)."""
        self._fastest = math.inf

    def done(self, seconds: float) -> None:
        """A page came back after *seconds*."""
        self._fastest = min(self._fastest, seconds)
        if seconds <= _UNHINDERED * self._fastest:
            self.size = min(self.most, self.size + 1)
            self.largest = max(self.largest, self.size)
        elif seconds > _SLOW * self._fastest:
            self.size = max(1, self.size - 1)


class AsyncKeyPager:
    """The result of ``client.byok.list(...)``: await it for one page, iterate for all keys.

    With *name*, every page it gives (the awaited one, its next pages, those iterated)
    holds only the credentials of that exact name (:func:`only_named`).
    """

    def __init__(
        self,
        fetch: FetchPage,
        *,
        offset: int = 0,
        limit: int = MAX_PAGE_SIZE,
        concurrency: int = DEFAULT_LIST_CONCURRENCY,
        name: str | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._fetch = fetch
        self._offset = offset
        self._limit = limit
        self._concurrency = concurrency
        self._name = name
        self.fan_out = FanOut(concurrency)
        """How many pages the last listing (:meth:`pages`) fetched at once, and at most."""
        # Overlap between consecutive pages: a few keys, so pages still cover ~95% new ground.
        self._overlap = max(1, limit // 20) if limit > 1 else 0

    def __await__(self) -> Generator[Any, None, Page]:
        return self._first_page().__await__()

    async def _first_page(self) -> Page:
        return self._shown(await self._fetch(self._offset, self._limit))

    def _shown(self, page: Page) -> Page:
        """*page* as the caller sees it: filtered by name, if one was given. (Paging reads
        the pages as fetched: their overlaps are found among every key, not the kept.)"""
        return page if self._name is None else only_named(page, self._name)

    def __aiter__(self) -> AsyncIterator[BYOKKey]:
        return self._iter_keys()

    async def _iter_keys(self) -> AsyncIterator[BYOKKey]:
        async for page in self.pages():
            for key in page.data:
                yield key

    async def _timed(self, offset: int) -> tuple[Page, float]:
        began = time.monotonic()
        page = await self._fetch(offset, self._limit)
        return page, time.monotonic() - began

    async def pages(self) -> AsyncIterator[Page]:
        """Every page in order; each page's ``data`` holds only keys not yielded before."""
        fan_out = self.fan_out = FanOut(self._concurrency)
        first, took = await self._timed(self._offset)
        fan_out.done(took)
        warned: set[str] = set()
        _warn_undecodable(first, warned)
        yield self._shown(first)
        if first.item_count < self._limit or not first.has_next_page():
            return
        stride = self._limit - self._overlap
        recent: collections.deque[str] = collections.deque(maxlen=2 * self._limit)
        recent.extend(k.id for k in first.data)
        next_offset = first.offset + first.item_count - self._overlap
        total = first.total_count
        window: collections.deque[tuple[int, asyncio.Task[tuple[Page, float]]]] = (
            collections.deque()
        )
        backtracks = 0
        try:
            while True:
                # Keep the fan-out's fetches in flight, guessing offsets one stride apart.
                guess = window[-1][0] + stride if window else next_offset
                while len(window) < fan_out.size and guess + self._overlap < total:
                    window.append((guess, asyncio.ensure_future(self._timed(guess))))
                    guess += stride
                if not window:
                    return
                offset, task = window.popleft()
                page, took = await task
                fan_out.done(took)
                total = max(total, page.total_count)
                anchor = _last_anchor(page.data, recent)
                if anchor is None and offset > 0 and backtracks < 64:
                    # Deletions moved unseen keys before this page: step back and refetch.
                    backtracks += 1
                    _cancel(window)
                    window.clear()
                    next_offset = max(0, offset - stride)
                    continue
                seen = set(recent)
                start = 0 if anchor is None else anchor + 1
                fresh = [k for k in page.data[start:] if k.id not in seen]
                recent.extend(k.id for k in fresh)
                _warn_undecodable(page, warned)
                if fresh or page.undecodable:
                    yield self._shown(attrs.evolve(page, data=fresh))
                count = page.item_count  # undecodable items hold their places too
                if count < self._limit or offset + count >= page.total_count:
                    return  # the last page, by its length or by the count sent with it
                # Where the page after this one starts (used whenever the window is empty).
                next_offset = offset + count - self._overlap
                if anchor is not None and anchor != self._overlap - 1:
                    # The keys moved: re-plan the remaining offsets from this page.
                    _cancel(window)
                    window.clear()
        finally:
            _cancel(window)


def _warn_undecodable(page: Page, warned: set[str]) -> None:
    """Log each item the listing skips because it could not be decoded, once."""
    for item in page.undecodable:
        mark = item.id or f"@{page.offset + item.index}"
        if mark not in warned:
            warned.add(mark)
            logger.warning(
                "listing skips item %d of the page at offset %d (id %s): %s",
                item.index,
                page.offset,
                item.id,
                item.error,
            )


def _last_anchor(data: list[BYOKKey], recent: collections.deque[str]) -> int | None:
    """Index of the last key in *data* that was already yielded, if any."""
    seen = set(recent)
    for index in range(len(data) - 1, -1, -1):
        if data[index].id in seen:
            return index
    return None


def _cancel(window: collections.deque[tuple[int, asyncio.Task[tuple[Page, float]]]]) -> None:
    for _, task in window:
        task.cancel()
        # A cancelled fetch may already have failed: read its result so it is not logged.
        task.add_done_callback(_consume)


def _consume(task: asyncio.Task[tuple[Page, float]]) -> None:
    if not task.cancelled():
        task.exception()
