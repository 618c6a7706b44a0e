"""What a manifest asks for, once read: :class:`DesiredKey` entries, and the fields a
manifest may hold (shared by the reader and the loader)."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from .._sentinel import UNSET
from ..models import CreateBYOKKeyRequest

__all__ = ["MANIFEST_VERSION", "MISSING_KEYS_MODES", "SUPPORTED_VERSIONS", "DesiredKey", "Identity"]

MANIFEST_VERSION = 1
SUPPORTED_VERSIONS = (MANIFEST_VERSION,)
MISSING_KEYS_MODES = ("error", "keep")

Identity = tuple[str | None, str, str]
"""``(workspace_id or None for the default workspace, provider, name)``; ids lower-cased."""

# The request fields an entry may set; ``key`` comes from key_env / key_file / key.
_REQUEST_FIELDS = tuple(a.name for a in attrs.fields(CreateBYOKKeyRequest) if a.name != "key")
_KEY_FIELDS = ("key_env", "key_file", "key")
_ENTRY_FIELDS = (*_REQUEST_FIELDS, *_KEY_FIELDS)
_DEFAULT_FIELDS = tuple(f for f in _REQUEST_FIELDS if f != "name")
_TOP_FIELDS = ("version", "missing_keys", "defaults", "keys")
_IDENTITY_FIELDS = frozenset({"provider", "name", "workspace_id"})
_PLACEHOLDER_KEY = "placeholder-key"


@attrs.frozen(kw_only=True)
class DesiredKey:
    """One credential a manifest asks for.

    ``request`` holds everything needed to create it, the resolved raw key included (its
    ``repr`` shows ``'<redacted>'``). Fields left ``UNSET`` in it are unmanaged.
    """

    request: CreateBYOKKeyRequest
    key_source: str
    """Where the raw key came from (``env OPENAI_PROD_KEY``), never the key itself."""
    index: int
    """Position in the manifest's ``keys`` list."""
    line: int | None = None
    key_missing: str | None = None
    """Why the raw key is not at hand (``missing_keys: keep``): its credential's key is
    left as it is, and it cannot be created. ``None`` when the key was resolved."""

    @property
    def name(self) -> str:
        name = self.request.name
        assert isinstance(name, str)  # the manifest requires a name
        return name

    @property
    def provider(self) -> str:
        return str(self.request.provider)

    @property
    def workspace_id(self) -> str | None:
        """The workspace as written (lower-cased), or ``None`` for the default workspace."""
        ws = self.request.workspace_id
        return None if ws is UNSET else ws.lower()

    @property
    def identity(self) -> Identity:
        return (self.workspace_id, self.provider, self.name)

    @property
    def raw_key(self) -> str:
        """The raw provider key. Send it; never print or log it.

        Raises ``ValueError`` when the key is not at hand (:attr:`key_missing`).
        """
        if self.key_missing is not None:
            raise ValueError(f"{self.describe()}: no key: {self.key_missing}")
        return self.request.key

    def managed_fields(self) -> dict[str, Any]:
        """The fields this entry sets, besides its identity and key: ``{field: value}``."""
        out: dict[str, Any] = {}
        for name in _REQUEST_FIELDS:
            value = getattr(self.request, name)
            if name not in _IDENTITY_FIELDS and value is not UNSET:
                out[name] = value.value if isinstance(value, enum.Enum) else value
        return out

    def describe(self) -> str:
        """``openai/prod-openai`` or ``openai/prod-openai @ 550e8400-...``."""
        where = f" @ {self.workspace_id}" if self.workspace_id else ""
        return f"{self.provider}/{self.name}{where}"
