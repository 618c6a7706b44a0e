"""Resolving a manifest's key references (``key_env``, ``key_file``, inline ``key``).

Messages name the reference (the variable, the file), never the value. With ``fake`` a
reference that cannot be resolved gets :func:`fake_key` instead of an error: this is how
``asyncbyok apply examples/fleet.yaml --emulator`` runs with no secrets at hand. Fake keys
are deterministic, so a second run sees the same key and plans no rotation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = ["KeyRef", "ResolvedKey", "fake_key", "resolve_key"]


@attrs.frozen
class KeyRef:
    """A reference as written: ``kind`` is ``key_env``, ``key_file`` or ``key``."""

    kind: str
    value: Any = attrs.field(repr=False)

    def describe(self) -> str:
        """``env OPENAI_PROD_KEY``, ``file secrets/openai`` or ``inline``: no secret."""
        if self.kind == "key_env":
            return f"env {self.value}"
        if self.kind == "key_file":
            return f"file {self.value}"
        return "inline"


@attrs.frozen
class ResolvedKey:
    """The outcome of resolving one reference: a key, or an error message."""

    key: str | None = attrs.field(repr=False)
    source: str
    error: str | None = None
    faked: bool = False


def fake_key(reference: str) -> str:
    """A deterministic, obviously fake provider key for *reference* (emulators only).

    >>> fake_key("env OPENAI_PROD_KEY")[:8]
    'sk-fake-'
    """
    digest = hashlib.sha256(f"asyncbyok-fake-key:{reference}".encode()).hexdigest()
    return f"sk-fake-{digest[:40]}"


def resolve_key(
    ref: KeyRef, *, base_dir: Path, env: Mapping[str, str], fake: bool = False
) -> ResolvedKey:
    """The raw key *ref* points at; ``key_file`` paths are relative to *base_dir*."""
    source = ref.describe()
    if not isinstance(ref.value, str) or not ref.value.strip():
        what = {"key_env": "an environment variable name", "key_file": "a file path"}
        return ResolvedKey(None, source, f"must be {what.get(ref.kind, 'a non-empty string')}")
    if ref.kind == "key":
        return ResolvedKey(ref.value, source)

    if ref.kind == "key_env":
        value = env.get(ref.value)
        missing = f"environment variable {ref.value} is not set" if value is None else None
    else:
        path = base_dir / ref.value
        try:
            value = path.read_text(encoding="utf-8").strip()
            missing = None
        except FileNotFoundError:
            value, missing = None, f"key file {path} does not exist"
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return ResolvedKey(None, source, f"cannot read key file {path}: {reason}")

    if value is None:
        if fake:
            return ResolvedKey(fake_key(source), f"{source} (fake)", faked=True)
        return ResolvedKey(None, source, str(missing))
    if not value.strip():
        where = f"environment variable {ref.value}" if ref.kind == "key_env" else "key file"
        return ResolvedKey(None, source, f"{where} is empty")
    return ResolvedKey(value.strip(), source)
