"""Walking a decoded manifest: every entry checked, every error collected with its path
and line, every key reference resolved (see :mod:`asyncbyok.apply.manifest`)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..errors import FieldError, ValidationError
from ..models import CreateBYOKKeyRequest, DeclaredRegion, ProviderSlug
from ._keys import (
    KEY_SHAPED_NAME,
    KEY_TOKEN,
    KeyRef,
    key_reference_problem,
    looks_like_key,
    resolve_key,
)
from ._source import LineMap, join_path
from .desired import (
    _DEFAULT_FIELDS,
    _ENTRY_FIELDS,
    _KEY_FIELDS,
    _PLACEHOLDER_KEY,
    _REQUEST_FIELDS,
    _TOP_FIELDS,
    MANIFEST_VERSION,
    MISSING_KEYS_MODES,
    SUPPORTED_VERSIONS,
    DesiredKey,
    Identity,
)

__all__ = ["KEY_SHAPED_VALUE", "PASTED_KEY", "Reader"]

PASTED_KEY = (
    "holds a raw key the manifest refers to (not shown): a key goes in key_env or key_file "
    "only, never in another field, where it would be stored or shown in plain text"
)
KEY_SHAPED_VALUE = (
    "looks like it holds a raw key (not shown): a key goes in key_env or key_file only, "
    "never in another field, where it would be stored or shown in plain text"
)
# Fields whose values are checked for keys where they are read.
_OWN_KEY_CHECK = frozenset({"name", "key_env", "key_file"})
# A key shorter than this is not looked for in other fields: too likely to occur there.
_SHORTEST_KEY_FOUND = 8


def _unknown(field: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(field, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown field {field!r}{hint}"


@attrs.define
class Reader:
    """Walks the decoded manifest, collecting every error instead of stopping at the first."""

    lines: LineMap
    base_dir: Path
    allow_inline_keys: bool
    allow_key_files_outside: bool
    fake_keys: bool
    resolve_keys: bool
    env: Mapping[str, str]
    on_key: Callable[[str], None]
    keys_read: set[str] = attrs.field(factory=set)
    errors: list[FieldError] = attrs.field(init=False)
    keep_missing: bool = False
    warnings: list[str] = attrs.field(factory=list)
    faked: list[str] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.errors = list(self.lines.duplicates)

    def fail(self, path: str, message: str) -> None:
        self.errors.append(self.lines.error(path, message))

    def warn(self, path: str, problem: str) -> None:
        line = self.lines.line(path)
        at = f"line {line}: " if line is not None else ""
        self.warnings.append(f"{path}: {at}{problem} (sent as is; the server may refuse it)")

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
        self._refuse_pasted_keys(data)
        return [k for k in keys if k is not None]

    def secret(self, key: str) -> None:
        """Note a raw key read (or written inline): the caller hears of it at once."""
        self.keys_read.add(key)
        self.on_key(key)

    def _refuse_pasted_keys(self, data: Mapping[str, Any]) -> None:
        """Refuse a raw key written into a field other than ``key``: one the manifest refers
        to, or, in an entry or the defaults, any token with the shape of a key (a model in
        an allowlist, a region, a workspace id would be stored, and shown in plain text by
        the plan and every listing after it). Names have a check of their own, and so do
        key references.

        That field's other errors go: they may show its value cut short ("not a UUID:
        'aaa... f00dface4bee9c0f...'"), and a key cut short is past the redaction of the
        whole key."""
        keys = [k for k in self.keys_read if len(k) >= _SHORTEST_KEY_FOUND]
        found: dict[str, str] = {}
        # (path, field name, value, whether a key-shaped token is refused there)
        pending: list[tuple[str, str, Any, bool]] = [("", "", data, False)]
        while pending:  # the document is bounded (MAX_NODES): a walk is cheap
            path, field, value, shaped = pending.pop()
            if isinstance(value, Mapping):
                for f, v in value.items():
                    if f == "key":
                        continue
                    inside = shaped or (path == "" and f in ("keys", "defaults"))
                    pending.append((join_path(path, str(f)), str(f), v, inside))
            elif isinstance(value, list):
                pending.extend((join_path(path, i), field, v, shaped) for i, v in enumerate(value))
            elif not isinstance(value, str):
                continue
            elif any(k in value for k in keys):
                found[path] = PASTED_KEY
            elif shaped and field not in _OWN_KEY_CHECK and KEY_TOKEN.search(value):
                found[path] = KEY_SHAPED_VALUE
        if found:
            self.errors = [e for e in self.errors if e.path not in found]
            for path in sorted(found):
                self.fail(path, found[path])

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
        elif KEY_TOKEN.search(name):
            self.fail(join_path(path, "name"), KEY_SHAPED_NAME)
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
        # Open enums: an unknown value is sent as it is, but probably a mistake.
        if not isinstance(request.provider, ProviderSlug):
            self.warn(join_path(path, "provider"), f"unknown provider {request.provider!r}")
        region = request.declared_region
        if isinstance(region, str) and not isinstance(region, DeclaredRegion):
            known = ", ".join(r.value for r in DeclaredRegion)
            self.warn(
                join_path(path, "declared_region"),
                f"unknown region {region!r} (this release knows {known})",
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
        if kind == "key" and isinstance(entry[kind], str):
            self.secret(entry[kind])  # a secret, allowed or not: never to be shown
        if kind == "key" and not self.allow_inline_keys:
            self.fail(
                field_path,
                "an inline raw key is refused: use key_env or key_file "
                "(or allow it with --allow-inline-keys)",
            )
            return None, "", None
        ref = KeyRef(kind=kind, value=entry[kind])
        if not self.resolve_keys:
            problem = key_reference_problem(ref)
            if problem is not None:
                self.fail(field_path, problem)
                return None, "", None
            self._note_key(ref)
            return _PLACEHOLDER_KEY, f"{ref.describe()} (not read)", "not read"
        result = resolve_key(
            ref,
            base_dir=self.base_dir,
            env=self.env,
            # Under missing_keys: keep an unset reference means "leave the key alone", on
            # an emulator too: a fake key would rotate every credential of an export.
            fake=self.fake_keys and not self.keep_missing,
            allow_outside=self.allow_key_files_outside,
        )
        if result.key is not None:
            self.secret(result.key)
        if result.missing and self.keep_missing and result.error is not None:
            return _PLACEHOLDER_KEY, f"{result.source} (not set)", result.error
        if result.error is not None:
            self.fail(field_path, result.error)
            return None, "", None
        if result.faked:
            self.faked.append(ref.describe())
        return result.key, result.source, None

    def _note_key(self, ref: KeyRef) -> None:
        """Without resolving, the key a reference points at (if it points at one) is still
        a secret: a key with no prefix to know it by, pasted into another field, would
        otherwise be echoed by the error about that field, or by the server's. Nothing
        missing or unreadable is an error here: no key is needed."""
        if ref.kind == "key":
            return  # noted already, as written
        result = resolve_key(
            ref,
            base_dir=self.base_dir,
            env=self.env,
            allow_outside=self.allow_key_files_outside,
        )
        if result.key is not None:
            self.secret(result.key)

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
