"""``client.byok.ensure(...)`` and ``ensure_many(...)``: make sure named credentials exist,
as asked, repeatably.

``create`` is not safe to repeat: a create wrapped in ``asyncio.wait_for`` that times out
may still be stored, and calling it again stores a second credential. ``ensure`` is the
call to repeat. It is get-or-create by workspace, provider and name:

- no credential of that name: it is created (the key is needed then);
- one: the fields given that differ are updated; the raw key is replaced only with
  ``rotate_key=True`` (a key can't be read back, so it can't be compared);
- several: :class:`~asyncbyok.errors.DuplicateNameError`, listing them; nothing changes.

It is safe to call again after a timeout or a cancellation: the work runs in a task of
the client's own that the caller's cancellation does not stop, and a later ``ensure`` of
the same name in the same client waits for it before it looks. Concurrent calls for one
name in one client are carried out one after the other, so they make one credential.
Across processes, the lookup by name finds what an earlier run stored.

**What it costs.** Looking a name up means listing the scope (the API has no filter by
name): ``ceil(S / 100)`` requests for a scope of S credentials. Listings are shared
(:mod:`asyncbyok.listings`): concurrent ``ensure`` calls of one scope share one listing.
``max_age=SECONDS`` lets a listing up to that old serve the lookup, with this client's
own writes since applied to it, so a service ensuring a credential per tenant lists the
scope once a minute with ``max_age=60``, not once per tenant. Writes by *other*
processes within that time are not seen: a name created elsewhere meanwhile is
created again (a duplicate that the next ``ensure`` reports as
:class:`~asyncbyok.errors.DuplicateNameError`). The default, ``max_age=0``, always lists.

``ensure_many(specs)`` lists each scope once for any number of names, then makes only
the writes needed, paced like ``create_many``: for 1,000 names, ``ceil(S / 100)``
requests plus one per credential created or changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._sentinel import UNSET, Unset
from .bulk import BulkRun, check_run_options, report
from .errors import DuplicateNameError, FieldError, ValidationError
from .listings import Found, ListKeys, Scope, ScopeIndex, ScopeListings, scope_of
from .models import (
    BYOKKey,
    CreateBYOKKeyRequest,
    DeclaredRegion,
    ProviderSlug,
    UpdateBYOKKeyRequest,
    request_fields,
)
from .response import APIResponse

if TYPE_CHECKING:
    from .resources.byok import RawBYOKResource

__all__ = [
    "EnsureOutcome",
    "EnsureResult",
    "EnsureSpec",
    "Pending",
    "Wanted",
    "check",
    "ensure",
    "ensure_many",
]

Action = Literal["created", "updated", "rotated", "unchanged"]
_Slot = tuple[str | None, str, str]  # workspace, provider, name


@attrs.frozen
class EnsureResult:
    """What ``client.byok.ensure(...)`` did.

    ``key`` is the credential as it now is; ``action`` one of ``"created"``,
    ``"updated"``, ``"rotated"`` (the key was replaced, perhaps with other fields) or
    ``"unchanged"``; ``changed`` the names of the fields sent in the update (``key``
    among them when rotated).
    """

    key: BYOKKey
    action: Action
    changed: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class EnsureSpec:
    """One credential for ``ensure_many`` (``ensure`` takes the same as keywords).

    ``provider`` and ``name`` say which credential; ``key`` is needed to create it (and
    with ``rotate_key=True`` replaces the stored one); the other fields are the settings
    it must have, ``UNSET`` ones left as they are. Never shows ``key`` in its ``repr``.
    """

    provider: ProviderSlug | str
    name: str
    key: str | Unset = attrs.field(default=UNSET, repr=False)
    workspace_id: str | Unset = UNSET
    rotate_key: bool = False
    allowed_models: list[str] | None | Unset = UNSET
    allowed_user_ids: list[str] | None | Unset = UNSET
    allowed_api_key_hashes: list[str] | None | Unset = UNSET
    disabled: bool | Unset = UNSET
    is_fallback: bool | Unset = UNSET
    declared_region: DeclaredRegion | str | None | Unset = UNSET
    declared_zdr: bool | None | Unset = UNSET
    is_byok_only: bool | Unset = UNSET
    is_required: bool | Unset = UNSET

    def settings(self) -> dict[str, Any]:
        """The settings given (what an update may change but ``key`` and ``name``)."""
        return {name: getattr(self, name) for name in _SETTINGS if getattr(self, name) is not UNSET}


# What an update may change, but the key and the name (which says which credential).
_SETTINGS = tuple(
    f.name for f in request_fields(UpdateBYOKKeyRequest) if f.name not in ("key", "name")
)
_SPEC_FIELDS = frozenset(a.name for a in attrs.fields(EnsureSpec))
# One table of fields: the spec must offer every setting an update takes, and no other.
_missing = set(_SETTINGS) - _SPEC_FIELDS
_extra = _SPEC_FIELDS - set(_SETTINGS) - {"provider", "name", "key", "workspace_id", "rotate_key"}
if _missing or _extra:  # pragma: no cover - a new API field must be added above
    raise TypeError(f"EnsureSpec fields: missing {sorted(_missing)}, extra {sorted(_extra)}")


class Pending:
    """The ensure work in flight for each name, per client (one loop's worth)."""

    def __init__(self) -> None:
        self.tasks: dict[_Slot, asyncio.Future[Any]] = {}

    def reset(self) -> None:
        self.tasks.clear()

    async def wait(self, slots: Iterable[_Slot]) -> None:
        """Wait until no earlier ensure of these names is at work."""
        for slot in slots:
            while (earlier := self.tasks.get(slot)) is not None:
                await asyncio.wait([earlier])

    def hold(self, slot: _Slot, work: asyncio.Future[Any]) -> None:
        """Mark *slot* as worked on until *work* is done."""
        self.tasks[slot] = work

        def forget(done: asyncio.Future[Any]) -> None:
            if self.tasks.get(slot) is done:
                del self.tasks[slot]
            if not done.cancelled():
                done.exception()  # retrieved: a caller that left must not cause a warning

        work.add_done_callback(forget)


@attrs.frozen
class Wanted:
    """One ``ensure``, checked: what to look for and what to make of it."""

    create: CreateBYOKKeyRequest  # carries a placeholder key when none was given
    key: str | Unset = attrs.field(repr=False)
    rotate_key: bool
    fields: dict[str, Any]

    @property
    def slot(self) -> _Slot:
        workspace = self.create.workspace_id
        name = self.create.name
        assert isinstance(name, str)
        return (None if workspace is UNSET else workspace, str(self.create.provider), name)

    @property
    def scope(self) -> Scope:
        return scope_of(self.create.provider, self.create.workspace_id)


def check(spec: EnsureSpec | Mapping[str, Any]) -> Wanted:
    """Check one ``ensure``'s arguments, before anything is sent."""
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - _SPEC_FIELDS)
        if unknown:
            raise TypeError(f"ensure() got unexpected keyword arguments: {', '.join(unknown)}")
        spec = EnsureSpec(**spec)
    if not isinstance(spec, EnsureSpec):
        raise TypeError(f"expected an EnsureSpec or a mapping, not {type(spec).__name__}")
    fields = spec.settings()
    # Build both requests now: bad input is refused before anything is sent.
    create = CreateBYOKKeyRequest(
        provider=spec.provider,
        key=spec.key if spec.key is not UNSET else "placeholder",
        name=spec.name,
        workspace_id=spec.workspace_id,
        **fields,
    )
    UpdateBYOKKeyRequest(key=spec.key, **fields) if spec.rotate_key else UpdateBYOKKeyRequest(
        **fields
    )
    if spec.rotate_key and spec.key is UNSET:
        raise ValidationError([FieldError("key", "is needed to rotate the key")], subject="ensure")
    if not isinstance(spec.name, str) or not spec.name:
        raise ValidationError([FieldError("name", "must be a non-empty string")], subject="ensure")
    return Wanted(create, spec.key, spec.rotate_key, fields)


