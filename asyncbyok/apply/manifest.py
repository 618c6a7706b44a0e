"""Manifests: the credentials you want, written down as YAML or JSON.

A manifest lists provider credentials by identity, ``(workspace, provider, name)``, and the
fields you want them to have. Raw keys are given by reference, never written in the file::

    version: 1
    defaults:                        # optional: applied to every entry that leaves a field out
      workspace_id: 550e8400-e29b-41d4-a716-446655440000
      provider: openai
    keys:
      - name: prod-openai            # required; unique per (workspace, provider)
        key_env: OPENAI_PROD_KEY     # or key_file: secrets/openai (relative to the manifest)
        allowed_models: [openai/gpt-4o]
      - name: batch-openai
        key_file: secrets/batch
        allowed_models: null         # null = no restriction (sent as JSON null)
        disabled: true

``version: 1`` is required; a manifest of another version is refused, naming the versions
this release reads (``SUPPORTED_VERSIONS``).

A field left out is *unmanaged*: it is not sent on create (the server default applies) and
never changed on update. A field written as ``null`` is managed and sent as JSON ``null``.
``workspace_id`` left out means the account's default workspace.

An inline ``key:`` is refused unless the caller allows it (``allow_inline_keys=True``, the
CLI's ``--allow-inline-keys``): a manifest usually lives in version control. A ``key_env``
that is not a variable name, or any reference that looks like a raw key, is refused
without being repeated.

``missing_keys: keep`` (top level; the default is ``error``) is for manifests written by
``asyncbyok export``: the API never returns raw keys, so an exported entry names a variable
you may not have set. With ``keep``, an entry whose variable is unset or whose file is
missing still manages its fields, and its credential's key is left as it is (never
rotated); if the credential does not exist, planning refuses to create it
(:func:`~asyncbyok.apply.make_plan` raises :class:`~asyncbyok.ValidationError`).

Everything is checked before any request: unknown fields, types and API limits (by building
each entry's :class:`~asyncbyok.CreateBYOKKeyRequest`), duplicate identities, and every key
reference. All problems come out together in one :class:`~asyncbyok.ValidationError` whose
paths name the field (``keys[3].allowed_models``) and whose messages start with the YAML line.
"""

from __future__ import annotations

import difflib
import enum
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .._sentinel import UNSET
from ..errors import FieldError, ValidationError
from ..models import CreateBYOKKeyRequest, ProviderSlug
from ._keys import KeyRef, looks_like_key, resolve_key
from ._source import MAX_MANIFEST_BYTES, LineMap, join_path, read_json, read_yaml

__all__ = ["DesiredKey", "Identity", "Manifest", "load_manifest", "parse_manifest"]

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


@attrs.frozen(kw_only=True)
class Manifest:
    """A checked manifest: the desired credentials, in file order."""

    keys: tuple[DesiredKey, ...]
    source: str = "<manifest>"
    warnings: tuple[str, ...] = ()
    """Things that are allowed but probably wrong (an unknown provider slug)."""
    faked: tuple[str, ...] = ()
    """Key references filled with fake keys (only when loaded with ``fake_keys=True``)."""

    @property
    def scopes(self) -> list[tuple[str | None, str]]:
        """The ``(workspace_id or None, provider)`` pairs the manifest manages, in order."""
        return list(dict.fromkeys((k.workspace_id, k.provider) for k in self.keys))


def load_manifest(
    path: str | os.PathLike[str],
    *,
    allow_inline_keys: bool = False,
    fake_keys: bool = False,
    env: Mapping[str, str] | None = None,
) -> Manifest:
    """Read and check the manifest at *path* (``.json`` is JSON, anything else YAML).

    ``key_file`` paths are relative to the manifest's directory. With *fake_keys*, a key
    reference that cannot be resolved (unset variable, missing file) gets a deterministic
    fake key instead of an error: for emulators only, never for a real server.
    """
    file = Path(path)
    source = str(path)
    text = _read_text(file, source)
    return parse_manifest(
        text,
        source=source,
        json_format=file.suffix.lower() == ".json",
        base_dir=file.parent,
        allow_inline_keys=allow_inline_keys,
        fake_keys=fake_keys,
        env=env,
    )


