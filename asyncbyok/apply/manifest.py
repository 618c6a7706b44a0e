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

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from ..errors import FieldError, ValidationError
from ._source import MAX_MANIFEST_BYTES, read_json, read_yaml
from .desired import DesiredKey, Identity

__all__ = ["DesiredKey", "Identity", "Manifest", "load_manifest", "parse_manifest"]


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
    allow_key_files_outside: bool = False,
    fake_keys: bool = False,
    resolve_keys: bool = True,
    env: Mapping[str, str] | None = None,
    on_key: Callable[[str], None] | None = None,
) -> Manifest:
    """Read and check the manifest at *path* (``.json`` is JSON, anything else YAML).

    ``key_file`` paths are relative to the manifest's directory, and may not leave it
    unless *allow_key_files_outside*. With *fake_keys*, a key reference that cannot be
    resolved (unset variable, missing file) gets a deterministic fake key instead of an
    error: for emulators only, never for a real server; a manifest that says
    ``missing_keys: keep`` keeps such references missing even then (its keys are left as
    they are, as against a real server). With ``resolve_keys=False`` no key is needed
    (every entry's :attr:`~DesiredKey.key_missing` says it was not read): enough to know
    the scopes. A key a reference does point at is still looked at, as a secret only: it
    goes to *on_key*, and a copy of it in another field is refused unseen, as it is when
    keys are resolved (a key with no prefix to know it by would otherwise be echoed by the
    error about that field, or by a server's).

    *on_key* is called with every raw key read, before the manifest is checked further,
    so a caller can keep them out of whatever it shows, errors included.
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
        allow_key_files_outside=allow_key_files_outside,
        fake_keys=fake_keys,
        resolve_keys=resolve_keys,
        env=env,
        on_key=on_key,
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
    allow_key_files_outside: bool = False,
    fake_keys: bool = False,
    resolve_keys: bool = True,
    env: Mapping[str, str] | None = None,
    on_key: Callable[[str], None] | None = None,
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
    from ._reader import Reader

    data, lines = (read_json if json_format else read_yaml)(text, source=source)
    reader = Reader(
        lines=lines,
        base_dir=Path(base_dir),
        allow_inline_keys=allow_inline_keys,
        allow_key_files_outside=allow_key_files_outside,
        fake_keys=fake_keys,
        resolve_keys=resolve_keys,
        env=os.environ if env is None else env,
        on_key=on_key or (lambda _: None),
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