# -- deciding -----------------------------------------------------------------------------


@attrs.frozen
class _Plan:
    """What one ensure must do, decided from a listing: at most one write."""

    action: Action
    current: Found | None = None  # the credential there is (None: create)
    update: UpdateBYOKKeyRequest | None = None
    changed: tuple[str, ...] = ()


def decide(wanted: Wanted, named: Sequence[Found]) -> _Plan:
    """The write (if any) that makes *named* (the credentials of that name) as wanted.

    Raises :class:`~asyncbyok.errors.DuplicateNameError` for several, and
    :class:`~asyncbyok.errors.ValidationError` when one must be created with no key.
    """
    workspace, provider, name = wanted.slot
    if len(named) > 1:
        keys = [f.key for f in named]
        raise DuplicateNameError(name=name, provider=provider, workspace_id=workspace, keys=keys)
    if not named:
        if wanted.key is UNSET:
            raise ValidationError(
                [FieldError("key", f"is needed: no credential named {name!r} exists yet")],
                subject="ensure",
            )
        return _Plan("created")
    current = named[0]
    changes = {
        field: value
        for field, value in wanted.fields.items()
        if getattr(current.key, field, UNSET) != value
    }
    if wanted.rotate_key:
        changes["key"] = wanted.key
    if not changes:
        return _Plan("unchanged", current)
    action: Action = "rotated" if wanted.rotate_key else "updated"
    return _Plan(action, current, UpdateBYOKKeyRequest(**changes), tuple(changes))


