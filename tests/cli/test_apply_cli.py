"""`asyncbyok plan` / `apply`: output, JSON, exit codes (--exit-code for drift), and the
README's main job (the example fleet against the in-process emulator)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncbyok.apply import fake_key, load_manifest
from asyncbyok.emulator import Emulator

from ._run import asyncbyok

ROOT = Path(__file__).resolve().parents[2]
WS = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"
RAW = "sk-proj-apply-cli-0000AbCd"
ENV = {"OPENAI_KEY": RAW}


NOTHING = dict.fromkeys(["created", "updated", "rotated", "deleted", "failed", "unchanged"], 0)


def counted(stdout: str) -> dict[str, int]:
    """The counts of the summary table: ``{"created": 5, ...}``."""
    rows = (line.split() for line in stdout.splitlines())
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[0] in NOTHING}


def write(tmp_path: Path, text: str, name: str = "fleet.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def team(count: int, extra: str = "") -> str:
    entries = "\n".join(
        f"  - {{name: team-{i:02d}, key_env: OPENAI_KEY{extra}}}" for i in range(count)
    )
    return f"version: 1\ndefaults: {{provider: openai, workspace_id: {WS}}}\nkeys:\n{entries}\n"


def test_plan_apply_then_nothing_to_do(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    manifest = write(tmp_path, team(5, ", allowed_models: [openai/gpt-4o]"))

    plan = asyncbyok("plan", manifest, *conn, env=ENV)
    assert plan.code == 0, plan.stderr
    assert plan.stdout.splitlines()[:3] == [
        f"+ create openai/team-00 @ {WS}",
        "    key: env OPENAI_KEY",
        '    allowed_models: ["openai/gpt-4o"]',
    ]
    assert plan.stdout.endswith("Plan: 5 to create, 0 to update, 0 to rotate, 0 to delete; "
                                "0 unchanged.\n")  # fmt: skip
    assert set(emu.stats.requests) == {"list"}

    applied = asyncbyok("apply", manifest, "--yes", *conn, env=ENV)
    assert applied.code == 0, applied.stderr
    summary = applied.stdout.splitlines()
    assert "Apply summary" in applied.stdout
    assert counted(applied.stdout) == {**NOTHING, "created": 5}
    assert summary[-1].startswith("5 changes in ")
    assert "applying: 5/5 (100%)" in applied.stderr  # progress: stderr, not the data
    assert len(emu.store.live()) == 5

    emu.stats.clear()
    again = asyncbyok("apply", manifest, "--yes", "--json", *conn, env=ENV)
    assert again.code == 0
    data = again.json()
    assert data["plan"]["counts"]["unchanged"] == 5
    assert data["result"]["ok"] is True
    assert data["result"]["counts"] == {**NOTHING, "unchanged": 5}
    assert set(emu.stats.requests) == {"list"}  # a no-op sends nothing but listings
    for result in (plan, applied, again):
        assert RAW not in result.stdout + result.stderr


def test_update_null_and_prune_in_the_plan(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    first = write(tmp_path, team(3, ", allowed_models: [openai/gpt-4o]"), "first.yaml")
    assert asyncbyok("apply", first, "--yes", *conn, env=ENV).code == 0
    second = write(tmp_path, team(2, ", allowed_models: null"), "second.yaml")

    plan = asyncbyok("plan", second, "--prune", *conn, env=ENV)
    assert plan.code == 0
    lines = plan.stdout.splitlines()
    assert lines[1] == '    allowed_models: ["openai/gpt-4o"] -> null'
    assert lines[-2].startswith("- delete openai/team-02 (")
    assert "not in the manifest" in lines[-2]

    data = asyncbyok("plan", second, "--json", *conn, env=ENV).json()
    assert data["counts"] == {"create": 0, "update": 2, "rotate": 0, "delete": 0, "unchanged": 0}
    assert data["changes"][0]["changes"] == [
        {"field": "allowed_models", "old": ["openai/gpt-4o"], "new": None}
    ]

    emu.received.clear()
    applied = asyncbyok("apply", second, "--prune", "--yes", "--json", *conn, env=ENV)
    assert applied.code == 0
    assert applied.json()["result"]["counts"]["deleted"] == 1
    assert sorted(op for op, _ in emu.received) == ["delete", "list", "update", "update"]
    assert [b for op, b in emu.received if op == "update"] == [{"allowed_models": None}] * 2


def test_apply_without_yes_and_no_terminal_is_refused(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    result = asyncbyok("apply", write(tmp_path, team(2)), *conn, env=ENV)
    assert result.code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: confirmation needed and standard input is not a terminal: pass --yes"
    )
    assert set(emu.stats.requests) == {"list"}
    assert not emu.store.live()


BAD = f"""\
version: 1
defaults: {{provider: openai, workspace_id: {WS}}}
keys:
  - name: ok
    key_env: OPENAI_KEY
  - name: bad
    key_env: OPENAI_KEY
    allowed_models: openai/gpt-4o
