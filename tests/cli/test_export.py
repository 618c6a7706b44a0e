"""`asyncbyok export`: the account as a manifest that plans no change, key_env placeholders,
and what apply does with entries whose keys are not at hand."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path

import yaml

import asyncbyok
from asyncbyok import CreateBYOKKeyRequest
from asyncbyok.apply.export import env_name
from asyncbyok.emulator import Emulator

from ._run import asyncbyok as run

WS = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"
RAW = "sk-proj-export-0000AbCd"


def seed(emu: Emulator) -> None:
    async def create() -> None:
        async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as c:
            await c.byok.create(
                provider="openai",
                key=RAW,
                name="prod",
                allowed_models=["openai/gpt-4o", "openai/o3"],
                declared_region="europe",
                declared_zdr=True,
            )
            await c.byok.create(provider="openai", key=RAW, name="batch", allowed_models=None)
            await c.byok.create(
                provider="anthropic", key=RAW, name="prod", workspace_id=WS, is_fallback=True
            )
            await c.byok.create(provider="groq", key=RAW, name="9 lives!", disabled=True)
            await c.byok.create(provider="groq", key=RAW)  # no name: cannot be exported

    asyncio.run(create())


def export(conn: list[str], tmp_path: Path, *options: str, name: str = "fleet.yaml") -> Path:
    result = run("export", *options, *conn)
    assert result.code == 0, result.stderr
    path = tmp_path / name
    path.write_text(result.stdout)
    return path


def test_export_then_plan_shows_no_change(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    seed(emu)
    result = run("export", *conn)
    assert result.code == 0
    assert "has no name: not exported" in result.stderr
    assert RAW not in result.stdout + result.stderr
    data = yaml.safe_load(result.stdout)
    assert data["version"] == 1
    assert data["missing_keys"] == "keep"
    entries = {(e["provider"], e["name"]): e for e in data["keys"]}
    # The default workspace, like `list` (--workspace-id for another one).
    assert set(entries) == {("openai", "prod"), ("openai", "batch"), ("groq", "9 lives!")}
    prod = entries[("openai", "prod")]
    assert prod["key_env"] == "BYOK_OPENAI_PROD_KEY"
    assert prod["allowed_models"] == ["openai/gpt-4o", "openai/o3"]
    assert (prod["declared_region"], prod["declared_zdr"]) == ("europe", True)
    assert entries[("openai", "batch")]["allowed_models"] is None  # null: no restriction
    assert prod["workspace_id"] == emu.default_workspace_id
    assert entries[("groq", "9 lives!")]["key_env"] == "BYOK_GROQ_9_LIVES_KEY"
    assert "allowed_models: [openai/gpt-4o, openai/o3]" in result.stdout  # readable YAML

    path = tmp_path / "fleet.yaml"
    path.write_text(result.stdout)
    plan = run("plan", str(path), "--exit-code", *conn)
    assert plan.code == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout
    assert "3 credential(s) have no key at hand" in plan.stderr


def test_json_export_and_filters(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    seed(emu)
    as_json = run("export", "--json", *conn)
    (tmp_path / "fleet.json").write_text(as_json.stdout)
    assert run("plan", str(tmp_path / "fleet.json"), "--exit-code", *conn).code == 0
    only_openai = yaml.safe_load(run("export", "--provider", "openai", *conn).stdout)
    assert {e["provider"] for e in only_openai["keys"]} == {"openai"}
    in_ws = yaml.safe_load(run("export", "--workspace-id", WS, *conn).stdout)
    assert [(e["provider"], e["name"]) for e in in_ws["keys"]] == [("anthropic", "prod")]
    assert in_ws["keys"][0]["workspace_id"] == WS
    assert in_ws["keys"][0]["is_fallback"] is True


def test_apply_of_an_export_manages_fields_and_leaves_keys(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    seed(emu)
    path = export(conn, tmp_path)
    text = path.read_text().replace("disabled: true", "disabled: false")
    path.write_text(text)
    emu.received.clear()
    applied = run("apply", str(path), "--yes", "--json", *conn)
    assert applied.code == 0, applied.stderr
    assert applied.json()["result"]["counts"]["updated"] == 1
    assert [b for op, b in emu.received if op == "update"] == [{"disabled": False}]  # no key

    # With its variable set, an entry manages its key too: a different key is rotated.
    env = {"BYOK_OPENAI_PROD_KEY": "sk-proj-rotated-000WxYz"}
    rotate = run("plan", str(path), "--json", *conn, env=env).json()
    assert rotate["counts"]["rotate"] == 1

    # A credential that does not exist cannot be created without its key.
    path.write_text(text + "  - {name: new, provider: openai, key_env: OPENAI_NEW_KEY}\n")
    refused = run("apply", str(path), "--yes", *conn)
    assert refused.code == 2
    assert "cannot create openai/new: its key is not at hand" in refused.stderr
    assert "environment variable OPENAI_NEW_KEY is not set" in refused.stderr


def test_env_names_are_variable_names_and_unique(emu: Emulator, conn: list[str]) -> None:
    assert env_name("openai", "prod-eu.2") == "BYOK_OPENAI_PROD_EU_2_KEY"
    assert env_name("9x", "") == "BYOK_9X_KEY"

    async def create() -> None:
        async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as c:
            await c.byok.create(provider="openai", key=RAW, name="a-b")
            await c.byok.create(provider="openai", key=RAW, name="a.b")

    asyncio.run(create())
    data = yaml.safe_load(run("export", *conn).stdout)
    assert sorted(e["key_env"] for e in data["keys"]) == [
        "BYOK_OPENAI_A_B_2_KEY",
        "BYOK_OPENAI_A_B_KEY",
    ]


def test_export_names_no_variable_an_sdk_reads(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    async def create() -> None:
        async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as c:
            await c.byok.create(provider="openai", key=RAW, name="api")

    asyncio.run(create())
    path = export(conn, tmp_path)
    assert yaml.safe_load(path.read_text())["keys"][0]["key_env"] == "BYOK_OPENAI_API_KEY"
    # A developer's own key in OPENAI_API_KEY was taken for the credential's: plan of the
    # export proposed rotating the organisation's credential to the personal key.
    personal = {"OPENAI_API_KEY": "sk-proj-personal-0000WxYz"}
    plan = run("plan", str(path), "--exit-code", *conn, env=personal)
    assert plan.code == 0, plan.stdout


def test_export_then_plan_on_a_kept_emulator_shows_no_change(tmp_path: Path) -> None:
    state = ["--emulator-state", str(tmp_path / "state.json")]
    created = run("create", "--provider", "openai", "--name", "prod", "--key-env", "K", *state,
                  env={"K": RAW})  # fmt: skip
    assert created.code == 0, created.stderr
    exported = run("export", "-o", str(tmp_path / "fleet.yaml"), *state)
    assert exported.code == 0, exported.stderr
    # --emulator's fake keys stood in for the unset variables and rotated every one.
    plan = run("plan", str(tmp_path / "fleet.yaml"), "--exit-code", *state)
    assert plan.code == 0, plan.stdout
    assert "No changes" in plan.stdout


def test_export_to_a_file_is_all_or_nothing(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    seed(emu)
    path = tmp_path / "fleet.yaml"
    path.write_text("# my fleet, as it was\n")
    path.chmod(0o640)
    failed = run("export", "-o", str(path), "--base-url", conn[1], "--api-key", "sk-or-v1-bad")
    assert failed.code == 1  # 401: nothing was read, so nothing is written
    assert path.read_text() == "# my fleet, as it was\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]  # no temporary left
    written = run("export", "-o", str(path), *conn)
    assert written.code == 0, written.stderr
    assert written.stdout == ""
    assert "Exported 3 credential(s) to " in written.stderr
    assert path.read_text() == run("export", *conn).stdout
    assert path.stat().st_mode & 0o777 == 0o640  # its permissions kept
    as_json = run("export", "--json", "-o", str(tmp_path / "fleet.json"), *conn)
    assert as_json.json() == {"written": str(tmp_path / "fleet.json"), "keys": 3}
    assert json.loads((tmp_path / "fleet.json").read_text())["version"] == 1
    missing = run("export", "-o", str(tmp_path / "no" / "such" / "dir.yaml"), *conn)
    assert (missing.code, missing.stderr.splitlines()[-1]) == (
        2,
        f"Error: cannot write {tmp_path / 'no' / 'such' / 'dir.yaml'}: No such file or directory",
    )


def test_no_key_reaches_an_export(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    seed(emu)
    shown = ""
    for args in (["export"], ["export", "--json"], ["export", "-o", str(tmp_path / "f")]):
        result = run(*args, *conn, env={"CANARY": RAW})
        assert result.code == 0
        shown += result.stdout + result.stderr
    shown += (tmp_path / "f").read_text()
    assert RAW not in shown
    assert RAW[-8:] not in shown  # not even more of it than the label's last four


def test_a_key_shaped_name_is_left_out_of_an_export(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    # Stored before names were checked: a manifest refuses such a name, so plan of an
    # export holding it would fail.
    legacy = CreateBYOKKeyRequest(provider="openai", key=RAW, name="sk-prod-openai-2024-team")
    record = emu.store.create(legacy)
    path = export(conn, tmp_path)
    result = run("plan", str(path), "--exit-code", *conn)
    assert result.code == 0, result.stderr
    warned = run("export", *conn).stderr
    assert f"{record.id} (openai) has a name that looks like a raw key (not shown): not " \
        "exported; give it another name" in warned  # fmt: skip


def test_a_key_given_as_the_output_file_is_refused(conn: list[str], tmp_path: Path) -> None:
    target = tmp_path / RAW
    result = run("export", "-o", str(target), "--json", *conn)
    assert result.code == 2
    assert RAW not in result.stdout + result.stderr  # it was the name of the file written
    assert not target.exists()


def test_output_to_a_pipe_or_through_a_link_is_written_not_replaced(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    # A device or a pipe (-o /dev/stdout) is written to: renamed over, /dev/null would have
    # become a regular file. Tested on a FIFO of our own, never on a real device.
    seed(emu)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so the writer need not wait
    try:
        written = run("export", "-o", str(fifo), *conn)
        received = os.read(reader, 1 << 20).decode()
    finally:
        os.close(reader)
    assert written.code == 0, written.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a pipe
    assert received == run("export", *conn).stdout
    target = tmp_path / "real.yaml"
    target.write_text("old\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    assert run("export", "-o", str(link), *conn).code == 0
    assert link.is_symlink()  # the link still points where it did; its file was replaced
    assert target.read_text() == received