async def _carry_out(
    resource: RawBYOKResource, wanted: Wanted, plan: _Plan
) -> APIResponse[EnsureResult]:
    if plan.current is None:
        created = await resource.create(wanted.create)
        return _wrap(created, EnsureResult(created.parsed, "created"))
    if plan.update is None:
        found = plan.current
        facts = APIResponse(
            found.key, found.status, found.headers, found.request_id, 0, 0.0, "GET", ""
        )
        return _wrap(facts, EnsureResult(found.key, "unchanged"))
    updated = await resource.update(plan.current.key.id, plan.update)
    return _wrap(updated, EnsureResult(updated.parsed, plan.action, plan.changed))


def _wrap(response: APIResponse[Any], result: EnsureResult) -> APIResponse[EnsureResult]:
    return attrs.evolve(response, parsed=result)


# -- one ----------------------------------------------------------------------------------


@attrs.frozen
class _Shared:
    """What ensure needs of the client: its pending names, listings and way to list."""

    pending: Pending
    listings: ScopeListings
    list_keys: ListKeys


async def ensure(
    resource: RawBYOKResource, wanted: Wanted, shared: _Shared, *, max_age: float = 0.0
) -> APIResponse[EnsureResult]:
    """Get or create *wanted* through *resource*; see the module docstring."""
    await shared.pending.wait([wanted.slot])
    task = asyncio.ensure_future(_ensure_once(resource, wanted, shared, max_age))
    shared.pending.hold(wanted.slot, task)
    return await asyncio.shield(task)


async def _ensure_once(
    resource: RawBYOKResource, wanted: Wanted, shared: _Shared, max_age: float
) -> APIResponse[EnsureResult]:
    since = time.monotonic() - max_age
    index = await shared.listings.index(
        wanted.scope, since=since, list_keys=shared.list_keys, max_age=max_age
    )
    plan = decide(wanted, index.named(wanted.slot[2]))
    return await _carry_out(resource, wanted, plan)


# -- many ---------------------------------------------------------------------------------