def _read_text(file: Path, source: str) -> str:
    """The manifest's text, reading at most :data:`MAX_MANIFEST_BYTES` (``/dev/zero`` or a
    runaway pipe is refused, not read to the end)."""

    def refuse(problem: str) -> ValidationError:
        return ValidationError([FieldError("$", problem)], subject=source)

    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot read the manifest: {exc.strerror or exc}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        limit = MAX_MANIFEST_BYTES // (1024 * 1024)
        raise refuse(f"the manifest is larger than {limit} MiB (the limit for a manifest)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"cannot read the manifest: not UTF-8 text (byte {exc.start})") from None


def parse_manifest(
    text: str,
    *,
    source: str = "<manifest>",
    json_format: bool = False,
    base_dir: str | os.PathLike[str] = ".",
    allow_inline_keys: bool = False,
    fake_keys: bool = False,
    env: Mapping[str, str] | None = None,
) -> Manifest:
    r"""Check a manifest given as text; see :func:`load_manifest`.

    >>> text = "version: 1\nkeys: [{name: a, provider: openai, key_env: K}]"
    >>> m = parse_manifest(text, env={"K": "sk-1"})
    >>> [k.describe() for k in m.keys]
    ['openai/a']
    """
    if len(text) > MAX_MANIFEST_BYTES:  # characters: at least as many bytes
        limit = MAX_MANIFEST_BYTES // (1024 * 1024)
        problem = f"the manifest is larger than {limit} MiB (the limit for a manifest)"
        raise ValidationError([FieldError("$", problem)], subject=source)
    data, lines = (read_json if json_format else read_yaml)(text, source=source)
    reader = _Reader(
        lines=lines,
        base_dir=Path(base_dir),
        allow_inline_keys=allow_inline_keys,
        fake_keys=fake_keys,
        env=os.environ if env is None else env,
    )
    keys = reader.read(data)
    if reader.errors:
        unique = list(dict.fromkeys(reader.errors))
        unique.sort(key=lambda e: lines.line(e.path) or 0)
        raise ValidationError(unique, subject=source)
    return Manifest(
        keys=tuple(keys),
        source=source,
        warnings=tuple(reader.warnings),
        faked=tuple(reader.faked),
    )


def _unknown(field: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(field, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {field!r}{hint}"


@attrs.define
class _Reader:
    """Walks the decoded manifest, collecting every error instead of stopping at the first."""

    lines: LineMap
    base_dir: Path
    allow_inline_keys: bool
    fake_keys: bool
    env: Mapping[str, str]
    errors: list[FieldError] = attrs.field(init=False)
    keep_missing: bool = False
    warnings: list[str] = attrs.field(factory=list)
    faked: list[str] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.errors = list(self.lines.duplicates)

    def fail(self, path: str, message: str) -> None:
        self.errors.append(self.lines.error(path, message))

    def read(self, data: Any) -> list[DesiredKey]:
        if not isinstance(data, Mapping):
            got = "an empty document" if data is None else type(data).__name__
            self.fail("$", f"must be a mapping with a 'keys' list, not {got}")
            return []
        for field in data:
            if field not in _TOP_FIELDS:
                self.fail(join_path("", str(field)), _unknown(str(field), _TOP_FIELDS))
        self._version(data)
        self._missing_keys(data.get("missing_keys", "error"))
        defaults = self._defaults(data.get("defaults"))
        entries = data.get("keys")
        if not isinstance(entries, list):
            got = "missing" if "keys" not in data else f"a {type(entries).__name__}"
            self.fail("keys", f"must be a list of credentials ({got})")
            return []
        keys = [self._entry(i, entry, defaults) for i, entry in enumerate(entries)]
        self._check_duplicates(entries, defaults)
        return [k for k in keys if k is not None]

    def _version(self, data: Mapping[str, Any]) -> None:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        if "version" not in data:
            self.fail(
                "version",
                f"is required: start the manifest with `version: {MANIFEST_VERSION}`"
                f" (supported versions: {supported})",
            )
            return
        version = data["version"]
        if version in SUPPORTED_VERSIONS and not isinstance(version, bool):
            return
        hidden = isinstance(version, str) and looks_like_key(version)
        shown = "(not shown)" if hidden else repr(version)
        self.fail(
            "version", f"unsupported manifest version {shown} (supported versions: {supported})"
        )

    def _missing_keys(self, mode: Any) -> None:
        if mode in MISSING_KEYS_MODES:
            self.keep_missing = mode == "keep"
            return
        modes = " or ".join(MISSING_KEYS_MODES)
        self.fail("missing_keys", f"must be {modes}")

    def _defaults(self, defaults: Any) -> dict[str, Any]:
        if defaults is None:
            return {}
        if not isinstance(defaults, Mapping):
            self.fail("defaults", f"must be a mapping, not {type(defaults).__name__}")
            return {}
        good = {}
        for field, value in defaults.items():
            if field in _DEFAULT_FIELDS:
                good[field] = value
            elif field in _ENTRY_FIELDS:
                self.fail(join_path("defaults", field), "cannot be a default (set it per key)")
            else:
                self.fail(join_path("defaults", str(field)), _unknown(str(field), _DEFAULT_FIELDS))
        # Check the defaults once, on their own, so their errors are not repeated per entry.
        probe = {"provider": "openai", **good, "key": _PLACEHOLDER_KEY}
        bad = self._request_errors(probe, "defaults")
        return {f: v for f, v in good.items() if f not in bad}

    def _request_errors(self, fields: dict[str, Any], prefix: str) -> set[str]:
        """Build a request from *fields* only to collect its errors; returns the bad fields."""
        try:
            CreateBYOKKeyRequest(**fields)
        except ValidationError as exc:
            for error in exc.errors:
                self.fail(join_path(prefix, error.path), error.message)
            return {e.path.split("[")[0].split(".")[0] for e in exc.errors}
        return set()

    def _entry(self, index: int, entry: Any, defaults: dict[str, Any]) -> DesiredKey | None:
        path = join_path("keys", index)
        if not isinstance(entry, Mapping):
            self.fail(path, f"must be a mapping, not {type(entry).__name__}")
            return None
        errors_before = len(self.errors)
        for field in entry:
            if field not in _ENTRY_FIELDS:
                self.fail(join_path(path, str(field)), _unknown(str(field), _ENTRY_FIELDS))
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problem = "is required" if name is None else "must be a non-empty string"
            self.fail(join_path(path, "name"), f"{problem} (it identifies the credential)")
        if "provider" not in entry and "provider" not in defaults:
            self.fail(join_path(path, "provider"), "is required (here or in defaults)")

        raw_key, key_source, key_missing = self._key(path, entry)
        fields = {f: entry[f] for f in _REQUEST_FIELDS if f in entry}
        if not isinstance(name, str):
            fields.pop("name", None)  # reported above; the request would report it again
        # Defaults were checked on their own; entry errors point at the entry's own fields.
        merged = {**defaults, **fields, "key": raw_key or _PLACEHOLDER_KEY}
        merged.setdefault("provider", "openai")
        try:
            request = CreateBYOKKeyRequest(**merged)
        except ValidationError as exc:
            for error in exc.errors:
                self.fail(join_path(path, error.path), error.message)
            return None
        if len(self.errors) > errors_before or raw_key is None:
            return None
        if not isinstance(request.provider, ProviderSlug):  # an open enum: kept as a string
            field = join_path(path, "provider")
            line = self.lines.line(field)
            at = f"line {line}: " if line is not None else ""
            self.warnings.append(
                f"{field}: {at}unknown provider {request.provider!r} "
                "(sent as is; the server may refuse it)"
            )
        return DesiredKey(
            request=request,
            key_source=key_source,
            index=index,
            line=self.lines.line(path),
            key_missing=key_missing,
        )

    def _key(self, path: str, entry: Mapping[str, Any]) -> tuple[str | None, str, str | None]:
        """The raw key of an entry, where it came from, and why it is missing (with
        ``missing_keys: keep``); records errors on failure."""
        given = [f for f in _KEY_FIELDS if f in entry]
        if not given:
            self.fail(join_path(path, "key_env"), "one of key_env, key_file or key is required")
            return None, "", None
        if len(given) > 1:
            message = "only one of key_env, key_file or key may be given"
            self.fail(join_path(path, given[1]), message)
            return None, "", None
        kind = given[0]
        field_path = join_path(path, kind)
        if kind == "key" and not self.allow_inline_keys:
            self.fail(
                field_path,
                "an inline raw key is refused: use key_env or key_file "
                "(or allow it with --allow-inline-keys)",
            )
            return None, "", None
        ref = KeyRef(kind=kind, value=entry[kind])
        result = resolve_key(ref, base_dir=self.base_dir, env=self.env, fake=self.fake_keys)
        if result.missing and self.keep_missing and result.error is not None:
            return _PLACEHOLDER_KEY, f"{result.source} (not set)", result.error
        if result.error is not None:
            self.fail(field_path, result.error)
            return None, "", None
        if result.faked:
            self.faked.append(ref.describe())
        return result.key, result.source, None

    def _check_duplicates(self, entries: list[Any], defaults: Mapping[str, Any]) -> None:
        """Refuse two entries with one identity, even when either has other errors."""
        first: dict[Identity, int] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            name = entry.get("name")
            provider = entry.get("provider", defaults.get("provider"))
            workspace = entry.get("workspace_id", defaults.get("workspace_id"))
            if not (isinstance(name, str) and isinstance(provider, str)):
                continue
            ws = workspace.lower() if isinstance(workspace, str) else None
            earlier = first.setdefault((ws, provider, name), index)
            if earlier == index:
                continue
            where = f"workspace {ws}" if ws else "the default workspace"
            line = self.lines.line(join_path("keys", earlier))
            on = f", line {line}" if line is not None else ""
            self.fail(
                join_path(join_path("keys", index), "name"),
                f"duplicate name {name!r} for provider {provider} in {where} "
                f"(first at keys[{earlier}]{on})",
            )
