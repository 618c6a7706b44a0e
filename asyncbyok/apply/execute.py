"""Running a plan against the API: reading the server's state, then applying the changes.

:func:`fetch_state` lists the credentials of every ``(workspace, provider)`` pair a manifest
manages; :func:`apply_plan` carries a :class:`~asyncbyok.apply.Plan` out, concurrently:

1. creates through ``client.byok.create_many`` (its safe-create rule never duplicates a
   credential when an attempt's outcome is unknown);
2. updates and rotations, one PATCH each;
3. deletes, last, so nothing is removed before its replacements exist.

One item's failure never stops the others; it is recorded in the :class:`ApplyResult`.

Crash safety: every credential an apply creates carries its manifest name, so a run killed
half-way (even by SIGKILL) is finished by running it again: the new plan lists what exists
and creates only what is missing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from .._constants import DEFAULT_BULK_CONCURRENCY, DEFAULT_LIST_CONCURRENCY
from .._sentinel import UNSET, Unset
from ..errors import NotFoundError, UnreadableStateError
from ..models import BYOKKey, CreateBYOKKeyRequest
from .manifest import Manifest
from .plan import Create, Delete, Plan, PlanItem, Rotate, Update, make_plan

if TYPE_CHECKING:
    from ..bulk import CreateResult
    from ..client import Client

__all__ = [
    "ApplyResult",
    "Outcome",
    "ServerState",
    "apply_manifest",
    "apply_plan",
    "fetch_state",
]

ProgressCallback = Callable[["Outcome"], None]


@attrs.frozen(kw_only=True)
class ServerState:
    """What the server holds in the scopes a manifest manages."""

    keys: tuple[BYOKKey, ...]
    default_workspace_id: str | None = None
    """The account's default workspace, when a listing without ``workspace_id`` showed it."""
    list_requests: int = 0


@attrs.frozen(kw_only=True)
class Outcome:
    """What happened to one plan item: ``ok`` with the resulting ``key``, or an ``error``."""

    item: PlanItem
    ok: bool
    key: BYOKKey | None = None
    error: BaseException | None = None

    @property
    def action(self) -> str:
        return self.item.action


