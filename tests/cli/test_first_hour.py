"""What a new user meets after the main job (issue 20): hints that run as written,
workspaces that can be seen, a table that keeps what matters."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ._run import asyncbyok, clean_env, command

NO_WAIT = ["--emulator-latency", "0"]  # an in-process emulator that answers at once
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def fleet(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "fleet.yaml"
    entries = "\n".join(f"  - {{name: k{i:03d}, key_env: K{i}}}" for i in range(count))
    path.write_text(f"version: 1\ndefaults: {{provider: openai}}\nkeys:\n{entries}\n")
    return path


def test_the_hint_after_a_long_plan_runs_as_written(tmp_path: Path) -> None:
    manifest = fleet(tmp_path, 30)
    applied = asyncbyok("apply", str(manifest), "--emulator", "--yes", "--emulator-latency", "0")
    assert applied.code == 0, applied.stderr
    hint = re.search(r"^\.\.\. and 10 more \(`(.+)` lists every one\)$", applied.stdout, re.M)
    assert hint is not None, applied.stdout
    words = shlex.split(hint.group(1))
    assert words == ["asyncbyok", "plan", str(manifest), "--emulator"]
    shown = asyncbyok(*words[1:], "--emulator-latency", "0")
    assert shown.code == 0, shown.stderr  # it said "(see `asyncbyok plan`)": no API key
    assert shown.stdout.count("+ create openai/") == 30


ROOT = Path(__file__).resolve().parents[2]
WS = [f"0b7f3a52-1c1e-4d55-9a57-6b0f5e1a000{i}" for i in (1, 2, 3)]
K = {"K": "sk-proj-first-hour-0000AbCd"}


def spread(tmp_path: Path) -> Path:
    """A manifest over the default workspace and three others, two providers each."""
    path = tmp_path / "spread.yaml"
    entries = ["  - {name: zeta, provider: openai, key_env: K}"]
    entries += ["  - {name: alpha, provider: openai, key_env: K}"]
    for ws in WS:
        for provider in ("openai", "anthropic"):
            entries.append(f"  - {{name: n, provider: {provider}, key_env: K, workspace_id: {ws}}}")
    path.write_text("version: 1\nkeys:\n" + "\n".join(entries) + "\n")
    return path


@pytest.mark.slow  # 291 credentials at the emulator's usual pace, as the README runs them
def test_the_readme_next_step_shows_all_291(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("Next step after the main job", 1)[1].split("```sh\n", 1)[1]
    commands = [shlex.split(line) for line in block.split("```", 1)[0].splitlines()]
    assert [c[0] for c in commands] == [".venv/bin/asyncbyok"] * 2
    assert commands[0][1:] == ["apply", "examples/fleet.yaml", "--emulator-state", "fleet.json",
                               "--yes"]  # fmt: skip
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "fleet.yaml", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)  # fleet.json is written here, not in the repository
    applied = asyncbyok(*commands[0][1:])
    assert applied.code == 0, applied.stderr
    listed = asyncbyok(*commands[1][1:])
    assert listed.code == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines()[1:] if UUID.match(line)]
    assert len(rows) == 291
    assert listed.stderr.endswith("291 credentials in 4 workspace(s) examples/fleet.yaml covers\n")
    header = listed.stdout.splitlines()[0].split()
    assert "WORKSPACE" in header
    plain = asyncbyok("--emulator-state", "fleet.json", "list")
    assert "3 credentials in the default workspace (" in plain.stderr
    assert plain.stderr.endswith(
        ". Other workspaces: --workspace-id UUID, or --manifest FILE (every workspace a "
        "manifest covers).\n"
    )


def test_apply_and_plan_name_the_workspaces_they_touch(tmp_path: Path) -> None:
    manifest = spread(tmp_path)
    state = ["--emulator-state", str(tmp_path / "state.json"), *NO_WAIT]
    applied = asyncbyok("apply", str(manifest), "--yes", *state, env=K)
    assert applied.code == 0, applied.stderr
    lines = applied.stderr.splitlines()
    start = lines.index("Workspaces this manifest covers:")
    assert lines[start + 1 : start + 5] == [  # in the manifest's order
        f"  the default workspace ({emulator_default(tmp_path)}): 2 credentials (openai)",
        *(f"  {ws}: 2 credentials (anthropic, openai)" for ws in WS),
    ]
    assert lines[start + 5] == (
        f"List them all: asyncbyok list --manifest {manifest} --emulator-state "
        f"{tmp_path / 'state.json'}"
    )
    assert "emulator is gone" not in applied.stderr  # its state is kept
    planned = asyncbyok("plan", str(manifest), *state, env=K)
    assert planned.code == 0
    assert planned.stderr.splitlines()[-5:] == lines[start + 1 : start + 6]


def emulator_default(tmp_path: Path) -> str:
    data = json.loads((tmp_path / "state.json").read_text())
    return str(data["default_workspace_id"])


def test_list_manifest_shows_every_scope_in_one_sorted_table(tmp_path: Path) -> None:
    manifest = spread(tmp_path)
    state = ["--emulator-state", str(tmp_path / "state.json"), *NO_WAIT]
    assert asyncbyok("apply", str(manifest), "--yes", *state, env=K).code == 0
    default = emulator_default(tmp_path)
    listed = asyncbyok("list", "--manifest", str(manifest), *state)
    assert listed.code == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    where = listed.stdout.splitlines()[0].split().index("WORKSPACE")
    assert [(r[where], r[1], r[2]) for r in rows] == sorted(
        [(default, "openai", "alpha"), (default, "openai", "zeta")]
        + [(ws, p, "n") for ws in WS for p in ("anthropic", "openai")]
    )
    narrowed = asyncbyok("list", "--manifest", str(manifest), "--provider", "anthropic",
                         "--json", *state)  # fmt: skip
    assert sorted(k["workspace_id"] for k in narrowed.json()) == WS
    plain = asyncbyok("list", *state)  # the default workspace, sorted by provider and name
    assert [line.split()[2] for line in plain.stdout.splitlines()[1:]] == ["alpha", "zeta"]
    both = asyncbyok("list", "--manifest", str(manifest), "--workspace-id", WS[0], *state)
    assert both.code == 2
    one = asyncbyok("list", "--workspace-id", WS[0], *state)
    assert one.stderr.endswith(f"2 credentials in workspace {WS[0]}\n")


def test_list_manifest_reads_no_key(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nkeys:\n  - {name: a, provider: openai, key_file: /etc/shadow}\n"
        "  - {name: b, provider: openai, key_env: UNSET_VARIABLE}\n"
    )
    listed = asyncbyok("list", "--manifest", str(manifest), "--emulator")
    assert listed.code == 0, listed.stderr
    assert "No credentials in 0 workspace(s)" in listed.stderr


def test_every_emulator_command_that_changes_something_says_it_forgets(tmp_path: Path) -> None:
    gone = "The in-process emulator is gone, and what this command stored with it"
    created = asyncbyok("create", "--provider", "openai", "--key-env", "K", *NO_WAIT, env=K)
    assert created.code == 0
    assert created.stderr.splitlines()[-1] == (
        f"{gone}: keep its state between commands with --emulator-state FILE."
    )
    applied = asyncbyok("apply", str(fleet(tmp_path, 2)), "--yes", *NO_WAIT)
    assert f"{gone}. To keep it, and then see it:" in applied.stderr
    kept = ["--emulator-state", str(tmp_path / "kept.json")]
    for quiet in (
        asyncbyok("list", "--emulator"),
        asyncbyok("plan", str(fleet(tmp_path, 2)), "--emulator"),
        asyncbyok("create", "--provider", "openai", "--key-env", "K", *kept, env=K),
    ):
        assert quiet.code == 0, quiet.stderr
        assert gone not in quiet.stderr


def test_get_with_a_name_suggests_get_name() -> None:
    result = asyncbyok("get", "prod eu", "--emulator")
    assert result.code == 2
    assert result.stderr == (
        "Error: request: key_id: must be a UUID like 550e8400-e29b-41d4-a716-446655440000, "
        "not 'prod eu'; to find a credential by name: asyncbyok get --name 'prod eu'\n"
    )
    pasted = asyncbyok("get", "sk-proj-0123456789abcdefAbCd", "--emulator")
    assert "--name" not in pasted.stderr  # a key is not a name to search for
    assert "0123456789" not in pasted.stderr


def test_declared_region_typos_are_refused_and_unknown_regions_warned(tmp_path: Path) -> None:
    create = ["create", "--provider", "openai", "--key-env", "K", "--emulator"]
    for typo, meant in (("Europe", "europe"), ("US", "us"), ("GLOBAL", "global")):
        refused = asyncbyok(*create, "--declared-region", typo, env=K)
        assert refused.code == 2
        assert refused.stderr == (
            "Error: CreateBYOKKeyRequest: declared_region: unknown value "
            f"'{typo}' (did you mean '{meant}'?)\n"
        )
    sent = asyncbyok(*create, "--declared-region", "mars", "--json", env=K)
    assert sent.code == 0
    assert sent.json()["declared_region"] == "mars"
    assert "Warning: --declared-region 'mars' is not one this release knows (global, " \
        "europe, us); sent as is: the server may refuse it" in sent.stderr  # fmt: skip
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nkeys:\n  - {name: a, provider: openai, key_env: K, declared_region: eu}\n"
    )
    planned = asyncbyok("plan", str(manifest), "--emulator", env=K)
    assert "Warning: keys[0].declared_region: line 3: unknown region 'eu'" in planned.stderr


def test_python_m_asyncbyok_is_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "asyncbyok", "--emulator", "list", "--json"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    light = subprocess.run(
        [sys.executable, "-c", "import sys, asyncbyok; print('click' in sys.modules)"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=True,
    )
    assert light.stdout == "False\n"  # importing the package does not load the command


def test_shell_completion_is_documented_and_works_as_documented() -> None:
    guide = (ROOT / "docs" / "guides" / "cli.md").read_text()
    line = re.search(r'^\$ eval "\$\((_ASYNCBYOK_COMPLETE=bash_source asyncbyok)\)"$', guide, re.M)
    assert line is not None
    name, _, value = line.group(1).split()[0].partition("=")
    done = subprocess.run(
        command(), env=clean_env({name: value}), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "complete -o nosort -F _asyncbyok_completion asyncbyok" in done.stdout
