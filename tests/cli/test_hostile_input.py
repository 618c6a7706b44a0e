"""Hostile input to the command: manifests and key files that would cost time or memory
without bounds, run as real processes under an address-space limit."""

from __future__ import annotations

from pathlib import Path

from ..apply.test_limits import laughs
from ._run import asyncbyok, asyncbyok_limited


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