@attrs.frozen
class EnsureOutcome:
    """The outcome of one item of ``ensure_many``: ``result`` or ``error``.

    ``index`` is the spec's position in the input; ``progress_error`` is what the
    ``on_progress`` callback raised for it, if it raised.
    """

    index: int
    spec: EnsureSpec
    result: EnsureResult | None = None
    error: BaseException | None = None
    progress_error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether the credential is now as asked."""
        return self.result is not None

    @property
    def key(self) -> BYOKKey | None:
        """The credential as it now is (``None`` if this item failed)."""
        return None if self.result is None else self.result.key


def check_many(
    specs: Iterable[EnsureSpec | Mapping[str, Any]],
    concurrency: object,
    on_progress: object,
    stop: object,
) -> tuple[list[EnsureSpec], list[Wanted]]:
    """Check every spec and option of an ``ensure_many``; one error naming each bad one."""
    given = list(specs)
    errors: list[FieldError] = []
    checked: list[Wanted] = []
    seen: dict[_Slot, int] = {}
    for i, spec in enumerate(given):
        try:
            wanted = check(spec)
        except ValidationError as exc:
            errors += [FieldError(f"specs[{i}].{e.path}", e.message) for e in exc.errors]
            continue
        except TypeError as exc:
            errors.append(FieldError(f"specs[{i}]", str(exc)))
            continue
        if wanted.slot in seen:
            errors.append(
                FieldError(
                    f"specs[{i}]", f"names the same credential as specs[{seen[wanted.slot]}]"
                )
            )
        seen.setdefault(wanted.slot, i)
        checked.append(wanted)
    errors += check_run_options(concurrency, on_progress, stop)
    if errors:
        raise ValidationError(errors, subject="ensure_many")
    as_specs = [s if isinstance(s, EnsureSpec) else EnsureSpec(**s) for s in given]
    return as_specs, checked


async def ensure_many(
    resource: RawBYOKResource,
    specs: list[EnsureSpec],
    wanted: list[Wanted],
    shared: _Shared,
    *,
    concurrency: int,
    max_age: float = 0.0,
    on_progress: Callable[[EnsureOutcome], Any] | None = None,
    stop: asyncio.Event | None = None,
) -> list[EnsureOutcome]:
    """Ensure every checked spec: one listing per scope, then the writes needed."""
    outcomes: list[EnsureOutcome | None] = [None] * len(specs)
    loop = asyncio.get_running_loop()
    held = {w.slot: loop.create_future() for w in wanted}
    await shared.pending.wait(held)
    for slot, holder in held.items():
        shared.pending.hold(slot, holder)
    try:
        indexes = await _list_scopes(wanted, shared, max_age)
        todo = _decide_all(wanted, indexes, specs, outcomes, on_progress)

        async def work(position: int) -> None:
            i, plan = todo[position]
            try:
                done = await _carry_out(resource, wanted[i], plan)
            except Exception as exc:  # one item's failure is its outcome
                outcome = EnsureOutcome(i, specs[i], error=exc)
            else:
                outcome = EnsureOutcome(i, specs[i], result=done.parsed)
            outcomes[i] = report(outcome, on_progress)

        run = BulkRun(len(todo), work, concurrency=concurrency, stop=stop, **_parking(shared))
        await run.run()
    finally:
        for holder in held.values():
            if not holder.done():
                holder.set_result(None)
    for i, spec in enumerate(specs):  # not started: the run was stopped
        if outcomes[i] is None:
            stopped = EnsureOutcome(i, spec, error=asyncio.CancelledError("stopped"))
            outcomes[i] = report(stopped, on_progress)
    return [o for o in outcomes if o is not None]


def _parking(shared: _Shared) -> dict[str, Any]:
    return {"listings": shared.listings, "list_keys": shared.list_keys}


async def _list_scopes(
    wanted: Sequence[Wanted], shared: _Shared, max_age: float
) -> dict[Scope, ScopeIndex]:
    since = time.monotonic() - max_age
    scopes = sorted({w.scope for w in wanted}, key=lambda s: (s[0], s[1] or ""))
    listed: list[Awaitable[ScopeIndex]] = [
        shared.listings.index(s, since=since, list_keys=shared.list_keys, max_age=max_age)
        for s in scopes
    ]
    return dict(zip(scopes, await asyncio.gather(*listed), strict=True))


def _decide_all(
    wanted: Sequence[Wanted],
    indexes: Mapping[Scope, ScopeIndex],
    specs: Sequence[EnsureSpec],
    outcomes: list[EnsureOutcome | None],
    on_progress: Callable[[EnsureOutcome], Any] | None,
) -> list[tuple[int, _Plan]]:
    """The writes to make; items needing none (or failing at once) get their outcome."""
    todo = []
    for i, item in enumerate(wanted):
        try:
            plan = decide(item, indexes[item.scope].named(item.slot[2]))
        except (DuplicateNameError, ValidationError) as exc:
            outcomes[i] = report(EnsureOutcome(i, specs[i], error=exc), on_progress)
            continue
        if plan.action == "unchanged":
            assert plan.current is not None
            result = EnsureResult(plan.current.key, "unchanged")
            outcomes[i] = report(EnsureOutcome(i, specs[i], result=result), on_progress)
            continue
        todo.append((i, plan))
    return todo
