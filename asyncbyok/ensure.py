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
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._sentinel import UNSET, Unset
from .errors import DuplicateNameError, FieldError, ValidationError
from .models import BYOKKey, CreateBYOKKeyRequest, ProviderSlug, UpdateBYOKKeyRequest
from .response import APIResponse

if TYPE_CHECKING:
    from .resources.byok import RawBYOKResource

__all__ = ["EnsureResult", "ensure"]

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


class _Pending:
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


async def ensure(
    resource: RawBYOKResource,
    *,
    provider: ProviderSlug | str,
    name: str,
    key: str | Unset,
    workspace_id: str | Unset,
    rotate_key: bool,
    fields: dict[str, Any],
) -> APIResponse[EnsureResult]:
    """Get or create; see the module docstring. Checks everything before sending."""
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
    workspace = None if workspace_id is UNSET else workspace_id
    slot: _Slot = (workspace, str(create.provider), name)
    pending = resource._client.shared_state("ensure", _Pending)
    while (earlier := pending.tasks.get(slot)) is not None:
        # An earlier ensure of this name (perhaps cancelled by its caller) is still at
        # work: its outcome is what this call would look for.
        await asyncio.wait([earlier])
    task = asyncio.ensure_future(_ensure_once(resource, create, key, workspace, rotate_key, fields))
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
    create: CreateBYOKKeyRequest,
    key: str | Unset,
    workspace: str | None,
    rotate_key: bool,
    fields: dict[str, Any],
) -> APIResponse[EnsureResult]:
    name = create.name
    assert isinstance(name, str)
    named = [
        k
        async for k in resource._client.byok.list(
            provider=create.provider, workspace_id=UNSET if workspace is None else workspace
        )
        if k.name == name
    ]
    if len(named) > 1:
        raise DuplicateNameError(
            name=name, provider=str(create.provider), workspace_id=workspace, keys=named
        )
    if not named:
        if key is UNSET:
            raise ValidationError(
                [FieldError("key", f"is needed: no credential named {name!r} exists yet")],
                subject="ensure",
            )
        response = await resource.create(create)
        return _wrap(response, EnsureResult(response.parsed, "created"))
    current = named[0]
    changes = {
        field: value
        for field, value in fields.items()
        if value is not UNSET and getattr(current, field, UNSET) != value
    }
    if rotate_key:
        changes["key"] = key
    if not changes:
        # The facts of the listing would do, but a GET gives this key's own.
        response = await resource.get(current.id)
        return _wrap(response, EnsureResult(response.parsed, "unchanged"))
    updated = await resource.update(current.id, UpdateBYOKKeyRequest(**changes))
    action: Action = "rotated" if rotate_key else "updated"
    return _wrap(updated, EnsureResult(updated.parsed, action, tuple(changes)))


def _wrap(response: APIResponse[Any], result: EnsureResult) -> APIResponse[EnsureResult]:
    return attrs.evolve(response, parsed=result)
