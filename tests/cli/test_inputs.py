"""The options of create/update are the request models' fields, and raw keys are read from
files and standard input with exactly one trailing newline removed."""

from __future__ import annotations

import types
import typing
from pathlib import Path

import attrs
import pytest

from asyncbyok.cli.inputs import CLEARABLE, FIELD_OPTIONS
from asyncbyok.cli.keys import create_command, update_command
from asyncbyok.emulator import Emulator, digest_key
from asyncbyok.models import CreateBYOKKeyRequest, UpdateBYOKKeyRequest

from ._run import asyncbyok

RAW = "sk-proj-inputs-0000AbCd"


def nullable(cls: type, field: str) -> bool:
    hint = typing.get_type_hints(cls)[field]
    return (
        type(None) in typing.get_args(hint)
        or hint is type(None)
        or (isinstance(hint, types.UnionType) and type(None) in hint.__args__)
    )


def test_field_options_are_the_request_models_fields() -> None:
    """A new API field fails here until it has its option (one line in FIELD_OPTIONS)."""
    options = {o.field for o in FIELD_OPTIONS}
    update = {a.name for a in attrs.fields(UpdateBYOKKeyRequest)} - {"key"}
    create = {a.name for a in attrs.fields(CreateBYOKKeyRequest)}
    assert options == update
    assert options == create - {"key", "provider", "workspace_id"}
    assert set(CLEARABLE.values()) == {f for f in update if nullable(UpdateBYOKKeyRequest, f)}
    for command in (create_command, update_command):
        params = {p.name for p in command.params}
        assert options <= params


def test_list_options_and_clear(emu: Emulator, conn: list[str]) -> None:
    created = asyncbyok(
        "create", "--provider", "openai", "--key-env", "K", "--json",
        "--allowed-user-id", "u1", "--allowed-user-id", "u2", "--no-fallback",
        "--declared-region", "us", *conn, env={"K": RAW},
    )  # fmt: skip
    assert created.code == 0, created.stderr
    assert emu.received[-1].body == {
        "provider": "openai", "key": "<redacted>", "allowed_user_ids": ["u1", "u2"],
        "is_fallback": False, "declared_region": "us",
    }  # fmt: skip
    key_id = created.json()["id"]
    cleared = asyncbyok("update", key_id, "--clear", "declared-region", "--clear", "name", *conn)
    assert cleared.code == 0
    assert emu.received[-1] == ("update", {"declared_region": None, "name": None})


@pytest.mark.parametrize(
    ("content", "stored"),
    [
        (RAW, RAW),
        (RAW + "\n", RAW),
        (RAW + "\r\n", RAW),
    ],
)
def test_one_trailing_newline_is_removed(
    emu: Emulator, conn: list[str], tmp_path: Path, content: str, stored: str
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(content.encode())
    from_file = asyncbyok(
        "create", "--provider", "openai", "--key-file", str(key_file), "--json", *conn
    )
    assert from_file.code == 0, from_file.stderr
    from_stdin = asyncbyok(
        "create", "--provider", "openai", "--key-stdin", "--json", *conn, input=content
    )
    assert from_stdin.code == 0, from_stdin.stderr
    for result in (from_file, from_stdin):
        record = emu.store.get(result.json()["id"])
        assert record is not None
        assert record.key_digest == digest_key(stored)


@pytest.mark.parametrize("content", [RAW + "\n\n", " " + RAW, RAW + " \n", "\n", ""])
def test_other_whitespace_is_refused_unseen(
    emu: Emulator, conn: list[str], tmp_path: Path, content: str
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(content)
    for source, extra in ((["--key-file", str(key_file)], ""), (["--key-stdin"], content)):
        result = asyncbyok("create", "--provider", "openai", *source, *conn, input=extra)
        assert result.code == 2
        assert result.stderr.startswith("Error: the key from ")
        assert ("is empty" in result.stderr) or ("leading or trailing" in result.stderr)
        assert RAW not in result.stderr
    assert emu.store.live() == []


def test_a_key_file_path_with_a_nul_is_bad_input(conn: list[str]) -> None:
    """os.open raises ValueError for it (not OSError): it was an 'unexpected' error."""
    for args in (
        ["create", "--provider", "openai", "--key-file", "k\x00.txt"],
        ["rotate", "--from-key-file", "k\x00.txt", "--disable"],
        ["rotate", "--from-key-env", "K", "--to-key-file", "k\x00.txt"],
    ):
        result = asyncbyok(*args, *conn, env={"K": "sk-proj-nul-test-0000AbCd"})
        assert result.code == 2, result.stderr
        assert "a path cannot hold a NUL character" in result.stderr
