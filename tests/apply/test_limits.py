"""Manifests are bounded: size, values (YAML aliases expanded), nesting, and no alias
inside the node it names. Each limit is a ValidationError naming the line, found while
the file is read, before any value is built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asyncbyok import ValidationError
from asyncbyok.apply import _source, load_manifest, parse_manifest
from asyncbyok.apply._source import MAX_DEPTH, MAX_MANIFEST_BYTES, MAX_NODES


def laughs(levels: int, fan_out: int = 9) -> str:
    """A "billion laughs" manifest: each level an alias list of the one before."""
    lines = ["version: 1", "a0: &a0 [" + ", ".join(["lol"] * fan_out) + "]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * fan_out)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"keys: [*a{levels - 1}]")
    return "\n".join(lines) + "\n"


def error_of(text: str, **options: object) -> str:
    with pytest.raises(ValidationError) as info:
        parse_manifest(text, env={}, **options)  # type: ignore[arg-type]
    (error,) = info.value.errors
    assert error.path == "$"
    return error.message


def test_an_alias_bomb_is_refused_while_it_is_read() -> None:
    # 9**6 values behind 200 bytes: the line map used to walk every one of them.
    text = laughs(6)
    assert len(text) < 400
    assert error_of(text) == (
        f"line 7: more than {MAX_NODES:,} values, YAML aliases expanded (the limit for a "
        "manifest): split it, or write it without aliases that repeat large parts"
    )


def test_an_alias_inside_the_node_it_names_is_refused() -> None:
    for text, line in (
        ("version: 1\nkeys: &k [*k]\n", 2),
        ("version: 1\nkeys:\n  - &e {name: a, nested: *e}\n", 3),
        ("version: 1\nd: &d {<<: *d}\nkeys: []\n", 2),
    ):
        assert error_of(text) == (
            f"line {line}: the alias *{text.split('&')[1][0]} is inside the node it names "
            "(a manifest cannot contain itself)"
        )


def test_deep_nesting_is_refused_in_yaml_and_json() -> None:
    deep = "[" * 50_000 + "]" * 50_000
    expected = f"nested more than {MAX_DEPTH} levels deep (the limit for a manifest)"
    assert error_of(f"version: 1\nkeys: {deep}\n") == f"line 2: {expected}"
    assert error_of(f'{{"version": 1, "keys": {deep}}}', json_format=True) == expected
    # Depth reached through aliases counts too: each level one alias deeper.
    chain = ["version: 1", "a0: &a0 [x]"]
    chain += [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, MAX_DEPTH + 2)]
    assert expected in error_of("\n".join([*chain, "keys: []"]))


def test_many_values_are_refused_without_aliases_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_source, "MAX_NODES", 1000)  # the real limit takes PyYAML seconds
    flat = ", ".join(["0"] * 1001)
    assert "more than 1,000 values" in error_of(f"version: 1\nkeys: [{flat}]\n")
    assert "more than 1,000 values" in error_of(
        f'{{"version": 1, "keys": [{flat}]}}', json_format=True
    )


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\nkeys: []\n# " + "x" * MAX_MANIFEST_BYTES + "\n")
    with pytest.raises(ValidationError) as info:
        load_manifest(path, env={})
    assert str(info.value.errors[0]) == (
        "$: the manifest is larger than 4 MiB (the limit for a manifest)"
    )
    zero = Path("/dev/zero")
    if zero.exists():  # a device that never ends: read up to the limit, then refused
        with pytest.raises(ValidationError, match="larger than 4 MiB"):
            load_manifest(zero, env={})


def test_aliases_and_merge_keys_within_the_limits_still_work() -> None:
    text = """\
version: 1
keys:
  - &base {name: a, provider: openai, key_env: K, allowed_models: &m [openai/gpt-4o]}
  - {<<: *base, name: b}
  - {<<: *base, name: c, provider: anthropic, allowed_user_ids: *m}
"""
    manifest = parse_manifest(text, env={"K": "sk-proj-0000AbCd"})
    assert [k.describe() for k in manifest.keys] == ["openai/a", "openai/b", "anthropic/c"]
    assert manifest.keys[1].managed_fields() == {"allowed_models": ["openai/gpt-4o"]}


def test_a_large_but_reasonable_manifest_loads() -> None:
    entries = [{"name": f"k{i:05d}", "provider": "openai", "key_env": "K"} for i in range(5000)]
    text = json.dumps({"version": 1, "keys": entries})
    manifest = parse_manifest(text, json_format=True, env={"K": "sk-proj-0000AbCd"})
    assert len(manifest.keys) == 5000
