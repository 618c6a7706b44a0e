"""Resolving a manifest's key references (``key_env``, ``key_file``, inline ``key``), and
telling a raw key from a reference.

Messages name the reference (the variable, the file), never the value, and never a
reference that looks like a raw key pasted in the wrong place: ``key_env: sk-proj-...`` is
refused as "looks like a raw key" without repeating it. With ``fake`` a reference that
cannot be resolved gets :func:`fake_key` instead of an error: this is how
``asyncbyok apply examples/fleet.yaml --emulator`` runs with no secrets at hand. Fake keys
are deterministic, so a second run sees the same key and plans no rotation.

A key read from a file (or standard input) loses exactly one trailing newline, the one
editors and ``echo`` add; any other leading or trailing whitespace is refused, since it
would be sent as part of the key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "KEY_TOKEN",
    "KeyRef",
    "ResolvedKey",
    "fake_key",
    "is_env_name",
    "key_text_problem",
    "looks_like_key",
    "resolve_key",
    "strip_one_newline",
]

# Tokens with the shape of an OpenRouter or provider key (sk-..., gsk_..., AIza...).
KEY_TOKEN = re.compile(
    r"\b(?:sk|gsk|xai|pplx|hf|r8|csk|nvapi|fw)[-_][A-Za-z0-9_\-]{8,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]+")


def is_env_name(value: str) -> bool:
    """Whether *value* can be the name of an environment variable."""
    return _ENV_NAME.fullmatch(value) is not None


def looks_like_key(value: str) -> bool:
    """Whether *value* looks like a raw key rather than a name, a path or a URL.

    >>> looks_like_key("sk-proj-0000000000AbCd"), looks_like_key("OPENAI_PROD_KEY")
    (True, False)
    """
    text = value.strip()
    if KEY_TOKEN.fullmatch(text):
        return True
    if len(text) < 20 or _UUID.fullmatch(text) or not _TOKEN_CHARS.fullmatch(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    has_lower = any(c.islower() for c in text)
    has_upper = any(c.isupper() for c in text)
    # A long blob of letters and digits: env names are upper case, keys are not.
    return has_digit and has_lower and (has_upper or len(text) >= 32)


def strip_one_newline(text: str) -> str:
    """*text* without one trailing newline (``\\n`` or ``\\r\\n``), if it has one."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def key_text_problem(value: str) -> str | None:
    """Why *value* cannot be a key (empty, surrounding whitespace), or ``None``."""
    if not value.strip():
        return "is empty"
    if value != value.strip():
        return "has leading or trailing whitespace (only one final newline is removed)"
    return None


@attrs.frozen
class KeyRef:
    """A reference as written: ``kind`` is ``key_env``, ``key_file`` or ``key``."""

    kind: str
    value: Any = attrs.field(repr=False)

    def describe(self) -> str:
        """``env OPENAI_PROD_KEY``, ``file secrets/openai`` or ``inline``: no secret."""
        if self.kind == "key":
            return "inline"
        if not isinstance(self.value, str) or looks_like_key(self.value):
            return f"{self.kind} (not shown)"
        return f"{'env' if self.kind == 'key_env' else 'file'} {self.value}"


@attrs.frozen
class ResolvedKey:
    """The outcome of resolving one reference: a key, or an error message.

    ``missing`` is true when the reference is fine but points at nothing (a variable not
    set, a file that does not exist): the case a manifest's ``missing_keys: keep`` accepts.
    """

    key: str | None = attrs.field(repr=False)
    source: str
    error: str | None = None
    faked: bool = False
    missing: bool = False


def fake_key(reference: str) -> str:
    """A deterministic, obviously fake provider key for *reference* (emulators only).

    >>> fake_key("env OPENAI_PROD_KEY")[:8]
    'sk-fake-'
    """
    digest = hashlib.sha256(f"asyncbyok-fake-key:{reference}".encode()).hexdigest()
    return f"sk-fake-{digest[:40]}"


def _reference_problem(ref: KeyRef) -> str | None:
    if ref.kind == "key":
        return None if isinstance(ref.value, str) and ref.value else "must be a non-empty string"
    what = "an environment variable name" if ref.kind == "key_env" else "a file path"
    if not isinstance(ref.value, str) or not ref.value.strip():
        return f"must be {what}"
    if looks_like_key(ref.value) or (ref.kind == "key_env" and not is_env_name(ref.value)):
        return (
            f"looks like a raw key, not {what} (the value is not shown); put the key in "
            f"{'a variable' if ref.kind == 'key_env' else 'a file'} and name it here"
        )
    return None


def resolve_key(
    ref: KeyRef, *, base_dir: Path, env: Mapping[str, str], fake: bool = False
) -> ResolvedKey:
    """The raw key *ref* points at; ``key_file`` paths are relative to *base_dir*."""
    source = ref.describe()
    problem = _reference_problem(ref)
    if problem is not None:
        return ResolvedKey(None, source, problem)
    if ref.kind == "key":
        bad = key_text_problem(ref.value)
        if bad:
            return ResolvedKey(None, source, f"the inline key {bad}")
        return ResolvedKey(ref.value, source)

    if ref.kind == "key_env":
        value = env.get(ref.value)
        where = f"environment variable {ref.value}"
        missing = f"{where} is not set" if value is None else None
    else:
        path = base_dir / ref.value
        where = f"key file {path}"
        try:
            value = strip_one_newline(path.read_text(encoding="utf-8"))
            missing = None
        except FileNotFoundError:
            value, missing = None, f"{where} does not exist"
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return ResolvedKey(None, source, f"cannot read {where}: {reason}")

    if value is None:
        if fake:
            return ResolvedKey(fake_key(source), f"{source} (fake)", faked=True)
        return ResolvedKey(None, source, str(missing), missing=True)
    bad = key_text_problem(value)
    if bad:
        return ResolvedKey(None, source, f"the key in {where} {bad}")
    return ResolvedKey(value, source)
