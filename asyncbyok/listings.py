"""Listings of a scope (one provider's credentials in one workspace), shared and kept current.

Two features must know what a scope holds: safe create (after an ambiguous failure, is
the credential there?) and ``ensure`` (is there one with this name?). The API can only
answer by listing the whole scope, a request per 100 credentials, so in an account of
100,000 credentials a listing costs 1,000 requests: it must be shared, not repeated.
:class:`ScopeListings` (one per client, shared by its ``with_options`` copies) does that:

- Freshness is asked for as a moment: ``index(scope, since=t, ...)`` returns the index of
  a listing that *started* at or after ``t``. A lookup after a failure at ``t`` needs
  exactly that (a listing begun earlier may have missed the credential); ``ensure`` asks
  for its own start, or ``max_age`` seconds before it.
- Callers share listings. While one runs, a caller it can serve joins it; one that needs
  a later start joins the next, which starts when the current one ends. So a scope has at
  most one listing running and one waiting, however many callers: *L* listings for a run
  of *T* seconds is at most about ``T / (duration of a listing) + 1``, not one per caller.
- A listing about to start waits for others to join: a quarter of what the scope's last
  listing took (between 50 ms and 1 s). Cheap scopes start at once; a 1,000-page scope,
  whose listing takes seconds under a rate limit, gathers the failures of a whole burst.
- This client's own writes (creates, updates, deletes) are applied to the indexes it
  keeps as their responses come back, also to a listing running when they were made.
  An index older than the writes still shows them: two ``ensure`` calls of one name
  never make two credentials, whatever ``max_age`` allows.
- A finished index is kept while a caller may still want it (``ensure(max_age=...)``,
  up to the largest ``max_age`` asked for), then dropped.

A listing runs in a task of its own: the callers' cancellations do not stop it, and it
ends by the deadline of the call that started it (each caller waits no longer than its
own deadline).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import attrs

from ._sentinel import UNSET
from .errors import APITimeoutError
from .models import BYOKKey, UndecodableItem
from .retry import call_deadline

__all__ = [
    "COALESCE_MAX",
    "COALESCE_MIN",
    "Found",
    "ListKeys",
    "Scope",
    "ScopeIndex",
    "ScopeListings",
    "scope_of",
]

Clock = Callable[[], float]
Scope = tuple["str | None", "str | None"]
"""``(provider, workspace_id)``: a provider ``None`` is every provider of the workspace
(a listing without a provider filter); a workspace ``None`` is the account's default."""

#: Bounds of the wait before a listing starts, for other callers to join it (seconds).
COALESCE_MIN = 0.05
COALESCE_MAX = 1.0
#: Writes remembered to replay onto listings that were running when they were made.
_JOURNAL_SECONDS = 600.0


@attrs.frozen
class Found:
    """A credential seen in a listing, with the facts of the response that carried it."""

    key: BYOKKey
    status: int
    headers: Mapping[str, str]
    request_id: str | None


ListKeys = Callable[[Scope], AsyncIterator["Found | UndecodableItem"]]
"""Lists every credential of a scope (the caller's client, under the caller's policy), and
every item the server listed that is no credential this release can read."""


def scope_of(provider: object, workspace_id: object) -> Scope:
    """The scope of a request's ``provider`` and ``workspace_id`` (``UNSET``: default)."""
    return (str(provider), None if workspace_id is UNSET else str(workspace_id))


def _name(key: BYOKKey) -> str | None:
    return None if key.name is UNSET else key.name


