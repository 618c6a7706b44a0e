"""Safe create: never a duplicate credential from a create whose outcome is unknown.

The API has no idempotency keys, so when a ``POST /byok`` fails ambiguously (the
connection dropped or timed out after the request was sent, or the server answered
5xx), the credential may exist already. Before sending the create again, the client
looks for it and returns it if found. A credential counts as the one we created when:

- it has the same ``provider`` and workspace (listed with the same filters),
- the same ``name`` (``null`` when the request had none),
- a ``label`` consistent with the raw key (same visible first/last characters), and
- a ``created_at`` no earlier than the first attempt, less an allowance for clock skew,
- and no other create of this client has already claimed it.

Limits, stated plainly:

- With a unique ``name`` the match is exact. Without one, two unnamed creates of keys
  that share their visible ends, made in the same few minutes by other clients, cannot
  be told apart; the oldest unclaimed one is returned. Name your credentials.
- A request the server is still working on when our timeout fires may commit after the
  lookup found nothing; the resend then makes a second credential. A timeout longer than
  the server's worst latency closes this gap.

Lookups are shared: concurrent creates that failed at about the same time use one
listing of the provider's credentials, made after the last of those failures.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Callable

import attrs

from ._constants import SAFE_CREATE_CLOCK_SKEW
from ._sentinel import UNSET
from .errors import APIConnectionError, APIStatusError
from .labels import label_consistent
from .models import BYOKKey, CreateBYOKKeyRequest

__all__ = ["CreateReconciler", "is_ambiguous"]

ListKeys = Callable[[str, "str | None"], AsyncIterator[BYOKKey]]


def is_ambiguous(exc: BaseException) -> bool:
    """Whether a failed create may nonetheless have stored the credential."""
    if isinstance(exc, APIConnectionError):
        return exc.request_sent
    return isinstance(exc, APIStatusError) and (exc.status >= 500 or exc.status == 408)


@attrs.define
class _Snapshot:
    started: float  # time.monotonic() when the listing began
    task: asyncio.Task[dict[str | None, list[BYOKKey]]]


class _Claims:
    """Ids this client's creates returned, remembered for *horizon* seconds.

    A lookup only considers credentials created in the last few minutes (the clock-skew
    allowance), so older claims can go: a long-lived client does not grow without bound.
    """

    def __init__(self, *, horizon: float) -> None:
        self._horizon = horizon
        self._ids: set[str] = set()
        self._order: collections.deque[tuple[float, str]] = collections.deque()

    def add(self, key_id: str) -> None:
        now = time.monotonic()
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

    def __init__(self, list_keys: ListKeys, *, horizon: float = 2 * SAFE_CREATE_CLOCK_SKEW) -> None:
        self._list_keys = list_keys
        self._snapshots: dict[tuple[str, str | None], _Snapshot] = {}
        self.claimed = _Claims(horizon=horizon)
        self.lookups = 0
        self.recovered = 0

    async def find(
        self, request: CreateBYOKKeyRequest, *, since: float, failed_at: float
    ) -> BYOKKey | None:
        """The credential *request* made, if it exists: see the module docstring.

        *since* is the wall-clock time (seconds) before which it cannot have been
        created; *failed_at* the ``time.monotonic()`` of the ambiguous failure, which the
        listing must start after to be sure to see the credential.
        """
        workspace = None if request.workspace_id is UNSET else request.workspace_id
        by_name = await self._snapshot(str(request.provider), workspace, failed_at)
        name = None if request.name is UNSET else request.name
        candidates = [
            key
            for key in by_name.get(name, ())
            if key.id not in self.claimed
            and key.created_at.timestamp() >= since
            and label_consistent(key.label, request.key) is not False
        ]
        if not candidates:
            return None
        found = min(candidates, key=lambda k: k.created_at)
        self.claimed.add(found.id)
        self.recovered += 1
        return found

    async def _snapshot(
        self, provider: str, workspace: str | None, failed_at: float
    ) -> dict[str | None, list[BYOKKey]]:
        slot = (provider, workspace)
        snapshot = self._snapshots.get(slot)
        if snapshot is None or snapshot.started < failed_at or _failed(snapshot.task):
            self.lookups += 1
            started = time.monotonic()
            task = asyncio.ensure_future(self._index(provider, workspace))
            snapshot = self._snapshots[slot] = _Snapshot(started, task)
        # shield: one caller being cancelled must not cancel the listing the others await
        return await asyncio.shield(snapshot.task)

    def close(self) -> None:
        """Cancel listings still running (the client is closing)."""
        for snapshot in self._snapshots.values():
            snapshot.task.cancel()
        self._snapshots.clear()

    async def _index(self, provider: str, workspace: str | None) -> dict[str | None, list[BYOKKey]]:
        by_name: dict[str | None, list[BYOKKey]] = {}
        async for key in self._list_keys(provider, workspace):
            name = None if key.name is UNSET else key.name
            by_name.setdefault(name, []).append(key)
        return by_name


def _failed(task: asyncio.Task[object]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)
