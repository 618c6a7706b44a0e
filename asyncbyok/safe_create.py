"""Safe writes: a create or delete whose outcome is unknown never misreports.

The API has no idempotency keys. When a ``POST /byok`` or ``DELETE /byok/{id}`` fails
ambiguously (the connection dropped or timed out after the request was sent, or the
server answered 5xx or 408), it may nonetheless have done its work. From then on, for the
rest of that call, every resend is preceded by a lookup (:mod:`asyncbyok.retry` runs it):

**Create.** The client lists the credentials of the request's provider and workspace and
takes one as the create's own result only when

- it has the same ``name`` (``null`` when the request had none),
- every other field the request set has the value it asked for (``allowed_models``,
  ``disabled``, ``declared_region`` ...),
- its ``label`` is consistent with the raw key (same visible first/last characters),
- its ``created_at`` is no earlier than the first attempt, less an allowance for clock
  skew, and
- no other create of this client has already taken it.

Anything else means the attempt stored nothing: the create is sent again.

**Delete.** The client fetches the credential: gone (404) means the earlier attempt
deleted it, and the call returns as deleted; still there means the delete is sent again.
A resend answered 404 after an ambiguous attempt likewise means "deleted by us".

A lookup that fails ends the call with the write's own error (its method, URL and
attempts), the lookup's error chained as ``__cause__``: the credential's state is then
unknown, and the error says so rather than reading as a failed read. Lookups end by the
call's deadline.

**Cost.** The API documents no listing order, so a lookup cannot stop early at the
newest credentials: it lists the provider's scope in full (one request per 100
credentials). Concurrent ambiguous failures share listings: a listing waits
``COALESCE_SECONDS`` (50 ms) for others to join, and serves every failure before it began.

Limits, stated plainly:

- With a unique ``name`` the match is exact. Without one, two unnamed creates of keys
  that share their visible ends and settings, made in the same few minutes by other
  clients, cannot be told apart; the oldest unclaimed one is returned. Name your
  credentials, or use ``client.byok.ensure(...)``.
- A request the server is still working on when our timeout fires may commit after the
  lookup found nothing; the resend then makes a second credential. A timeout longer than
  the server's worst latency closes this gap.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

import attrs

from ._constants import SAFE_CREATE_CLOCK_SKEW
from ._sentinel import UNSET
from .errors import APIConnectionError, APIError, APIStatusError, APITimeoutError, NotFoundError
from .labels import label_consistent
from .models import BYOKKey, CreateBYOKKeyRequest, DeleteResult, request_fields
from .response import APIResponse
from .retry import call_deadline

__all__ = ["COALESCE_SECONDS", "CreateReconciler", "SafeCreate", "SafeDelete", "is_ambiguous"]

#: How long a new lookup listing waits for other ambiguous failures to join it.
COALESCE_SECONDS = 0.05

# Fields matched by scope or by rule of their own, not by value.
_MATCHED_APART = frozenset({"provider", "key", "workspace_id", "name"})

Clock = Callable[[], float]
T = TypeVar("T")
_Facts = tuple[int, Mapping[str, str], "str | None"]  # status, headers, request id


@attrs.frozen
class Found:
    """A credential seen in a listing, with the facts of the response that carried it."""

    key: BYOKKey
    status: int
    headers: Mapping[str, str]
    request_id: str | None


#: Lists a provider's credentials in a workspace (``None``: the default one).
ListKeys = Callable[[str, "str | None"], AsyncIterator[Found]]


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed write may nonetheless have been carried out by the server."""
    if isinstance(exc, APIConnectionError):
        return exc.request_sent
    return isinstance(exc, APIStatusError) and (exc.status >= 500 or exc.status == 408)


def matches(key: BYOKKey, request: CreateBYOKKeyRequest) -> bool:
    """Whether *key* holds every value *request* set (scope, name, label and time apart).

    A field the server did not send (an older server) cannot disagree.
    """
    for field in request_fields(CreateBYOKKeyRequest):
        if field.name in _MATCHED_APART:
            continue
        wanted = getattr(request, field.name)
        if wanted is UNSET:
            continue
        have = getattr(key, field.name, UNSET)
        if have is not UNSET and have != wanted:
            return False
    return True


@attrs.define
class _Snapshot:
    started: float  # time.monotonic() when the listing begins
    task: asyncio.Future[dict[str | None, list[Found]]]


class _Claims:
    """Ids this client's creates returned, remembered for *horizon* seconds.

    A lookup only considers credentials created in the last few minutes (the clock-skew
    allowance), so older claims can go: a long-lived client does not grow without bound.
    """

    def __init__(self, *, horizon: float, clock: Clock = time.monotonic) -> None:
        self._horizon = horizon
        self._clock = clock
        self._ids: set[str] = set()
        self._order: collections.deque[tuple[float, str]] = collections.deque()

    def add(self, key_id: str) -> None:
        now = self._clock()
        self._ids.add(key_id)
        self._order.append((now, key_id))
        while self._order[0][0] < now - self._horizon:
            self._ids.discard(self._order.popleft()[1])

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)


