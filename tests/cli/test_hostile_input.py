"""Hostile input to the command: manifests and key files that would cost time or memory
without bounds, run as real processes under an address-space limit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ..apply.test_limits import laughs
from ._run import asyncbyok, asyncbyok_limited, clean_env, command


def test_an_alias_bomb_fails_fast_within_a_memory_limit(tmp_path: Path) -> None:
    # 9**9 values behind 400 bytes: it took minutes and gigabytes to be refused.
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(laughs(9))
    result = asyncbyok_limited("plan", str(bomb), "--emulator")
    assert result.code == 2, result.stderr
    assert result.stderr == (
        f"Error: {bomb}: line 7: more than 200,000 values, YAML aliases expanded (the limit "
        "for a manifest): split it, or write it without aliases that repeat large parts\n"
    )


def test_a_manifest_that_contains_itself_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "self.yaml"
    path.write_text("version: 1\nkeys: &k [*k]\n")
    result = asyncbyok("plan", str(path), "--emulator", "--json")
    assert result.code == 2
    assert result.json()["error"]["errors"] == [
        {
            "path": "$",
            "message": "line 2: the alias *k is inside the node it names "
            "(a manifest cannot contain itself)",
        }
    ]


def test_a_missing_manifest_reads_without_jargon() -> None:
    result = asyncbyok("plan", "nope.yaml")
    assert result.code == 2
    assert result.stderr == (
        "Error: nope.yaml: cannot read the manifest: No such file or directory\n"
    )


# -- key files -----------------------------------------------------------------------------


def create_from(path: str, *conn: str) -> list[str]:
    return ["create", "--provider", "openai", "--name", "x", "--key-file", path, *conn]


def test_a_device_a_fifo_and_a_huge_file_are_refused_unread(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nothing ever writes to it: reading it used to hang
    sparse = tmp_path / "sparse"
    with sparse.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # 3 GB of nothing, on no disk
    expected = {
        "/dev/zero": "key file /dev/zero is not a regular file (a device): put the key in a "
        "file (or use --key-stdin for a pipe)",
        str(fifo): f"key file {fifo} is not a regular file (a pipe): put the key in a file "
        "(or use --key-stdin for a pipe)",
        str(sparse): f"key file {sparse} is larger than 64 KiB: it is not a key",
    }
    for path, message in expected.items():
        result = asyncbyok_limited(*create_from(path, "--emulator"), timeout=30)
        assert (result.code, result.stderr) == (2, f"Error: {message}\n"), path


def test_standard_input_is_read_up_to_the_limit(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [*command(), "--emulator", "create", "--provider", "openai", "--key-stdin"],
            stdin=zero,
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=30,
        )
    assert done.returncode == 2
    assert done.stderr == "Error: standard input is larger than 64 KiB: it is not a key\n"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux's /proc")
def test_a_file_with_nul_bytes_is_not_a_key(tmp_path: Path) -> None:
    (tmp_path / "nul").write_bytes(b"sk-proj-0000\x00AbCd\n")
    for path in ("/proc/self/environ", str(tmp_path / "nul")):
        result = asyncbyok(*create_from(path, "--emulator"), env={"SECRET_ENV": "s" * 20})
        assert result.code == 2
        assert result.stderr == (
            f"Error: the key from key file {path} holds a NUL byte or other control "
            "characters: it is not a key\n"
        )


def key_file_manifest(directory: Path, key_file: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "fleet.yaml"
    path.write_text(
        f"version: 1\nkeys:\n  - {{name: a, provider: openai, key_file: '{key_file}'}}\n"
    )
    return path


def test_manifest_key_files_stay_in_the_manifests_directory(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("sk-proj-outside-0000AbCd\n")
    (tmp_path / "repo" / "keys").mkdir(parents=True)
    (tmp_path / "repo" / "keys" / "openai").write_text("sk-proj-inside-0000AbCd\n")
    (tmp_path / "repo" / "link").symlink_to(secret)
    for key_file in (str(secret), "../outside.txt", "link", "keys/../../outside.txt"):
        manifest = key_file_manifest(tmp_path / "repo", key_file)
        refused = asyncbyok("plan", str(manifest), "--emulator")
        assert refused.code == 2, key_file
        assert refused.stderr == (
            f"Error: {manifest}: keys[0].key_file: line 3: key file "
            f"{tmp_path / 'repo' / key_file} is outside the manifest's directory (an "
            "absolute path, ../ or a link out): move it next to the manifest, or allow it "
            "with --allow-key-files-outside\n"
        )
        allowed = asyncbyok("plan", str(manifest), "--emulator", "--allow-key-files-outside")
        assert allowed.code == 0, allowed.stderr
        assert "key: file" in allowed.stdout
    inside = asyncbyok("plan", str(key_file_manifest(tmp_path / "repo", "keys/openai")))
    assert (
        "key: file keys/openai"
        in asyncbyok("plan", str(tmp_path / "repo" / "fleet.yaml"), "--emulator").stdout
    )
    assert inside.code == 2  # no API key: the manifest itself was fine
    assert "no API key" in inside.stderr
