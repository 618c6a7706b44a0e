"""The one-credential commands (create, list, get, update, delete), run in-process."""

from __future__ import annotations

from asyncbyok.emulator import Emulator, digest_key

from ._run import asyncbyok

RAW = "sk-proj-cli-secret-0000AbCd"
NEW_RAW = "sk-proj-cli-rotated-000WxYz"


def no_secret(*outputs: str) -> bool:
    return not any(RAW in o or NEW_RAW in o for o in outputs)


def test_create_list_get_update_delete(emu: Emulator, conn: list[str]) -> None:
    env = {"MY_KEY": RAW}
    created = asyncbyok(
        "create", "--provider", "openai", "--name", "prod", "--key-env", "MY_KEY",
        "--allowed-model", "openai/gpt-4o", "--allowed-model", "openai/o3", "--json", *conn,
        env=env,
    )  # fmt: skip
    assert created.code == 0, created.stderr
    key = created.json()
    assert key["name"] == "prod"
    assert key["label"] == "sk-...AbCd"
    assert key["allowed_models"] == ["openai/gpt-4o", "openai/o3"]
    assert emu.received[-1].body["key"] == "<redacted>"
    key_id = key["id"]

    table = asyncbyok("list", *conn)
    assert table.code == 0
    header, row = table.stdout.splitlines()
    assert header.split() == [
        "ID", "PROVIDER", "NAME", "STATUS", "LABEL", "WORKSPACE", "MODELS", "CREATED"
    ]  # fmt: skip
    assert row.split()[:5] == [key_id, "openai", "prod", "enabled", "sk-...AbCd"]
    assert "1 credential in the default workspace" in table.stderr
    assert [k["id"] for k in asyncbyok("list", "--json", *conn).json()] == [key_id]
    assert asyncbyok("list", "--provider", "anthropic", "--json", *conn).json() == []

    got = asyncbyok("get", key_id, "--json", *conn)
    assert got.code == 0
    assert got.json() == key

    # --clear sends null; fields not mentioned are not sent.
    updated = asyncbyok("update", key_id, "--clear", "allowed-models", "--disabled", *conn)
    assert updated.code == 0, updated.stderr
    assert emu.received[-1] == ("update", {"allowed_models": None, "disabled": True})
    assert "\nallowed_models          null\n" in updated.stdout
    assert f"Updated {key_id}" in updated.stderr

    rotated = asyncbyok("update", key_id, "--key-stdin", "--json", *conn, input=NEW_RAW + "\n")
    assert rotated.code == 0
    assert rotated.json()["label"] == "sk-...WxYz"
    assert emu.store.get(key_id).key_digest == digest_key(NEW_RAW)  # type: ignore[union-attr]

    deleted = asyncbyok("delete", key_id, "--yes", *conn)
    assert deleted.code == 0
    assert deleted.stdout == f"Deleted {key_id}\n"
    assert emu.store.live() == []
    everything = [created, table, got, updated, rotated, deleted]
    assert no_secret(*(r.stdout + r.stderr for r in everything))


def test_bad_input_exits_2_and_sends_nothing(emu: Emulator, conn: list[str]) -> None:
    cases = [
        (["create", "--provider", "openai"], "a raw key is needed"),
        (["create", "--provider", "openai", "--key-env", "NOPE"], "NOPE is not set"),
        (["create", "--provider", "openai", "--key-env", "K", "--name", "x" * 256],
         "name: must be at most 255 characters"),
        (["create", "--provider", "openai", "--key-env", "K", "--allowed-model", "m",
          "--clear", "allowed-models"], "--clear allowed-models conflicts"),
        (["update", "00000000-0000-4000-8000-000000000001"], "nothing to update"),
        (["delete", "00000000-0000-4000-8000-000000000001"], "pass --yes"),
    ]  # fmt: skip
    for args, message in cases:
        result = asyncbyok(*args, *conn, env={"K": RAW})
        assert result.code == 2, (args, result.stderr)
        assert result.stderr.startswith("Error: ")
        assert message in result.stderr
        assert "Traceback" not in result.stderr
        assert no_secret(result.stdout, result.stderr)
    assert sum(emu.stats.requests.values()) == 0


def test_api_errors_are_one_line_exit_1(emu: Emulator, conn: list[str]) -> None:
    missing = "00000000-0000-4000-8000-000000000001"
    result = asyncbyok("get", missing, *conn)
    assert result.code == 1
    assert result.stderr.startswith("Error: 404 NotFoundError: Resource not found (request id ")
    assert len(result.stderr.splitlines()) == 1
    debug = asyncbyok("get", missing, "--debug", *conn)
    assert debug.code == 1
    assert "Traceback (most recent call last)" in debug.stderr

    wrong = asyncbyok("list", "--base-url", emu.base_url, "--api-key", "sk-or-v1-wrong")
    assert wrong.code == 1
    assert wrong.stderr.startswith("Error: 401 AuthenticationError")
    assert len(wrong.stderr.splitlines()) == 1


def test_no_api_key_is_bad_input() -> None:
    result = asyncbyok("list")
    assert result.code == 2
    assert result.stderr.startswith("Error: no API key: set OPENROUTER_API_KEY")


def test_settings_from_the_environment_and_before_the_command(emu: Emulator) -> None:
    env = {"OPENROUTER_API_KEY": emu.management_key, "OPENROUTER_BASE_URL": emu.base_url}
    assert asyncbyok("list", "--json", env=env).json() == []
    assert asyncbyok("--json", "list", env=env).json() == []  # options before the command


def test_emulator_and_base_url_exclude_each_other() -> None:
    result = asyncbyok("list", "--emulator", "--base-url", "https://example.com/api/v1")
    assert result.code == 2
    assert result.stderr == "Error: --emulator and --base-url exclude each other: choose one\n"
