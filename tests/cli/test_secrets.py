"""No secret is ever printed: a canary provider key and a canary management key, put where
they do not belong in every command, never come out on stdout or stderr, with or without
--json and --debug."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from asyncbyok.emulator import Emulator

from ._run import Result, asyncbyok, clean_env

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
        ["find-key", "--key-env", RAW],
        ["find-key", "--key-env", "K", "--provider", RAW],
        ["find-key", "--key-env", "K", "--workspace-id", RAW],
        ["find-key", "--key-env", "SPACED"],
        ["rotate", "--from-key-env", RAW, "--disable"],
        ["rotate", "--from-key-env", "K", "--to-key-env", RAW],
        ["rotate", "--from-key-env", "K", "--to-key-env", "SPACED"],
        ["rotate", "--from-key-env", "K", "--to-key-env", "K", "--yes"],
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


# A provider key with no prefix a pattern could know it by.
PLAIN = "a81f3c9e20d44b7fa6c1e5d9b0730f2e"


def test_a_key_pasted_into_another_manifest_field_is_not_echoed(
    conn: list[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "fleet.yaml"
    # The field's own error would show the value, cut short past 60 characters: here the
    # key's first 19, which no redaction of the whole key finds. It is left out.
    for workspace in (PLAIN, f"{'a' * 40} {PLAIN}"):
        manifest.write_text(
            "version: 1\nkeys:\n  - name: a\n    provider: openai\n    key_env: K\n"
            f"    workspace_id: {workspace}\n    allowed_models: [{PLAIN}x]\n"
        )
        for extra in ([], ["--json"], ["--debug"]):
            result = asyncbyok("plan", str(manifest), *extra, *conn, env={"K": PLAIN})
            assert result.code == 2
            assert PLAIN[:8] not in result.stdout + result.stderr, extra
            assert "workspace_id: line 6: holds a raw key" in result.stderr
            assert "must be a UUID" not in result.stderr
    # In a field nothing else checks, it would have been stored: refused, unseen.
    manifest.write_text(f"version: 1\nkeys: [{{name: 'a {PLAIN}', provider: openai, key_env: K}}]")
    result = asyncbyok("plan", str(manifest), *conn, env={"K": PLAIN})
    assert result.code == 2
    assert result.stderr == (
        f"Error: {manifest}: keys[0].name: line 2: holds a raw key the manifest refers to (not "
        "shown): a key goes in key_env or key_file only, never in another field, where it "
        "would be stored or shown in plain text\n"
    )
    created = asyncbyok("create", "--provider", "openai", "--key-env", "K", "--name", PLAIN,
                        *conn, env={"K": PLAIN})  # fmt: skip
    assert created.code == 2
    assert PLAIN not in created.stderr
    assert created.stderr.startswith("Error: --name: the value holds the raw key")


@pytest.mark.parametrize(
    "command",
    [
        ["list", "--manifest"],
        ["find-key", "--key-env", "K2", "--manifest"],
        ["rotate", "--from-key-env", "K2", "--disable", "--manifest"],
    ],
    ids=["list", "find-key", "rotate"],
)
@pytest.mark.parametrize(
    "fields",
    [
        f"defaults: {{workspace_id: {PLAIN}}}\nkeys: [{{name: a, provider: openai, key_env: K}}]",
        f"keys:\n  - {{name: a, provider: openai, key_env: K, workspace_id: x{PLAIN}}}",
        f"keys:\n  - {{name: a, provider: {PLAIN}, key_env: K}}",
        f"keys:\n  - {{name: a, provider: openai, key_file: k, workspace_id: {PLAIN}}}",
    ],
    ids=["default-workspace", "workspace", "provider", "key-file"],
)
def test_a_manifest_read_for_its_scopes_does_not_echo_its_keys(
    conn: list[str], tmp_path: Path, command: list[str], fields: str
) -> None:
    # --manifest needs no key, but the keys a manifest refers to are secrets all the same:
    # the error about a workspace id, or the server's about a provider, used to show PLAIN
    # (found by tests/cli/test_properties.py: `defaults: {"workspace_id": PLAIN}`).
    (tmp_path / "k").write_text(PLAIN + "\n")
    manifest = tmp_path / "fleet.yaml"
    manifest.write_text(f"version: 1\n{fields}\n")
    env = {"K": PLAIN, "K2": "sk-proj-other-0000AbCd"}
    for extra in ([], ["--json"]):
        result = asyncbyok(*command, str(manifest), *extra, *conn, env=env)
        assert result.code == 2, result.stderr
        assert PLAIN not in result.stdout + result.stderr, (extra, result.stderr)
        assert "holds a raw key the manifest refers to (not shown)" in result.stderr


@pytest.mark.parametrize(
    "field",
    [
        f"allowed_models: [openai/gpt-4o, 'prod {RAW}']",
        f"allowed_user_ids: ['x {RAW}']",
        f"declared_region: '{RAW}x'",
        f"workspace_id: '{'a' * 40} {RAW}'",
    ],
)
def test_a_key_shaped_value_in_any_field_is_refused_not_stored(
    emu: Emulator, conn: list[str], tmp_path: Path, field: str
) -> None:
    # A key the manifest does not refer to, in a field no name check sees, was shown by
    # the plan on stdout, stored, and listed by every command after it.
    entry = "name: a, provider: openai, key_env: K"
    in_entry = f"keys: [{{{entry}, {field}}}]"
    in_defaults = f"defaults: {{{field}}}\nkeys: [{{{entry}}}]"
    for where in (in_entry, in_defaults):
        manifest = tmp_path / "fleet.yaml"
        manifest.write_text(f"version: 1\n{where}\n")
        for command in (["apply", "--yes"], ["plan", "--json"], ["list", "--manifest"]):
            result = asyncbyok(*command, str(manifest), *conn, env={"K": "sk-proj-good-0000AbCd"})
            assert result.code == 2, (command, result.stdout)
            assert leaked(result) == [], command
            assert "looks like it holds a raw key (not shown)" in result.stderr
    assert emu.store.live() == []


def test_a_key_shaped_name_is_refused_not_stored(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    result = asyncbyok(
        "create", "--provider", "openai", "--name", RAW, "--key-env", "K", *conn, env={"K": RAW}
    )
    assert result.code == 2
    assert result.stderr == (
        "Error: --name: the value looks like a raw key, not a name (it is not shown): names "
        "are stored and listed in plain text, so give the credential another name\n"
    )
    manifest = tmp_path / "fleet.yaml"
    manifest.write_text(f"version: 1\nkeys: [{{name: 'prod {GROQ}', provider: groq, key_env: K}}]")
    planned = asyncbyok("plan", str(manifest), *conn, env={"K": RAW})
    assert planned.code == 2
    assert "keys[0].name: line 2: looks like a raw key, not a name" in planned.stderr
    assert leaked(planned) == []
    assert emu.store.live() == []


# Stands for whatever a library in the command's process schedules with a key in hand:
# asyncio in debug mode logs each slow callback with the repr of its arguments.
ASYNCIO_DEBUG = """
import asyncio.base_events, os, sys
from asyncbyok.cli import main

created = asyncio.base_events.BaseEventLoop.__init__

def hold(key):
    pass

def every_callback_is_slow(self, *args, **kwargs):
    created(self, *args, **kwargs)
    self.slow_callback_duration = 0.0  # as on a loaded machine
    self.call_soon(hold, os.environ["K"])

asyncio.base_events.BaseEventLoop.__init__ = every_callback_is_slow
main(sys.argv[1:])
"""


@pytest.mark.parametrize("key", [RAW, PLAIN + PLAIN])
def test_asyncio_debug_logs_are_redacted(key: str, conn: list[str]) -> None:
    argv = ["create", "--provider", "openai", "--name", "x", "--key-env", "K", *conn]
    done = subprocess.run(
        [sys.executable, "-c", ASYNCIO_DEBUG, *argv],
        capture_output=True,
        text=True,
        env=clean_env({"K": key, "PYTHONASYNCIODEBUG": "1"}),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Executing <Handle hold(" in done.stderr  # asyncio did log the callback
    # Not the key, nor what reprlib keeps of it ('sk-proj-CANA...canary33AbCd').
    assert key[:12] not in done.stderr
    assert key[-12:] not in done.stderr
    assert "<redacted>" in done.stderr
