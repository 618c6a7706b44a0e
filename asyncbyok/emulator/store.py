"""The emulator's server-side state: stored credentials, soft delete, optional JSON file.

A :class:`Store` keeps :class:`Record` objects in creation order. The raw provider key
never lives here: a record holds only its SHA-256 digest (:func:`digest_key`) and the
masked ``label`` (:func:`mask_key`), so nothing the emulator keeps, logs or writes to disk
can give a key back.

Every public method takes a lock: the thread-based emulator serves requests on its own
thread while tests read the state from theirs.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import random
import tempfile
import threading
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs

from .._sentinel import UNSET
from ..codec import format_datetime, parse_datetime
from ..models import CreateBYOKKeyRequest, UpdateBYOKKeyRequest, request_fields

__all__ = ["SETTINGS", "Record", "Store", "digest_key", "mask_key"]

STATE_FORMAT_VERSION = 1

SETTINGS: dict[str, Any] = {
    f.name: f.omitted for f in request_fields(UpdateBYOKKeyRequest) if f.name != "key"
}
"""The fields a request sets and a record stores as they are, with the value the API stores
when a create leaves one out. Derived from the request models: a new API field needs no
change here."""


def mask_key(raw: str) -> str:
    """The ``label`` for a raw key: ``"sk-...AbCd"`` (first 3 and last 4 characters).

    A key shorter than 12 characters shows only its last 2 (``"...Cd"``), and one shorter
    than 4 shows nothing (``"..."``): seven visible characters of a short key would give
    most of it away.

    >>> mask_key("sk-proj-0000AbCd")
    'sk-...AbCd'
    >>> mask_key("short-key")
    '...ey'
    """
    if len(raw) >= 12:
        return f"{raw[:3]}...{raw[-4:]}"
    if len(raw) >= 4:
        return f"...{raw[-2:]}"
    return "..."


def digest_key(raw: str) -> str:
    """The one-way digest stored in place of a raw key: SHA-256, lower-case hex.

    Tests compare digests to check a rotation without the emulator keeping the key.
    ``surrogatepass`` because JSON can carry lone surrogates that strict UTF-8 refuses.
    """
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@attrs.define(kw_only=True)
class Record:
    """One stored credential, including soft-deleted ones (``deleted=True``).

    The fields a request may set live in ``settings`` (one per name of ``SETTINGS``)
    and read as attributes too: ``record.allowed_models``, ``record.disabled``.
    """

    id: str
    provider: str
    workspace_id: str
    label: str
    key_digest: str
    created_at: datetime
    sort_order: int
    settings: dict[str, Any] = attrs.field(factory=lambda: dict(SETTINGS))
    deleted: bool = False
    deleted_at: datetime | None = None

    def __getattr__(self, name: str) -> Any:
        # Called only for names that are not attributes: the settings.
        if name in SETTINGS:
            return self.settings[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def to_json(self) -> dict[str, Any]:
        """The record for the state file (digest, never a key), its settings flat."""
        data = attrs.asdict(self, recurse=False, filter=lambda a, _: a.name != "settings")
        data.update(self.settings)
        data["created_at"] = format_datetime(self.created_at)
        data["deleted_at"] = format_datetime(self.deleted_at) if self.deleted_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        """A record read back from the state file (a setting it lacks takes its default)."""
        values = {k: v for k, v in data.items() if k not in SETTINGS}
        values["settings"] = {name: data.get(name, omitted) for name, omitted in SETTINGS.items()}
        values["created_at"] = parse_datetime(values["created_at"])
        if values.get("deleted_at"):
            values["deleted_at"] = parse_datetime(values["deleted_at"])
        return cls(**values)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _value(value: Any) -> Any:
    """A request value as stored: open-enum members as their string, lists copied."""
    if isinstance(value, enum.Enum):
        return value.value
    return list(value) if isinstance(value, list) else value


def _set_values(request: CreateBYOKKeyRequest | UpdateBYOKKeyRequest) -> dict[str, Any]:
    """The settings *request* gives a value (``None`` included; ``UNSET`` left out)."""
    given = ((name, getattr(request, name)) for name in SETTINGS)
    return {name: _value(value) for name, value in given if value is not UNSET}


class _Scope:
    """The live records of one listing scope, in creation order.

    A listing asks for a page of one workspace (and provider): kept apart per scope, a
    page costs what it holds, not what the whole account holds (100,000 credentials list
    in about a second, not a minute). Deleted records leave on the next read.
    """

    __slots__ = ("dead", "records")

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.dead = 0

    def live(self) -> list[Record]:
        if self.dead:
            self.records = [r for r in self.records if not r.deleted]
            self.dead = 0
        return self.records


class Store:
    """The credentials of one emulator, in creation order; optionally kept in a JSON file.

    With *path*, the state is read at construction (when the file exists) and rewritten
    atomically after every change, so a restarted emulator keeps its keys. The file holds
    digests and labels, never raw keys.
    """

    def __init__(self, *, default_workspace_id: str, path: str | os.PathLike[str] | None = None):
        self.default_workspace_id = default_workspace_id
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        self._records: list[Record] = []
        self._by_id: dict[str, Record] = {}
        # Live records per (workspace, provider), and per workspace (every provider).
        self._scopes: dict[tuple[str, str | None], _Scope] = {}
        # Next sort_order per (workspace, provider). It only grows, so a deleted
        # credential's position is never handed out again.
        self._next_sort: dict[tuple[str, str], int] = {}
        if self.path is not None and self.path.exists():
            self._load(self.path)

    # ------------------------------------------------------------ inspection

    @property
    def records(self) -> list[Record]:
        """Every record ever created, soft-deleted ones included, in creation order."""
        with self._lock:
            return list(self._records)

    def live(self) -> list[Record]:
        """The records not deleted, in creation order."""
        with self._lock:
            return [r for r in self._records if not r.deleted]

    def __len__(self) -> int:
        """The number of live records."""
        return len(self.live())

    def get(self, record_id: str) -> Record | None:
        """The live record with this id, or ``None`` (also for a deleted one)."""
        with self._lock:
            record = self._by_id.get(record_id)
            return None if record is None or record.deleted else record

    def page(
        self, *, workspace_id: str, provider: str | None, offset: int, limit: int
    ) -> tuple[list[Record], int]:
        """One page of live records in *workspace_id* (and of *provider*), and the total."""
        with self._lock:
            scope = self._scopes.get((workspace_id, provider))
            matching = scope.live() if scope is not None else []
            return matching[offset : offset + limit], len(matching)

    # ------------------------------------------------------------ changes

    def create(self, request: CreateBYOKKeyRequest) -> Record:
        """Store a new credential from a validated request, with the API's defaults."""
        workspace = request.workspace_id
        workspace_id = self.default_workspace_id if workspace is UNSET else workspace.lower()
        provider = str(_value(request.provider))
        settings = dict(SETTINGS)
        settings.update(_set_values(request))
        with self._lock:
            slot = (workspace_id, provider)
            sort_order = self._next_sort.get(slot, 0)
            self._next_sort[slot] = sort_order + 1
            record = Record(
                id=str(uuid.uuid4()),
                provider=provider,
                workspace_id=workspace_id,
                label=mask_key(request.key),
                key_digest=digest_key(request.key),
                created_at=_now(),
                sort_order=sort_order,
                settings=settings,
            )
            self._add(record)
            self._save()
        return record

    def seed(
        self,
        count: int,
        *,
        provider: str = "openai",
        workspace_id: str | None = None,
        prefix: str = "seed",
        rng: random.Random | None = None,
    ) -> None:
        """Store *count* credentials at once, as if made long ago: no request, no file
        write per record (one at the end). Named ``{prefix}-{provider}-{i:06d}``, with
        keys no one knows, created a second apart ending an hour ago (older than any
        create a client may still be unsure of), ids from *rng* (reproducible).

        Cheap: 100,000 take about a second. Tests and benchmarks use it for big accounts.
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, not {count}")
        rng = rng or random.Random()
        workspace = (workspace_id or self.default_workspace_id).lower()
        end = _now() - timedelta(hours=1)
        with self._lock:
            first = self._next_sort.get((workspace, provider), 0)
            for i in range(count):
                digest = f"{rng.getrandbits(256):064x}"
                record = Record(
                    id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    provider=provider,
                    workspace_id=workspace,
                    label=f"sk-...{digest[:4]}",
                    key_digest=digest,
                    created_at=end - timedelta(seconds=count - i),
                    sort_order=first + i,
                )
                record.settings["name"] = f"{prefix}-{provider}-{first + i:06d}"
                self._add(record)
            self._next_sort[(workspace, provider)] = first + count
            self._save()

    def _add(self, record: Record) -> None:
        """Index a record (the lock held): by id, in order, in its listing scopes."""
        self._records.append(record)
        self._by_id[record.id] = record
        for scope in ((record.workspace_id, record.provider), (record.workspace_id, None)):
            holder = self._scopes.get(scope)
            if holder is None:
                holder = self._scopes[scope] = _Scope()
            holder.records.append(record)

    def update(self, record_id: str, request: UpdateBYOKKeyRequest) -> Record | None:
        """Apply the fields set in *request*; ``None`` when there is no live record.

        A new ``key`` replaces the digest and regenerates the label (rotation in place).
        """
        with self._lock:
            record = self.get(record_id)
            if record is None:
                return None
            if request.key is not UNSET:
                record.key_digest = digest_key(request.key)
                record.label = mask_key(request.key)
            record.settings.update(_set_values(request))
            self._save()
            return record

    def delete(self, record_id: str) -> bool:
        """Soft-delete a live record; ``False`` when there is none."""
        with self._lock:
            record = self.get(record_id)
            if record is None:
                return False
            record.deleted = True
            record.deleted_at = _now()
            for scope in ((record.workspace_id, record.provider), (record.workspace_id, None)):
                self._scopes[scope].dead += 1
            self._save()
            return True

    def clear(self) -> None:
        """Forget every record (and empty the state file, if there is one)."""
        with self._lock:
            self._records.clear()
            self._by_id.clear()
            self._scopes.clear()
            self._next_sort.clear()
            self._save()

    # ------------------------------------------------------------ persistence

    def _save(self) -> None:
        """Write the state file atomically: a temporary file, then a rename over the old one.

        Called with the lock held, after every change: an emulator killed at any moment
        leaves either the previous state or the new one, never half a file.
        """
        if self.path is None:
            return
        state = {
            "version": STATE_FORMAT_VERSION,
            "default_workspace_id": self.default_workspace_id,
            "records": [r.to_json() for r in self._records],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(state, f, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _load(self, path: Path) -> None:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("version") != STATE_FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported emulator state version {state.get('version')!r}")
        self._add_loaded(Record.from_json(r) for r in state["records"])

    def _add_loaded(self, records: Iterable[Record]) -> None:
        for record in records:
            self._add(record)
            if record.deleted:
                for scope in ((record.workspace_id, record.provider), (record.workspace_id, None)):
                    self._scopes[scope].dead += 1
            slot = (record.workspace_id, record.provider)
            self._next_sort[slot] = max(self._next_sort.get(slot, 0), record.sort_order + 1)

    @staticmethod
    def saved_default_workspace(path: str | os.PathLike[str]) -> str | None:
        """The default workspace recorded in a state file, if the file exists."""
        file = Path(path)
        if not file.exists():
            return None
        workspace = json.loads(file.read_text(encoding="utf-8")).get("default_workspace_id")
        return workspace if isinstance(workspace, str) else None
