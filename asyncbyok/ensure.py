"""``client.byok.ensure(...)``: make sure a named credential exists, as asked, repeatably.

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
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._sentinel import UNSET, Unset
from .errors import DuplicateNameError, FieldError, ValidationError
from .models import BYOKKey, CreateBYOKKeyRequest, ProviderSlug, UpdateBYOKKeyRequest
from .response import APIResponse

if TYPE_CHECKING:
    from .resources.byok import RawBYOKResource

__all__ = ["EnsureResult", "Pending", "Wanted", "check", "ensure"]

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


class Pending:
    """The ensure task in flight for each name, per client (one loop's worth)."""

    def __init__(self) -> None:
        self.tasks: dict[_Slot, asyncio.Task[APIResponse[EnsureResult]]] = {}

    def reset(self) -> None:
        self.tasks.clear()


def _fields_of(fields: dict[str, Any]) -> dict[str, Any]:
    """The update fields given, checked by building the request they would make."""
    unknown = sorted(set(fields) - {a.name for a in attrs.fields(UpdateBYOKKeyRequest)})
    if unknown or "key" in fields:
        bad = unknown or ["key"]
        raise TypeError(f"ensure() got unexpected keyword arguments: {', '.join(bad)}")
    return fields


@attrs.frozen
class Wanted:
    """One ``ensure`` call, checked: what to look for and what to make of it."""

    create: CreateBYOKKeyRequest  # carries a placeholder key when none was given
    key: str | Unset
    rotate_key: bool
    fields: dict[str, Any]

    @property
    def slot(self) -> _Slot:
        workspace = self.create.workspace_id
        name = self.create.name
        assert isinstance(name, str)
        return (None if workspace is UNSET else workspace, str(self.create.provider), name)


def check(
    *,
    provider: ProviderSlug | str,
    name: str,
    key: str | Unset,
    workspace_id: str | Unset,
    rotate_key: bool,
    fields: dict[str, Any],
) -> Wanted:
    """Check an ``ensure`` call's arguments, before anything is sent."""
    fields = _fields_of(fields)
    # Build both requests now: bad input is refused before anything is sent.
    create = CreateBYOKKeyRequest(
        provider=provider,
        key=key if key is not UNSET else "placeholder",
        name=name,
        workspace_id=workspace_id,
        **fields,
    )
    UpdateBYOKKeyRequest(key=key, **fields) if rotate_key else UpdateBYOKKeyRequest(**fields)
    if rotate_key and key is UNSET:
        raise ValidationError([FieldError("key", "is needed to rotate the key")], subject="ensure")
    if not isinstance(name, str) or not name:
        raise ValidationError([FieldError("name", "must be a non-empty string")], subject="ensure")
    return Wanted(create, key, rotate_key, fields)


async def ensure(
    resource: RawBYOKResource,
    wanted: Wanted,
    *,
    pending: Pending,
    list_keys: Callable[[Wanted], AsyncIterator[BYOKKey]],
) -> APIResponse[EnsureResult]:
    """Get or create *wanted* through *resource*; see the module docstring.

    *pending* is the client's :class:`Pending` (shared by its copies); *list_keys* lists
    the credentials of the wanted provider and workspace.
    """
    slot = wanted.slot
    while (earlier := pending.tasks.get(slot)) is not None:
        # An earlier ensure of this name (perhaps cancelled by its caller) is still at
        # work: its outcome is what this call would look for.
        await asyncio.wait([earlier])
    task = asyncio.ensure_future(_ensure_once(resource, wanted, list_keys))
    pending.tasks[slot] = task

    def forget(done: asyncio.Task[Any]) -> None:
        if pending.tasks.get(slot) is done:
            del pending.tasks[slot]
        if not done.cancelled():
            done.exception()  # retrieved: a caller that left must not cause a warning

    task.add_done_callback(forget)
    return await asyncio.shield(task)


async def _ensure_once(
    resource: RawBYOKResource,
    wanted: Wanted,
    list_keys: Callable[[Wanted], AsyncIterator[BYOKKey]],
) -> APIResponse[EnsureResult]:
    workspace, provider, name = wanted.slot
    named = [k async for k in list_keys(wanted) if k.name == name]
    if len(named) > 1:
        raise DuplicateNameError(name=name, provider=provider, workspace_id=workspace, keys=named)
    if not named:
        if wanted.key is UNSET:
            raise ValidationError(
                [FieldError("key", f"is needed: no credential named {name!r} exists yet")],
                subject="ensure",
            )
        response = await resource.create(wanted.create)
        return _wrap(response, EnsureResult(response.parsed, "created"))
    current = named[0]
    changes = {
        field: value
        for field, value in wanted.fields.items()
        if value is not UNSET and getattr(current, field, UNSET) != value
    }
    if wanted.rotate_key:
        changes["key"] = wanted.key
    if not changes:
        # The facts of the listing would do, but a GET gives this key's own.
        response = await resource.get(current.id)
        return _wrap(response, EnsureResult(response.parsed, "unchanged"))
    updated = await resource.update(current.id, UpdateBYOKKeyRequest(**changes))
    action: Action = "rotated" if wanted.rotate_key else "updated"
    return _wrap(updated, EnsureResult(updated.parsed, action, tuple(changes)))


def _wrap(response: APIResponse[Any], result: EnsureResult) -> APIResponse[EnsureResult]:
    return attrs.evolve(response, parsed=result)