class ScopeIndex:
    """What one listing of a scope found, by name, kept up to date with this client's
    writes. ``started`` is when the listing began (``time.monotonic()``)."""

    def __init__(self, scope: Scope, started: float) -> None:
        self.scope = scope
        self.started = started
        self.finished = started
        self.pages = 0
        self._by_id: dict[str, Found] = {}
        self._by_name: dict[str | None, dict[str, Found]] = {}
        self._unreadable: dict[str, UndecodableItem] = {}

    @property
    def unreadable(self) -> list[UndecodableItem]:
        """The items the listing held that are no credential this release can read (each
        once): a lookup by name or by key cannot tell what they are."""
        return list(self._unreadable.values())

    def put_unreadable(self, item: UndecodableItem) -> None:
        """Note an item that could not be read (pages overlap: the same item once)."""
        self._unreadable.setdefault(item.id or repr(item.raw), item)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._by_id

    def named(self, name: str | None) -> list[Found]:
        """The credentials called *name* (``None``: unnamed ones), oldest listed first."""
        return list(self._by_name.get(name, {}).values())

    def __iter__(self) -> Iterator[Found]:
        return iter(list(self._by_id.values()))

    def put(self, found: Found) -> None:
        """Add or replace a credential (by id)."""
        self.remove(found.key.id)
        self._by_id[found.key.id] = found
        self._by_name.setdefault(_name(found.key), {})[found.key.id] = found

    def remove(self, key_id: str) -> None:
        """Forget a credential (deleted)."""
        old = self._by_id.pop(key_id, None)
        if old is not None:
            names = self._by_name[_name(old.key)]
            del names[key_id]
            if not names:
                del self._by_name[_name(old.key)]


@attrs.define
class _Write:
    at: float
    scope: Scope | None  # where a create landed; None for updates and deletes (any scope)
    found: Found | None  # the credential as written; None: deleted
    key_id: str


class _Run:
    """One listing of a scope: joinable until it starts, then by callers it can serve."""

    def __init__(self, begins: float) -> None:
        self.begins = begins  # when it will start (or started): callers since <= this join
        self.task: asyncio.Future[ScopeIndex] | None = None


@attrs.define
class _ScopeState:
    latest: ScopeIndex | None = None
    running: _Run | None = None
    waiting: _Run | None = None
    last_duration: float | None = None


