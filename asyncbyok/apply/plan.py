"""Planning: what to create, update, rotate and delete so the server matches a manifest.

:func:`make_plan` is pure: it compares a :class:`~asyncbyok.apply.Manifest` with the
credentials the server listed and returns a :class:`Plan`. Nothing is sent.

- **Identity** is ``(workspace, provider, name)``. A manifest entry with no server match
  is a :class:`Create`.
- **Updates** compare only the fields an entry sets (an omitted field is unmanaged). Each
  :class:`FieldChange` keeps ``None`` (JSON ``null``) apart from "not sent by the server"
  (:data:`~asyncbyok.UNSET`). Allowlists compare as sets: their order carries no meaning.
- **Rotation**: the API never returns a raw key, only a masked ``label``. When the label
  cannot be the mask of the manifest's key (:func:`~asyncbyok.labels.label_consistent` is
  ``False``), or when rotation is forced, the key is sent again (:class:`Rotate`: one PATCH
  with ``key`` and any field changes). A label that tells nothing (``None``) rotates only
  when forced.
- **Deletes** happen only with ``prune=True``, only in the ``(workspace, provider)`` pairs
  the manifest manages, and only for credentials whose name the manifest does not list.
- **Keys not at hand** (``missing_keys: keep``, e.g. an exported manifest whose variables
  are not set): the credential's fields are compared as usual and its key is left alone,
  never rotated; a credential that would have to be created raises
  :class:`~asyncbyok.ValidationError` naming each such entry, since nothing can be sent
  without its key.
- **Duplicates** on the server (one identity, several credentials, e.g. after a crash on a
  server without idempotent creates): the oldest is kept and compared; with ``prune`` the
  others are deleted, without it they are reported in ``warnings``.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from .._sentinel import UNSET
from ..errors import FieldError, ValidationError
from ..labels import label_consistent
from ..models import BYOKKey, UpdateBYOKKeyRequest
from .manifest import DesiredKey, Identity, Manifest

__all__ = [
    "Create",
    "Delete",
    "FieldChange",
    "Plan",
    "PlanItem",
    "Rotate",
    "Update",
    "make_plan",
]

# Stands for "the default workspace" when its id is not known: matches no server credential.
_UNKNOWN_DEFAULT = "<default workspace>"


@attrs.frozen
class FieldChange:
    """One field to change: ``old`` as the server has it (``UNSET``: not sent), ``new``
    as the manifest wants it (``None`` is sent as JSON ``null``)."""

    field: str
    old: Any
    new: Any


@attrs.frozen(kw_only=True)
class Create:
    """A credential the manifest names and the server lacks."""

    action: ClassVar[str] = "create"
    desired: DesiredKey


@attrs.frozen(kw_only=True)
class Update:
    """A PATCH of the fields in ``changes`` on an existing credential."""

    action: ClassVar[str] = "update"
    current: BYOKKey
    desired: DesiredKey
    changes: tuple[FieldChange, ...]

    def request(self) -> UpdateBYOKKeyRequest:
        """The body of the PATCH: the changed fields only."""
        return UpdateBYOKKeyRequest(**{c.field: c.new for c in self.changes})


@attrs.frozen(kw_only=True)
class Rotate:
    """A PATCH that sends the raw key again (rotation in place), with any field changes."""

    action: ClassVar[str] = "rotate"
    current: BYOKKey
    desired: DesiredKey
    changes: tuple[FieldChange, ...]
    reason: str

    def request(self) -> UpdateBYOKKeyRequest:
        """The body of the PATCH: the key and the changed fields."""
        fields = {c.field: c.new for c in self.changes}
        return UpdateBYOKKeyRequest(key=self.desired.raw_key, **fields)


@attrs.frozen(kw_only=True)
class Delete:
    """A credential to delete (only ever planned with ``prune``)."""

    action: ClassVar[str] = "delete"
    current: BYOKKey
    reason: str


PlanItem = Create | Update | Rotate | Delete


@attrs.frozen(kw_only=True)
class Plan:
    """What :func:`~asyncbyok.apply.apply_plan` will do, in the order it does it."""

    creates: tuple[Create, ...] = ()
    updates: tuple[Update, ...] = ()
    rotations: tuple[Rotate, ...] = ()
    deletes: tuple[Delete, ...] = ()
    unchanged: int = 0
    """Credentials that already match their manifest entry."""
    warnings: tuple[str, ...] = ()

    @property
    def items(self) -> tuple[PlanItem, ...]:
        return (*self.creates, *self.updates, *self.rotations, *self.deletes)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def is_empty(self) -> bool:
        """Whether applying would send nothing."""
        return not self.items

    def counts(self) -> dict[str, int]:
        """``{"create": 3, "update": 1, "rotate": 0, "delete": 0, "unchanged": 295}``."""
        return {
            "create": len(self.creates),
            "update": len(self.updates),
            "rotate": len(self.rotations),
            "delete": len(self.deletes),
            "unchanged": self.unchanged,
        }


def make_plan(
    manifest: Manifest,
    existing: Sequence[BYOKKey],
    *,
    prune: bool = False,
    force_rotate: bool = False,
    default_workspace_id: str | None = None,
) -> Plan:
    """Compare *manifest* with the *existing* credentials; no I/O.

    *existing* should hold every credential of the ``(workspace, provider)`` pairs the
    manifest manages (:func:`~asyncbyok.apply.fetch_state` lists exactly those); others are
    ignored. Entries without ``workspace_id`` live in *default_workspace_id*; when it is
    ``None`` (not known), they match no existing credential.

    With nothing on the server, every entry is a create::

        plan = make_plan(manifest, [])
        assert plan.counts()["create"] == len(manifest.keys)
    """
    default_ws = default_workspace_id.lower() if default_workspace_id else _UNKNOWN_DEFAULT

    def scope_of(workspace_id: str | None, provider: str) -> tuple[str, str]:
        return (workspace_id or default_ws, provider)

    managed = {scope_of(ws, provider) for ws, provider in manifest.scopes}
    by_identity: dict[Identity, list[BYOKKey]] = {}
    strays: list[BYOKKey] = []  # managed scope, no name the manifest could match
    for key in _unique(existing):
        ws = key.workspace_id.lower() if isinstance(key.workspace_id, str) else None
        scope = (ws or "", str(key.provider))
        if scope not in managed:
            continue
        if isinstance(key.name, str):
            by_identity.setdefault((*scope, key.name), []).append(key)
        else:
            strays.append(key)

    builder = _Builder(force_rotate=force_rotate)
    named: set[Identity] = set()
    for desired in manifest.keys:
        identity = (*scope_of(desired.workspace_id, desired.provider), desired.name)
        named.add(identity)
        matches = sorted(by_identity.get(identity, []), key=age)
        if not matches:
            builder.creates.append(Create(desired=desired))
            continue
        builder.compare(desired, matches[0])
        builder.duplicates(desired.describe(), matches[0], matches[1:], prune=prune)

    _refuse_creates_without_keys(builder.creates, manifest.source)
    if prune:
        leftovers = [k for ident, ks in by_identity.items() if ident not in named for k in ks]
        for key in sorted([*leftovers, *strays], key=age):
            builder.deletes.append(Delete(current=key, reason="not in the manifest"))
    return builder.plan()


def _refuse_creates_without_keys(creates: Sequence[Create], source: str) -> None:
    errors = [
        FieldError(
            f"keys[{c.desired.index}]",
            f"cannot create {c.desired.describe()}: its key is not at hand "
            f"({c.desired.key_missing})",
        )
        for c in creates
        if c.desired.key_missing is not None
    ]
    if errors:
        raise ValidationError(errors, subject=source)


def _unique(keys: Sequence[BYOKKey]) -> list[BYOKKey]:
    """Keys listed twice (two scopes that are one workspace) count once."""
    return list({k.id: k for k in keys}.values())


_UNKNOWN_TIME = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)


def age(key: BYOKKey) -> tuple[Any, ...]:
    """Oldest first: by ``created_at`` (one the server sent in no readable form counts as
    newest), then ``sort_order``, then id."""
    created = key.created_at if key.created_at is not None else _UNKNOWN_TIME
    return (created, key.sort_order if key.sort_order is not UNSET else 0, key.id)


def _comparable(value: Any) -> Any:
    """A value as compared: enum members as strings, allowlists as sorted sets."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return sorted(set(value))
    return value