@attrs.frozen(kw_only=True)
class ApplyResult:
    """Every item's :class:`Outcome`, in plan order, and the counts."""

    outcomes: tuple[Outcome, ...] = ()
    elapsed: float = 0.0
    unchanged: int = 0

    def _done(self, action: str) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.action == action)

    @property
    def created(self) -> int:
        """Items created (including creates found after an ambiguous failure)."""
        return self._done("create")

    @property
    def updated(self) -> int:
        """Items updated."""
        return self._done("update")

    @property
    def rotated(self) -> int:
        """Items whose raw key was rotated."""
        return self._done("rotate")

    @property
    def deleted(self) -> int:
        """Items deleted (a 404 counts: the credential is gone either way)."""
        return self._done("delete")

    @property
    def failures(self) -> list[Outcome]:
        """The outcomes that failed, in plan order."""
        return [o for o in self.outcomes if not o.ok]

    @property
    def failed(self) -> int:
        """How many items failed."""
        return len(self.failures)

    @property
    def ok(self) -> bool:
        """Whether every item succeeded."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        """Every count by name, as the summary table and ``--json`` show them."""
        return {
            "created": self.created,
            "updated": self.updated,
            "rotated": self.rotated,
            "deleted": self.deleted,
            "failed": self.failed,
            "unchanged": self.unchanged,
        }


async def fetch_state(
    client: Client, manifest: Manifest, *, concurrency: int = DEFAULT_LIST_CONCURRENCY
) -> ServerState:
    """List every credential in the ``(workspace, provider)`` pairs *manifest* manages."""
    gate = asyncio.Semaphore(concurrency)
    requests = 0

    async def scope(workspace_id: str | None, provider: str) -> list[BYOKKey]:
        nonlocal requests
        workspace: str | Unset = UNSET if workspace_id is None else workspace_id
        keys: list[BYOKKey] = []
        async with gate:
            requests += 1
            pager = client.byok.list(workspace_id=workspace, provider=provider)
            async for page in pager.pages():
                if page.undecodable:
                    # A credential we can't read may be one the manifest manages: planning
                    # without it could create a duplicate, or prune the wrong one.
                    raise UnreadableStateError(provider, workspace_id, page.undecodable)
                keys.extend(page.data)
        return keys

    scopes = manifest.scopes
    listed = await asyncio.gather(*(scope(ws, provider) for ws, provider in scopes))
    default_ws = next(
        (
            key.workspace_id
            for (ws, _), keys in zip(scopes, listed, strict=True)
            if ws is None
            for key in keys
            if isinstance(key.workspace_id, str)
        ),
        None,
    )
    unique = {key.id: key for keys in listed for key in keys}
    return ServerState(
        keys=tuple(unique.values()), default_workspace_id=default_ws, list_requests=requests
    )


async def apply_plan(
    client: Client,
    plan: Plan,
    *,
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
) -> ApplyResult:
    """Carry out *plan* with at most *concurrency* requests at once.

    *on_progress* is called once per finished item, with its :class:`Outcome`.
    Never raises for one item's failure; see :attr:`ApplyResult.failures`.
    """
    started = time.monotonic()
    report = on_progress or (lambda _: None)
    outcomes: dict[int, Outcome] = {}

    def finish(index: int, outcome: Outcome) -> None:
        outcomes[index] = outcome
        report(outcome)

    items = plan.items
    creates = [(i, item) for i, item in enumerate(items) if isinstance(item, Create)]
    patches = [(i, item) for i, item in enumerate(items) if isinstance(item, (Update, Rotate))]
    deletes = [(i, item) for i, item in enumerate(items) if isinstance(item, Delete)]

    if creates:
        await _create_all(client, creates, concurrency, finish)
    await _run_bounded([_one_patch(client, i, item, finish) for i, item in patches], concurrency)
    await _run_bounded([_one_delete(client, i, item, finish) for i, item in deletes], concurrency)
    ordered = tuple(outcomes[i] for i in sorted(outcomes))
    return ApplyResult(
        outcomes=ordered, elapsed=time.monotonic() - started, unchanged=plan.unchanged
    )


async def apply_manifest(
    client: Client,
    manifest: Manifest,
    *,
    prune: bool = False,
    force_rotate: bool = False,
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
) -> tuple[Plan, ApplyResult]:
    """Fetch the state, plan and apply in one call: ``plan, result = await apply_manifest(...)``."""
    state = await fetch_state(client, manifest)
    plan = make_plan(
        manifest,
        state.keys,
        prune=prune,
        force_rotate=force_rotate,
        default_workspace_id=state.default_workspace_id,
    )
    return plan, await apply_plan(client, plan, concurrency=concurrency, on_progress=on_progress)


async def _create_all(
    client: Client,
    creates: Sequence[tuple[int, Create]],
    concurrency: int,
    finish: Callable[[int, Outcome], None],
) -> None:
    requests: list[CreateBYOKKeyRequest] = [item.desired.request for _, item in creates]

    def progress(result: CreateResult) -> None:
        index, item = creates[result.index]
        finish(index, Outcome(item=item, ok=result.ok, key=result.key, error=result.error))

    await client.byok.create_many(requests, concurrency=concurrency, on_progress=progress)


async def _one_patch(
    client: Client, index: int, item: Update | Rotate, finish: Callable[[int, Outcome], None]
) -> None:
    try:
        key = await client.byok.update(item.current.id, item.request())
    except Exception as exc:  # one item's failure is recorded, never raised
        finish(index, Outcome(item=item, ok=False, error=exc))
    else:
        finish(index, Outcome(item=item, ok=True, key=key))


async def _one_delete(
    client: Client, index: int, item: Delete, finish: Callable[[int, Outcome], None]
) -> None:
    try:
        await client.byok.delete(item.current.id)
    except NotFoundError:
        finish(index, Outcome(item=item, ok=True))  # already gone: the goal is met
    except Exception as exc:
        finish(index, Outcome(item=item, ok=False, error=exc))
    else:
        finish(index, Outcome(item=item, ok=True))


async def _run_bounded(jobs: Sequence[Awaitable[None]], limit: int) -> None:
    gate = asyncio.Semaphore(max(1, limit))

    async def guarded(job: Awaitable[None]) -> None:
        async with gate:
            await job

    await asyncio.gather(*(guarded(job) for job in jobs))