"""


@pytest.mark.parametrize("command_name", ["plan", "apply"])
def test_bad_manifest_exits_2_naming_line_and_field_without_a_request(
    emu: Emulator, conn: list[str], tmp_path: Path, command_name: str
) -> None:
    manifest = write(tmp_path, BAD)
    yes = ["--yes"] if command_name == "apply" else []
    result = asyncbyok(command_name, manifest, *yes, *conn, env=ENV)
    assert result.code == 2
    assert result.stderr == (
        f"Error: {manifest}: keys[1].allowed_models: line 8: must be a list of strings or "
        "null, not str\n"
    )
    assert result.stdout == ""
    assert sum(emu.stats.requests.values()) == 0  # nothing reached the server


def test_several_manifest_errors_are_listed_together(conn: list[str], tmp_path: Path) -> None:
    manifest = write(tmp_path, BAD + "    colour: blue\n  - {name: ok, key_env: OPENAI_KEY}\n")
    result = asyncbyok("plan", manifest, *conn, env={})
    assert result.code == 2
    assert result.stderr.splitlines() == [
        f"Error: {manifest}: 6 errors",
        "  keys[0].key_env: line 5: environment variable OPENAI_KEY is not set",
        "  keys[1].key_env: line 7: environment variable OPENAI_KEY is not set",
        "  keys[1].allowed_models: line 8: must be a list of strings or null, not str",
        "  keys[1].colour: line 9: unknown field 'colour'",
        "  keys[2].key_env: line 10: environment variable OPENAI_KEY is not set",
        "  keys[2].name: line 10: duplicate name 'ok' for provider openai in workspace "
        f"{WS} (first at keys[0], line 4)",
    ]


@pytest.mark.parametrize("emulator_options", [{"api_version": "oldest"}])
def test_partial_failure_exits_1_with_a_summary(
    conn: list[str], tmp_path: Path, emulator_options: dict[str, str]
) -> None:
    # An old server refuses the newer field: those items fail, the others are created.
    manifest = write(
        tmp_path, team(4) + "  - {name: eu, key_env: OPENAI_KEY, declared_region: europe}\n"
    )
    result = asyncbyok("apply", manifest, "--yes", *conn, env=ENV)
    assert result.code == 1
    assert counted(result.stdout) == {**NOTHING, "created": 4, "failed": 1}
    assert "Failures" in result.stdout
    assert (
        "create  openai/eu @ 0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001  BadRequestError: 400 "
        "declared_region: unknown field" in result.stdout
    )

    data = asyncbyok("apply", manifest, "--yes", "--json", *conn, env=ENV)
    assert data.code == 1
    (failure,) = data.json()["result"]["failures"]
    assert failure["name"] == "eu"
    assert failure["status"] == 400
    assert failure["ok"] is False


def test_readme_main_job_example_fleet_on_the_embedded_emulator() -> None:
    """`asyncbyok apply examples/fleet.yaml --emulator --yes`, with no env vars at all."""
    result = asyncbyok("apply", str(ROOT / "examples" / "fleet.yaml"), "--emulator", "--yes")
    assert result.code == 0, result.stderr
    count = len(load_manifest(ROOT / "examples" / "fleet.yaml", fake_keys=True, env={}).keys)
    assert count >= 200
    assert f"Plan: {count} to create" in result.stdout
    assert counted(result.stdout) == {**NOTHING, "created": count}
    assert f"applying: {count}/{count} (100%)" in result.stderr
    assert "using deterministic fake keys" in result.stderr
    assert "sk-fake-" not in result.stdout + result.stderr
    assert fake_key("env PROD_OPENAI_TEAM01_KEY") not in result.stdout + result.stderr


def test_plan_exit_code_tells_drift(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    manifest = write(tmp_path, team(2))
    drift = asyncbyok("plan", manifest, "--exit-code", *conn, env=ENV)
    assert drift.code == 3  # something would change
    assert "Plan: 2 to create" in drift.stdout
    assert asyncbyok("plan", manifest, *conn, env=ENV).code == 0  # without the flag: 0
    assert asyncbyok("apply", manifest, "--yes", *conn, env=ENV).code == 0
    assert asyncbyok("plan", manifest, "--exit-code", *conn, env=ENV).code == 0  # in sync
    # Failures and bad input keep their own codes.
    assert asyncbyok("plan", manifest, "--exit-code", *conn, env={}).code == 2
    wrong_key = ["--base-url", emu.base_url, "--api-key", "sk-or-v1-wrong"]
    assert asyncbyok("plan", manifest, "--exit-code", *wrong_key, env=ENV).code == 1


def test_a_manifest_without_version_is_refused(conn: list[str], tmp_path: Path) -> None:
    manifest = write(tmp_path, team(1).replace("version: 1\n", ""))
    result = asyncbyok("plan", manifest, *conn, env=ENV)
    assert result.code == 2
    assert result.stderr == (
        f"Error: {manifest}: version: line 1: is required: start the manifest with "
        "`version: 1` (supported versions: 1)\n"
    )
    future = write(tmp_path, team(1).replace("version: 1", "version: 2"), "future.yaml")
    assert "unsupported manifest version 2 (supported versions: 1)" in (
        asyncbyok("apply", future, "--yes", *conn, env=ENV).stderr
    )