@attrs.define
class _Builder:
    force_rotate: bool
    creates: list[Create] = attrs.field(factory=list)
    updates: list[Update] = attrs.field(factory=list)
    rotations: list[Rotate] = attrs.field(factory=list)
    deletes: list[Delete] = attrs.field(factory=list)
    warnings: list[str] = attrs.field(factory=list)
    unchanged: int = 0
    unverifiable: int = 0
    keyless: int = 0

    def compare(self, desired: DesiredKey, current: BYOKKey) -> None:
        changes = tuple(
            FieldChange(field, getattr(current, field, UNSET), new)
            for field, new in desired.managed_fields().items()
            if getattr(current, field, UNSET) is UNSET
            or _comparable(getattr(current, field)) != _comparable(new)
        )
        if desired.key_missing is not None:  # its key stays as it is: never rotated
            self.keyless += 1
            if changes:
                self.updates.append(Update(current=current, desired=desired, changes=changes))
            else:
                self.unchanged += 1
            return
        consistent = label_consistent(current.label, desired.raw_key)
        if consistent is None:
            self.unverifiable += 1
        if self.force_rotate or consistent is False:
            reason = (
                "forced"
                if consistent is not False
                else f"label {current.label} does not match the key from {desired.key_source}"
            )
            self.rotations.append(
                Rotate(current=current, desired=desired, changes=changes, reason=reason)
            )
        elif changes:
            self.updates.append(Update(current=current, desired=desired, changes=changes))
        else:
            self.unchanged += 1

    def duplicates(
        self, what: str, kept: BYOKKey, extra: Sequence[BYOKKey], *, prune: bool
    ) -> None:
        if not extra:
            return
        if prune:
            for key in extra:
                self.deletes.append(Delete(current=key, reason=f"duplicate of {kept.id}"))
            return
        ids = ", ".join(k.id for k in extra)
        self.warnings.append(
            f"{what}: {len(extra)} duplicate credential(s) besides {kept.id} (kept, the oldest):"
            f" {ids}; run with --prune to delete them"
        )

    def plan(self) -> Plan:
        warnings = list(self.warnings)
        if self.unverifiable and not self.force_rotate:
            warnings.append(
                f"{self.unverifiable} credential(s) have a label that does not show whether "
                "the key changed; use --force-rotate to send their keys again"
            )
        if self.keyless:
            warnings.append(
                f"{self.keyless} credential(s) have no key at hand (missing_keys: keep): "
                "their keys are left as they are"
            )
        return Plan(
            creates=tuple(self.creates),
            updates=tuple(self.updates),
            rotations=tuple(self.rotations),
            deletes=tuple(self.deletes),
            unchanged=self.unchanged,
            warnings=tuple(warnings),
        )
