"""No secret is ever printed: a canary provider key and a canary management key, put where
they do not belong in every command, never come out on stdout or stderr, with or without
--json and --debug."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncbyok.emulator import Emulator

from ._run import Result, asyncbyok

RAW = "sk-proj-CANARY00canary11CANARY22canary33AbCd"
MGMT = "sk-or-v1-mgmt-canary-0123456789abcdef0123456789abcdef"
GROQ = "gsk_Canary0123456789Canary0123456789WxYz"  # a key that is a valid variable name
WS = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"
ID = "00000000-0000-4000-8000-000000000001"

pytestmark = pytest.mark.parametrize("emulator_options", [{"management_keys": [MGMT]}])


def manifests(tmp_path: Path) -> list[str]:
    """Manifests with a secret in every place a value can go wrong."""
    entries = [
        f"key_env: {RAW}",
        f"key_env: {GROQ}",
        f"key_file: {RAW}",
        f"key_file: {tmp_path / RAW}",
        "key_env: K\n    allowed_models: " + RAW,
        f"key: {RAW}",
    ]
    paths = []
    for index, entry in enumerate(entries):
        path = tmp_path / f"m{index}.yaml"
        path.write_text(f"version: 1\nkeys:\n  - name: a\n    provider: openai\n    {entry}\n")
        paths.append(str(path))
    bad_version = tmp_path / "version.yaml"
    bad_version.write_text(f"version: {RAW}\nkeys: []\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(f"version: 1\n{RAW}: 1\nkeys: []\n")
    return [*paths, str(bad_version), str(unknown)]


def invocations(conn: list[str], tmp_path: Path) -> list[list[str]]:
    key_commands = [
        ["create", "--provider", "openai", "--key-env", RAW],
        ["create", "--provider", "openai", "--key-env", GROQ],
        ["create", "--provider", "openai", "--key-file", RAW],
        ["create", "--provider", "openai", "--key-env", "K", "--workspace-id", RAW],
        ["create", "--provider", "openai", "--key-env", "K", "--name", "x" * 300],
        ["create", "--provider", "openai", "--key-env", "SPACED"],
        ["create", "--provider", "openai", RAW],
        [f"--key={RAW}", "create", "--provider", "openai"],
        ["create", "--provider", "openai", f"--key={RAW}"],
        ["update", ID, "--key-env", RAW],
        ["update", RAW, "--key-env", "K"],
        ["update", ID, "--key-env", "K"],  # 404, after reading the key
        ["get", RAW],
        ["delete", RAW, "--yes"],
        ["delete", RAW, ID, "--yes"],
        ["list", "--workspace-id", RAW],
        ["export", "--workspace-id", RAW],
        ["export", "--provider", RAW],
    ]
    runs = [[*args, *conn] for args in key_commands]
    for manifest in manifests(tmp_path):
        runs += [["plan", manifest, *conn], ["apply", manifest, "--yes", *conn]]
    runs += [
        ["--api-key", MGMT, "--base-url", MGMT, "list"],
        ["--api-key", MGMT, "--base-url", f"ftp://{MGMT}/api/v1", "list"],
        ["--api-key", MGMT, "--base-url", "http://openrouter.example/api/v1", "list"],
        ["--api-key", RAW, "--base-url", conn[1], "list"],  # a provider key: 401
        ["--api-key", MGMT, "--base-url", conn[1], "get", MGMT],
        ["--api-key", MGMT, "--emulator", "--base-url", MGMT, "list"],
        ["emulator", "--port", RAW],
        ["emulator", "--host", RAW, "--port", "0"],
        ["--emulator-latency", RAW, "list"],
    ]
    return runs


def leaked(result: Result) -> list[str]:
    both = result.stdout + result.stderr
    return [s for s in (RAW, MGMT, GROQ, "CANARY00canary", "canary-0123") if s in both]


def test_no_error_path_prints_a_secret(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    env = {"K": "sk-proj-good-key-0000AbCd", "SPACED": f" {RAW}\n", "OPENROUTER_API_KEY": MGMT}
    checked = 0
    for args in invocations(conn, tmp_path):
        for extra in ([], ["--json"], ["--debug"]):
            if args[0] == "emulator" and extra == ["--debug"]:
                continue  # the emulator command has no --debug
            result = asyncbyok(*args, *extra, env=env)
            assert result.code != 0, (args, extra, result.stdout)
            assert leaked(result) == [], (args, extra, result.stdout + result.stderr)
            assert "Error" in result.stderr, (args, result.stderr)
            checked += 1
    assert checked > 100
    assert emu.store.live() == []  # and nothing was created on the way


def test_a_key_given_where_a_variable_name_belongs_is_refused_unseen(conn: list[str]) -> None:
    for value in (RAW, GROQ, "not a variable name"):
        result = asyncbyok("create", "--provider", "openai", "--key-env", value, *conn)
        assert result.code == 2
        assert result.stderr == (
            "Error: --key-env: the value looks like a raw key, not an environment variable "
            "name (it is not shown); put the key in a variable and give its name\n"
        )


def test_the_management_key_as_base_url_is_redacted(emu: Emulator) -> None:
    result = asyncbyok("--api-key", MGMT, "--base-url", MGMT, "list")
    assert result.code == 2
    assert MGMT not in result.stderr
    assert "base_url: must start with https://" in result.stderr  # and does not quote it
