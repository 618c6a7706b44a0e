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
would be sent as part of the key. So is a key holding a NUL byte or another control
character (tabs and line breaks aside: some providers take a JSON document as the key).

Key files are read with care (:func:`read_key_file`): a regular file only (a FIFO would
block, ``/dev/zero`` would never end), at most :data:`MAX_KEY_FILE_BYTES`. A manifest's
``key_file`` is relative to the manifest's directory and must stay inside it (no absolute
path, no ``../`` out, no symbolic link out) unless the caller allows it
(``allow_key_files_outside``, the CLI's ``--allow-key-files-outside``): a manifest from a
pull request must not be able to send ``~/.ssh/id_rsa`` or ``/proc/self/environ`` to a
server as a provider key.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "KEY_SHAPED_NAME",
    "KEY_TOKEN",
    "MAX_KEY_FILE_BYTES",
    "KeyFileError",
    "KeyRef",
    "ResolvedKey",
    "fake_key",
    "is_env_name",
    "key_reference_problem",
    "key_text_problem",
    "looks_like_key",
    "read_key_file",
    "read_key_text",
    "resolve_key",
    "strip_one_newline",
]

from .._keyshape import KEY_SHAPED_NAME, KEY_TOKEN, looks_like_key

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_env_name(value: str) -> bool:
    """Whether *value* can be the name of an environment variable."""
    return _ENV_NAME.fullmatch(value) is not None


def strip_one_newline(text: str) -> str:
    """*text* without one trailing newline (``\\n`` or ``\\r\\n``), if it has one."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


MAX_KEY_FILE_BYTES = 64 * 1024
"""The largest key file (or standard input) read: 64 KiB, far more than any key, a JSON
service-account document included."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def key_text_problem(value: str) -> str | None:
    """Why *value* cannot be a key (empty, surrounding whitespace, control characters),
    or ``None``."""
    if not value.strip():
        return "is empty"
    if value != value.strip():
        return "has leading or trailing whitespace (only one final newline is removed)"
    if _CONTROL.search(value):
        return "holds a NUL byte or other control characters: it is not a key"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8, decoded with surrogateescape
        return "is not UTF-8 text: it is not a key"
    return None


class KeyFileError(Exception):
    """A key file that cannot be used; ``missing`` when it does not exist."""

    def __init__(self, problem: str, *, missing: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.missing = missing


_FILE_KINDS = (
    (stat.S_ISFIFO, "a pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def read_key_file(path: Path) -> str:
    """The text of the key file at *path*, without one final newline.

    Raises :class:`KeyFileError` (its ``problem`` reads after the path: ``does not exist``,
    ``is not a regular file (a pipe) ...``) for anything but a regular UTF-8 file of at most
    :data:`MAX_KEY_FILE_BYTES`. It is opened without blocking, so a FIFO is refused, not
    waited on.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise KeyFileError("does not exist", missing=True) from None
    except OSError as exc:
        raise KeyFileError(f"cannot be read: {exc.strerror or exc}") from None
    except ValueError:  # a NUL byte, a lone surrogate: no file has that name
        raise KeyFileError("cannot be read: it is not a file name") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((k for test, k in _FILE_KINDS if test(mode)), "not a file")
            raise KeyFileError(
                f"is not a regular file ({kind}): put the key in a file"
                " (or use --key-stdin for a pipe)"
            )
        data = _read_bounded(fd)
    finally:
        os.close(fd)
    try:
        return strip_one_newline(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise KeyFileError("is not UTF-8 text: it is not a key") from None


def _read_bounded(fd: int) -> bytes:
    # st_size is not to be trusted (/proc files say 0; a file may grow): read to the limit.
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_KEY_FILE_BYTES:
        try:
            chunk = os.read(fd, MAX_KEY_FILE_BYTES + 1 - size)
        except OSError as exc:
            raise KeyFileError(f"cannot be read: {exc.strerror or exc}") from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise KeyFileError(f"is larger than {MAX_KEY_FILE_BYTES // 1024} KiB: it is not a key")


def read_key_text(stream: Any) -> str:
    """A key from a text *stream* (standard input), read up to the key file limit."""
    text = str(stream.read(MAX_KEY_FILE_BYTES + 1))
    if len(text) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"is larger than {MAX_KEY_FILE_BYTES // 1024} KiB: it is not a key")
    return strip_one_newline(text)


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


def key_reference_problem(ref: KeyRef) -> str | None:
    """What is wrong with how *ref* is written (not where it points), or ``None``."""
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
    if ref.kind == "key_file" and not _is_file_name(ref.value):
        return (
            "must be a file path: this one holds a NUL byte or a character no file name "
            "can have (a lone surrogate)"
        )
    return None


def _is_file_name(value: str) -> bool:
    """Whether the operating system can take *value* as a path (YAML's ``"\\0"`` and
    ``"\\ud800"`` escapes write what no file name holds)."""
    if "\0" in value:
        return False
    try:
        os.fsencode(value)
    except UnicodeEncodeError:
        return False
    return True


def _outside(base_dir: Path, value: str) -> bool:
    """Whether the key file *value* (relative to *base_dir*) leaves that directory."""
    if Path(value).is_absolute():
        return True
    try:
        return not (base_dir / value).resolve().is_relative_to(base_dir.resolve())
    except (OSError, RuntimeError):  # a symbolic link loop, say
        return True


def resolve_key(
    ref: KeyRef,
    *,
    base_dir: Path,
    env: Mapping[str, str],
    fake: bool = False,
    allow_outside: bool = False,
) -> ResolvedKey:
    """The raw key *ref* points at; ``key_file`` paths are relative to *base_dir*, and
    stay inside it unless *allow_outside*."""
    source = ref.describe()
    problem = key_reference_problem(ref)
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
        if not allow_outside and _outside(base_dir, ref.value):
            return ResolvedKey(
                None,
                source,
                f"{where} is outside the manifest's directory (an absolute path, ../ or a "
                "link out): move it next to the manifest, or allow it with "
                "--allow-key-files-outside",
            )
        try:
            value, missing = read_key_file(path), None
        except KeyFileError as exc:
            if not exc.missing:
                return ResolvedKey(None, source, f"{where} {exc.problem}")
            value, missing = None, f"{where} {exc.problem}"

    if value is None:
        if fake:
            return ResolvedKey(fake_key(source), f"{source} (fake)", faked=True)
        return ResolvedKey(None, source, str(missing), missing=True)
    bad = key_text_problem(value)
    if bad:
        return ResolvedKey(None, source, f"the key in {where} {bad}")
    return ResolvedKey(value, source)