class CreateReconciler:
    """Finds credentials that ambiguous creates may have made. One per client."""

    def __init__(
        self,
        list_keys: ListKeys,
        *,
        horizon: float = 2 * SAFE_CREATE_CLOCK_SKEW,
        clock: Clock = time.monotonic,
        coalesce: float = COALESCE_SECONDS,
    ) -> None:
        self._list_keys = list_keys
        self._clock = clock
        self._coalesce = coalesce
        self._snapshots: dict[tuple[str, str | None], _Snapshot] = {}
        self.claimed = _Claims(horizon=horizon, clock=clock)

    def reset(self) -> None:
        """Forget listings in progress (their event loop has ended)."""
        self._snapshots.clear()

    async def find(
        self, request: CreateBYOKKeyRequest, *, since: float, failed_at: float
    ) -> Found | None:
        """The credential *request* made, if it exists: see the module docstring.

        *since* is the wall-clock time (seconds) before which it cannot have been
        created; *failed_at* the ``time.monotonic()`` of the ambiguous failure, which the
        listing must start after to be sure to see the credential.
        """
        workspace = None if request.workspace_id is UNSET else request.workspace_id
        by_name = await self._snapshot(str(request.provider), workspace, failed_at)
        name = None if request.name is UNSET else request.name
        candidates = [
            found
            for found in by_name.get(name, ())
            if found.key.id not in self.claimed
            and _created_since(found.key, since)
            and label_consistent(found.key.label, request.key) is not False
            and matches(found.key, request)
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda f: _sort_time(f.key))
        self.claimed.add(best.key.id)
        return best

    async def _snapshot(
        self, provider: str, workspace: str | None, failed_at: float
    ) -> dict[str | None, list[Found]]:
        slot = (provider, workspace)
        snapshot = self._snapshots.get(slot)
        if snapshot is None or snapshot.started <= failed_at or _failed(snapshot.task):
            start = self._clock() + self._coalesce
            task = asyncio.ensure_future(self._index(provider, workspace))
            snapshot = self._snapshots[slot] = _Snapshot(start, task)
        # shield: one caller leaving must not cancel the listing the others await
        deadline = call_deadline()
        if deadline is None:
            return await asyncio.shield(snapshot.task)
        try:
            return await asyncio.wait_for(
                asyncio.shield(snapshot.task), max(0.0, deadline - self._clock())
            )
        except asyncio.TimeoutError:
            raise APITimeoutError("The lookup did not finish by the call's deadline.") from None

    async def _index(self, provider: str, workspace: str | None) -> dict[str | None, list[Found]]:
        if self._coalesce:
            await asyncio.sleep(self._coalesce)  # let concurrent failures join this listing
        by_name: dict[str | None, list[Found]] = {}
        async for found in self._list_keys(provider, workspace):
            name = None if found.key.name is UNSET else found.key.name
            by_name.setdefault(name, []).append(found)
        return by_name


def _created_since(key: BYOKKey, since: float) -> bool:
    created = key.created_at
    if created is None:  # a timestamp in no known form: time can't rule it out
        return True
    return created.timestamp() >= since


def _sort_time(key: BYOKKey) -> float:
    return 0.0 if key.created_at is None else key.created_at.timestamp()


def _failed(task: asyncio.Future[Any]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


@attrs.define
class SafeCreate:
    """The :class:`~asyncbyok.retry.Reconciliation` of one create call."""

    request: CreateBYOKKeyRequest
    reconciler: CreateReconciler
    method: str
    url: str
    since: float = attrs.field(factory=lambda: time.time() - SAFE_CREATE_CLOCK_SKEW)
    started: float = attrs.field(factory=time.monotonic)

    def may_have_committed(self, exc: APIError) -> bool:
        return is_ambiguous(exc)

    async def lookup(self, *, failed_at: float, attempts: int) -> APIResponse[BYOKKey] | None:
        found = await self.reconciler.find(self.request, since=self.since, failed_at=failed_at)
        if found is None:
            return None
        facts = (found.status, found.headers, found.request_id)
        return _recovered(found.key, facts, attempts, self.started, self.method, self.url)

    def settle(self, exc: APIError, *, attempts: int) -> APIResponse[BYOKKey] | None:
        return None  # no answer to a create proves an earlier attempt stored it


GetKey = Callable[[], Any]


@attrs.define
class SafeDelete:
    """The :class:`~asyncbyok.retry.Reconciliation` of one delete call.

    *get* fetches the credential (raising :class:`~asyncbyok.errors.NotFoundError` when
    it is gone).
    """

    get: GetKey
    method: str
    url: str
    started: float = attrs.field(factory=time.monotonic)

    def may_have_committed(self, exc: APIError) -> bool:
        return is_ambiguous(exc)

    async def lookup(self, *, failed_at: float, attempts: int) -> APIResponse[DeleteResult] | None:
        try:
            await self.get()
        except NotFoundError as gone:
            return self._deleted(gone, attempts)
        return None  # still there: send the delete again

    def settle(self, exc: APIError, *, attempts: int) -> APIResponse[DeleteResult] | None:
        if isinstance(exc, NotFoundError):  # an earlier attempt of ours deleted it
            return self._deleted(exc, attempts)
        return None

    def _deleted(self, gone: NotFoundError, attempts: int) -> APIResponse[DeleteResult]:
        facts = (gone.status_code, gone.headers, gone.request_id)
        return _recovered(
            DeleteResult(deleted=True), facts, attempts, self.started, self.method, self.url
        )


def _recovered(
    parsed: T, facts: _Facts, attempts: int, started: float, method: str, url: str
) -> APIResponse[T]:
    """The response of a call settled by a lookup: the lookup's facts, the call's name."""
    status, headers, request_id = facts
    return APIResponse(
        parsed,
        status,
        headers,
        request_id,
        attempts,
        time.monotonic() - started,
        method,
        url,
        recovered=True,
    )