class ScopeListings:
    """The listings of one client's scopes: see the module docstring."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._scopes: dict[Scope, _ScopeState] = {}
        self._journal: list[_Write] = []
        self._keep = 0.0  # seconds a finished index is kept: the largest max_age asked
        self.listings = 0
        """How many listings were started (for tests and benchmarks)."""

    def last_duration(self, scope: Scope) -> float | None:
        """Seconds the last finished listing of *scope* took, if there was one."""
        state = self._scopes.get(scope)
        return None if state is None else state.last_duration

    def reset(self) -> None:
        """Forget everything (the client moved to another event loop)."""
        self._scopes.clear()
        self._journal.clear()

    # -- reading ------------------------------------------------------------------------

    async def index(
        self, scope: Scope, *, since: float, list_keys: ListKeys, max_age: float = 0.0
    ) -> ScopeIndex:
        """An index of *scope* from a listing that started at or after *since*.

        *list_keys* lists the scope if a new listing is needed; *max_age* says how long
        the caller may later want this index kept. Waits no longer than the current
        call's deadline (``asyncbyok.retry.call_deadline()``).
        """
        self._keep = max(self._keep, max_age)
        self._prune()
        state = self._scopes.setdefault(scope, _ScopeState())
        latest = state.latest
        if latest is not None and latest.started >= since:
            return latest
        run = self._run_for(scope, state, since, list_keys)
        assert run.task is not None
        deadline = call_deadline()
        # shield: one caller leaving must not cancel the listing the others await
        if deadline is None:
            return await asyncio.shield(run.task)
        try:
            return await asyncio.wait_for(
                asyncio.shield(run.task), max(0.0, deadline - self._clock())
            )
        except asyncio.TimeoutError:
            raise APITimeoutError("The lookup did not finish by the call's deadline.") from None

    def _run_for(self, scope: Scope, state: _ScopeState, since: float, list_keys: ListKeys) -> _Run:
        running = state.running
        if running is not None and running.begins >= since and not _failed(running.task):
            return running
        waiting = state.waiting
        if waiting is not None and not _failed(waiting.task):
            return waiting  # it starts later than now, so later than since
        delay = _coalesce(state.last_duration)
        run = _Run(self._clock() + delay)
        if running is None or _failed(running.task) or running.task is None:
            state.running = run
            run.task = asyncio.ensure_future(self._list(scope, state, run, delay, None, list_keys))
        else:
            state.waiting = run
            before = running.task
            run.task = asyncio.ensure_future(
                self._list(scope, state, run, delay, before, list_keys)
            )
        return run

    async def _list(
        self,
        scope: Scope,
        state: _ScopeState,
        run: _Run,
        delay: float,
        before: asyncio.Future[ScopeIndex] | None,
        list_keys: ListKeys,
    ) -> ScopeIndex:
        try:
            if before is not None:
                await asyncio.wait([before])  # the one running first; its outcome is its own
                state.running, state.waiting = run, None
            if delay:
                await asyncio.sleep(delay)  # let other callers join this listing
            started = run.begins = self._clock()
            self.listings += 1
            index = ScopeIndex(scope, started)
            async for found in list_keys(scope):
                if isinstance(found, Found):
                    index.put(found)
                else:
                    index.put_unreadable(found)
            index.finished = self._clock()
            self._replay(index)
            state.last_duration = index.finished - started
            if state.latest is None or state.latest.started <= started:
                state.latest = index
            return index
        finally:
            if state.running is run:
                state.running = None

    # -- this client's writes -----------------------------------------------------------

    @property
    def active(self) -> bool:
        """Whether anything was listed: only then are this client's writes recorded."""
        return bool(self._scopes)

    def created(self, scope: Scope, found: Found) -> None:
        """A create of this client returned *found* in *scope*."""
        self._write(_Write(self._clock(), scope, found, found.key.id))

    def updated(self, found: Found) -> None:
        """An update of this client returned the credential as it now is."""
        self._write(_Write(self._clock(), None, found, found.key.id))

    def deleted(self, key_id: str) -> None:
        """A delete of this client removed *key_id*."""
        self._write(_Write(self._clock(), None, None, key_id))

    def _write(self, write: _Write) -> None:
        if not self._scopes:
            return  # nothing listed, nothing to keep current
        self._journal.append(write)
        for state in self._scopes.values():
            if state.latest is not None:
                _apply(state.latest, write)

    def _replay(self, index: ScopeIndex) -> None:
        """Apply the writes made since *index*'s listing started (it may have missed them)."""
        for write in self._journal:
            if write.at >= index.started:
                _apply(index, write)

    def _prune(self) -> None:
        now = self._clock()
        horizon = now - max(self._keep, 1.0)
        for state in self._scopes.values():
            if state.latest is not None and state.latest.finished < horizon:
                state.latest = None
        oldest = min(
            (
                run.begins
                for state in self._scopes.values()
                for run in (state.running, state.waiting)
                if run is not None
            ),
            default=now,
        )
        cut = min(oldest, now - _JOURNAL_SECONDS)
        if self._journal and self._journal[0].at < cut:
            self._journal = [w for w in self._journal if w.at >= cut]


def _apply(index: ScopeIndex, write: _Write) -> None:
    if write.found is None:
        index.remove(write.key_id)
    elif write.scope is None:  # an update: wherever the credential is listed
        if write.key_id in index:
            index.put(write.found)
    elif write.scope == index.scope or (
        index.scope[0] is None and write.scope[1] == index.scope[1]
    ):  # created in the scope, or in one provider of a workspace listed whole
        index.put(write.found)


def _coalesce(last_duration: float | None) -> float:
    if last_duration is None:
        return COALESCE_MIN
    return min(COALESCE_MAX, max(COALESCE_MIN, last_duration / 4))


def _failed(task: asyncio.Future[Any] | None) -> bool:
    return task is not None and task.done() and (task.cancelled() or task.exception() is not None)
