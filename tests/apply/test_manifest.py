"""Manifests: parsing, every error at once with its path and YAML line, key references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asyncbyok import UNSET, ValidationError
from asyncbyok.apply import fake_key, load_manifest, parse_manifest

from .conftest import WS_A, ManifestFactory, versioned

START = "start the manifest with `version: 1` (supported versions: 1)"
ONLY_1 = "(supported versions: 1)"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RAW = "sk-proj-secret-0000AbCd"


def errors_of(text: str, **options: object) -> dict[str, str]:
    """``{path: message}`` of the ValidationError parsing *text* raises."""
    options.setdefault("env", {"K": RAW})
    with pytest.raises(ValidationError) as info:
        parse_manifest(versioned(text), **options)  # type: ignore[arg-type]
    return {e.path: e.message for e in info.value.errors}


def test_entries_with_defaults_and_managed_fields(manifest: ManifestFactory) -> None:
    m = manifest(
        f"""\
        version: 1
        defaults:
          provider: openai
          workspace_id: {WS_A.upper()}
        keys:
          - name: prod
            key_env: K
            allowed_models: [openai/gpt-4o]
          - name: batch
            provider: anthropic
            key_env: K
            allowed_models: null
            disabled: true
        """,
        env={"K": RAW},
    )
    prod, batch = m.keys
    assert prod.identity == (WS_A, "openai", "prod")  # workspace ids compare lower-cased
    assert prod.managed_fields() == {"allowed_models": ["openai/gpt-4o"]}
    # null is managed (sent as null); omitted fields are not managed at all
    assert batch.managed_fields() == {"allowed_models": None, "disabled": True}
    assert batch.request.allowed_user_ids is UNSET
    assert prod.raw_key == RAW
    assert prod.key_source == "env K"
    assert prod.line == 6
    assert batch.line == 9
    assert m.scopes == [(WS_A, "openai"), (WS_A, "anthropic")]


def test_entry_without_workspace_is_the_default_workspace(manifest: ManifestFactory) -> None:
    m = manifest("keys: [{name: a, provider: openai, key_env: K}]", env={"K": RAW})
    assert m.keys[0].workspace_id is None
    assert m.keys[0].request.workspace_id is UNSET  # not sent: the server's default applies


def test_every_error_at_once_with_paths_and_lines() -> None:
    errors = errors_of(
        """\
        version: 1
        defaults:
          provider: openai
        keys:
          - name: a
            key_env: K
            allowed_models: openai/gpt-4o
          - name: b
            key_env: K
            alowed_models: []
          - key_env: K
            provider: openai
          - name: c
            key_env: K
            workspace_id: not-a-uuid
            allowed_api_key_hashes: [abc]
        """
    )
    assert errors == {
        "keys[0].allowed_models": "line 7: must be a list of strings or null, not str",
        "keys[1].alowed_models": "line 10: unknown field 'alowed_models' "
        "(did you mean 'allowed_models'?)",
        "keys[2].name": "line 11: is required (it identifies the credential)",
        "keys[3].workspace_id": "line 15: must be a UUID like "
        "550e8400-e29b-41d4-a716-446655440000, not 'not-a-uuid'",
        "keys[3].allowed_api_key_hashes[0]": "line 16: must be 64 lower-case hex characters "
        "(an OpenRouter API key hash)",
    }


def test_error_message_names_the_source_and_reads_well(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "keys:\n  - name: a\n    provider: openai\n    key_env: MISSING_VAR\nversion: 1\n"
    )
    with pytest.raises(ValidationError) as info:
        load_manifest(path, env={})
    assert info.value.subject == str(path)
    assert str(info.value.errors[0]) == (
        "keys[0].key_env: line 4: environment variable MISSING_VAR is not set"
    )


def test_unknown_top_level_and_default_fields() -> None:
    errors = errors_of(
        """\
        versoin: 1
        defaults:
          name: x
          colour: red
          disabled: maybe
        keys: []
        """
    )
    assert errors == {
        "versoin": "line 1: unknown field 'versoin' (did you mean 'version'?)",
        "defaults.name": "line 3: cannot be a default (set it per key)",
        "defaults.colour": "line 4: unknown field 'colour'",
        "defaults.disabled": "line 5: must be true or false, not str",
    }


def test_defaults_errors_are_reported_once_not_per_entry() -> None:
    errors = errors_of(
        """\
        defaults: {provider: openai, disabled: 3}
        keys:
          - {name: a, key_env: K}
          - {name: b, key_env: K}
        """
    )
    assert list(errors) == ["defaults.disabled"]


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("version: 1\nkeys: {}", "keys", "line 2: must be a list of credentials (a dict)"),
        ("keys: []", "version", f"line 1: is required: {START}"),
        ("version: 2\nkeys: []", "version", f"line 1: unsupported manifest version 2 {ONLY_1}"),
        ("version: '1'\nkeys: []", "version", f"line 1: unsupported manifest version '1' {ONLY_1}"),
        (f"version: {RAW}\nkeys: []", "version",
         f"line 1: unsupported manifest version (not shown) {ONLY_1}"),
        ("", "$", "must be a mapping with a 'keys' list, not an empty document"),
        ("- a\n- b", "$", "line 1: must be a mapping with a 'keys' list, not list"),
        ("version: 1\nkeys:\n  - 5", "keys[0]", "line 3: must be a mapping, not int"),
        ("keys: [a\n", "$", "line 2: expected ',' or ']', but got '<stream end>' (not valid YAML)"),
        ("version: 1\nmissing_keys: skip\nkeys: []", "missing_keys",
         "line 2: must be error or keep"),
    ],
)  # fmt: skip
def test_shape_errors(text: str, path: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_manifest(text, env={})
    assert {e.path: e.message for e in info.value.errors} == {path: message}


def test_duplicate_identities_and_duplicate_yaml_keys() -> None:
    errors = errors_of(
        f"""\
        keys:
          - {{name: a, provider: openai, key_env: K}}
          - {{name: a, provider: anthropic, key_env: K}}
          - {{name: a, provider: openai, workspace_id: {WS_A}, key_env: K}}
          - {{name: a, provider: openai, key_env: K, allowed_models: 3}}
          - name: b
            provider: openai
            key_env: K
            name: c
        """
    )
    # Same name, other provider or workspace: another identity, allowed. A duplicate is
    # found even when the entry has other errors.
    assert errors == {
        "keys[3].allowed_models": "line 5: must be a list of strings or null, not int",
        "keys[3].name": "line 5: duplicate name 'a' for provider openai in the default "
        "workspace (first at keys[0], line 2)",
        "keys[4].name": "line 9: duplicate key (first given on line 6)",
    }


def test_inline_keys_are_refused_unless_allowed(manifest: ManifestFactory) -> None:
    text = "keys: [{name: a, provider: openai, key: sk-inline-0000WxYz}]"
    errors = errors_of(text)
    assert errors == {
        "keys[0].key": "line 1: an inline raw key is refused: use key_env or key_file "
        "(or allow it with --allow-inline-keys)"
    }
    assert "sk-inline" not in str(errors)
    m = manifest(text, allow_inline_keys=True)
    assert m.keys[0].raw_key == "sk-inline-0000WxYz"
    assert m.keys[0].key_source == "inline"


def test_key_reference_errors_name_the_entry_not_the_value() -> None:
    errors = errors_of(
        f"""\
        defaults: {{provider: openai}}
        keys:
          - {{name: a}}
          - {{name: b, key_env: K, key_file: f}}
          - {{name: c, key_env: EMPTY}}
          - {{name: d, key_file: missing.txt}}
          - {{name: e, key_env: 42}}
          - {{name: f, key_env: SPACED}}
          - {{name: g, key_env: {RAW}}}
          - {{name: h, key_env: not a name}}
          - {{name: i, key_file: {RAW}}}
        """,
        env={"K": RAW, "EMPTY": "  ", "SPACED": f" {RAW}"},
        base_dir="/nonexistent",
    )
    raw_key = "looks like a raw key, not an environment variable name (the value is not shown)"
    assert errors == {
        "keys[0].key_env": "line 3: one of key_env, key_file or key is required",
        "keys[1].key_file": "line 4: only one of key_env, key_file or key may be given",
        "keys[2].key_env": "line 5: the key in environment variable EMPTY is empty",
        "keys[3].key_file": "line 6: key file /nonexistent/missing.txt does not exist",
        "keys[4].key_env": "line 7: must be an environment variable name",
        "keys[5].key_env": "line 8: the key in environment variable SPACED has leading or "
        "trailing whitespace (only one final newline is removed)",
        "keys[6].key_env": f"line 9: {raw_key}; put the key in a variable and name it here",
        "keys[7].key_env": f"line 10: {raw_key}; put the key in a variable and name it here",
        "keys[8].key_file": "line 11: looks like a raw key, not a file path (the value is not "
        "shown); put the key in a file and name it here",
    }
    assert RAW not in str(errors)


@pytest.mark.parametrize("resolve_keys", [True, False])
def test_a_key_file_no_file_can_be_named_is_an_error_not_a_crash(
    tmp_path: Path, resolve_keys: bool
) -> None:
    # YAML escapes write what no file name holds: a NUL byte, or a lone surrogate (PyYAML
    # reads "\ud83d\ude00", as json.dumps writes an emoji, as two of them). The operating
    # system refused them with ValueError: `plan` ended in "unexpected UnicodeEncodeError".
    # Found by tests/cli/test_properties.py: {"key_file": "HW\u009c\ud914\udd6f*z..."}.
    text = """\
        keys:
          - {name: a, provider: openai, key_file: "x\\0y"}
          - {name: b, provider: openai, key_file: "HW\\u009c\\ud914\\udd6f*z"}
          - {name: c, provider: openai, key_file: "\\ud800/k"}
        """
    problem = (
        "must be a file path: this one holds a NUL byte or a character no file name can "
        "have (a lone surrogate)"
    )
    errors = errors_of(text, base_dir=tmp_path, resolve_keys=resolve_keys)
    assert errors == {f"keys[{i}].key_file": f"line {i + 2}: {problem}" for i in range(3)}


def test_key_file_is_relative_to_the_manifest(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "openai").write_text(RAW + "\n")
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nkeys: [{name: a, provider: openai, key_file: secrets/openai}]")
    m = load_manifest(path)
    assert m.keys[0].raw_key == RAW  # the trailing newline is not part of the key
    assert m.keys[0].key_source == "file secrets/openai"


@pytest.mark.parametrize(
    ("content", "key"), [(RAW, RAW), (RAW + "\n", RAW), (RAW + "\r\n", RAW), (RAW + "\n\n", None)]
)
def test_key_file_loses_exactly_one_trailing_newline(
    tmp_path: Path, content: str, key: str | None
) -> None:
    (tmp_path / "k").write_bytes(content.encode())
    text = "version: 1\nkeys: [{name: a, provider: openai, key_file: k}]"
    if key is not None:
        assert parse_manifest(text, base_dir=tmp_path).keys[0].raw_key == key
        return
    with pytest.raises(ValidationError) as info:
        parse_manifest(text, base_dir=tmp_path)
    assert "has leading or trailing whitespace" in str(info.value)
    assert RAW not in str(info.value)


def test_raw_keys_appear_in_no_repr() -> None:
    m = parse_manifest(
        "{version: 1, keys: [{name: a, provider: openai, key_env: K}]}", env={"K": RAW}
    )
    assert RAW not in repr(m)
    assert RAW not in str(m.keys[0])


def test_fake_keys_only_when_asked_and_deterministic(tmp_path: Path) -> None:
    text = (
        "version: 1\nkeys: [{name: a, provider: openai, key_env: UNSET_VAR},"
        " {name: b, provider: openai, key_file: nope}]"
    )
    with pytest.raises(ValidationError):
        parse_manifest(text, env={})
    m = parse_manifest(text, env={}, fake_keys=True, base_dir=tmp_path)
    assert [k.raw_key for k in m.keys] == [fake_key("env UNSET_VAR"), fake_key("file nope")]
    assert m.keys[0].raw_key.startswith("sk-fake-")
    assert m.keys[0].raw_key != m.keys[1].raw_key
    assert m.faked == ("env UNSET_VAR", "file nope")
    assert m.keys[0].key_source == "env UNSET_VAR (fake)"
    # A variable that is set is used as it is, even in fake mode.
    real = parse_manifest(text, env={"UNSET_VAR": RAW}, fake_keys=True, base_dir=tmp_path)
    assert real.keys[0].raw_key == RAW


def test_unknown_provider_is_a_warning_not_an_error(manifest: ManifestFactory) -> None:
    m = manifest("keys: [{name: a, provider: brand-new-ai, key_env: K}]", env={"K": RAW})
    assert m.keys[0].provider == "brand-new-ai"
    assert m.warnings == (
        "keys[0].provider: line 1: unknown provider 'brand-new-ai' "
        "(sent as is; the server may refuse it)",
    )


def test_json_manifests(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    entry = {"name": "a", "provider": "openai", "key_env": "K"}
    path.write_text(json.dumps({"version": 1, "keys": [entry]}))
    assert load_manifest(path, env={"K": RAW}).keys[0].name == "a"
    path.write_text('{"keys": [{"name": "a", "name": "b"}]}')
    with pytest.raises(ValidationError, match="duplicate key 'name'"):
        load_manifest(path, env={})
    path.write_text('{"keys": [\n  {"name": "a",}\n]}')
    with pytest.raises(ValidationError, match=r"line 2: .*\(not valid JSON\)"):
        load_manifest(path, env={})
    path.write_text(json.dumps({"version": 1, "keys": [{**entry, "x": 1}]}))
    with pytest.raises(ValidationError) as info:
        load_manifest(path, env={"K": RAW})
    assert [str(e) for e in info.value.errors] == ["keys[0].x: unknown field 'x'"]


def test_unreadable_manifest(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError, match="cannot read the manifest: No such file or directory"
    ):
        load_manifest(tmp_path / "missing.yaml")


def test_the_example_fleet_loads_with_fake_keys_only() -> None:
    fleet = EXAMPLES / "fleet.yaml"
    with pytest.raises(ValidationError) as info:
        load_manifest(fleet, env={})
    assert all("is not set" in e.message for e in info.value.errors)
    m = load_manifest(fleet, env={}, fake_keys=True)
    assert 200 <= len(m.keys) <= 500
    assert len(m.faked) == len(m.keys)
    assert len({k.identity for k in m.keys}) == len(m.keys)


def test_the_example_fleet_is_what_its_generator_writes() -> None:
    import runpy

    generator = runpy.run_path(str(EXAMPLES / "make_fleet.py"))
    assert (EXAMPLES / "fleet.yaml").read_text() == generator["fleet"]()


def test_the_minimal_example_documents_a_valid_manifest() -> None:
    m = load_manifest(EXAMPLES / "minimal.yaml", env={}, fake_keys=True)
    assert [k.describe().split(" @ ")[0] for k in m.keys] == [
        "openai/prod-openai",
        "openai/batch-openai",
        "anthropic/prod-anthropic",
        "groq/shared-groq",
    ]
    assert m.keys[1].managed_fields() == {"allowed_models": None, "is_fallback": True}
    assert m.faked[1] == "file secrets/openai-batch"
