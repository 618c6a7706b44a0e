"""Names and every other string a server sends are shown as text: no rich markup is read
in them, and characters a terminal would act on (escape sequences, carriage returns,
bidirectional overrides, lone surrogates) are shown escaped, in tables, plans, summaries,
exports, JSON and errors."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

import asyncbyok
from asyncbyok import CreateBYOKKeyRequest
from asyncbyok.apply import ApplyResult, Delete, Outcome, load_manifest
from asyncbyok.cli.output import Output, summary_tables
from asyncbyok.emulator import Emulator

from ._run import Result
from ._run import asyncbyok as run

RAW = "sk-proj-names-0000AbCd"
# name as stored -> how a terminal must be shown it
HOSTILE = {
    "key [/old]": "key [/old]",
    "prod [eu]": "prod [eu]",
    "[link=file:///etc/passwd]click[/link]": "[link=file:///etc/passwd]click[/link]",
    "prod\r\x1b[2K\x1b[8m": "prod\\r\\x1b[2K\\x1b[8m",
    "rtl\u202eabc": "rtl\\u202eabc",
    "nbsp\xa0and\x9bcsi": "nbsp\\xa0and\\x9bcsi",
    ":smile: [bold]x": ":smile: [bold]x",
}
RAW_CONTROL = ("\x1b", "\r", "\u202e", "\x9b", "\xa0")


def seed(emu: Emulator, names: list[str]) -> list[str]:
    async def create() -> list[str]:
        async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as c:
            return [(await c.byok.create(provider="openai", key=RAW, name=n)).id for n in names]

    return asyncio.run(create())


def server_names(emu: Emulator, name: str) -> None:
    """Store a credential named *name* as a server may hold it: a name the SDK refuses
    to send (a lone surrogate is not UTF-8) is set in the store, not through the API."""
    record = emu.store.create(CreateBYOKKeyRequest(provider="openai", key=RAW, name="x"))
    record.settings["name"] = name


def clean(result: Result) -> Result:
    """*result*, after checking no character a terminal acts on reached either stream."""
    both = result.stdout + result.stderr
    assert [c for c in RAW_CONTROL if c in both] == [], both
    assert "Traceback" not in both
    return result


def test_list_and_get_show_names_as_text(emu: Emulator, conn: list[str]) -> None:
    ids = seed(emu, list(HOSTILE))
    listed = clean(run("list", *conn))
    assert listed.code == 0, listed.stderr  # `key [/old]` was a rich MarkupError
    for shown in HOSTILE.values():
        assert shown in listed.stdout
    for key_id, shown in zip(ids, HOSTILE.values(), strict=True):
        got = clean(run("get", key_id, *conn))
        assert got.code == 0
        assert f"name                    {shown}\n" in got.stdout


def test_a_name_cannot_hide_the_delete_lines_of_a_plan(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    ids = seed(emu, list(HOSTILE))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\nkeys:\n  - {name: kept, provider: openai, key_env: K}\n")
    result = clean(run("apply", str(manifest), "--prune", "--yes", *conn, env={"K": RAW}))
    assert result.code == 0, result.stderr
    deletes = [line for line in result.stdout.splitlines() if line.startswith("- delete")]
    assert deletes == [
        f"- delete openai/{shown} ({key_id}): not in the manifest"
        for key_id, shown in zip(ids, HOSTILE.values(), strict=True)
    ]


def test_json_escapes_what_a_terminal_acts_on_and_reads_back_the_same(
    emu: Emulator, conn: list[str]
) -> None:
    seed(emu, list(HOSTILE))
    # The SDK cannot send a lone surrogate (it is not UTF-8); a server can send "\ud800".
    server_names(emu, "lone \ud800 x")
    result = clean(run("list", "--json", *conn))
    assert result.code == 0, result.stderr  # a lone surrogate could not be printed
    assert "\\u001b[2K" in result.stdout
    assert "\\u202e" in result.stdout
    names = {k["name"] for k in json.loads(result.stdout)}
    assert names == {*HOSTILE, "lone \ud800 x"}
    table = clean(run("list", *conn))
    assert "lone \\ud800 x" in table.stdout


def test_export_writes_names_that_read_back_unchanged(
    emu: Emulator, conn: list[str], tmp_path: Path
) -> None:
    seed(emu, list(HOSTILE))
    result = clean(run("export", *conn))
    assert result.code == 0
    path = tmp_path / "exported.yaml"
    path.write_text(result.stdout)
    manifest = load_manifest(path, env={})
    assert {k.name for k in manifest.keys} == set(HOSTILE)


def test_diagnostics_and_failure_tables_escape_server_text(emu: Emulator) -> None:
    with CliRunner().isolation() as (_, stderr, _):
        Output().error("server said: \x1b]8;;file:///etc/passwd\x07here\r\nfake line")
        text = stderr.getvalue().decode()
    assert text == ("Error: server said: \\x1b]8;;file:///etc/passwd\\x07here\\r\\nfake line\n")
    key = asyncbyok.BYOKKey(id="1", provider="openai", label="sk-...AbCd", name="a [/b]\x1b[8m")
    failure = Outcome(
        item=Delete(current=key, reason="x"), ok=False, error=RuntimeError("boom\x1b[2K [/c]")
    )
    console = Console(file=io.StringIO(), width=200)
    for table in summary_tables(ApplyResult(outcomes=(failure,))):
        console.print(table)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "openai/a [/b]\\x1b[8m (1)" in shown
    assert "RuntimeError: boom\\x1b[2K [/c]" in shown


@pytest.mark.parametrize("name", list(HOSTILE))
def test_export_json_keeps_names_exact(name: str, emu: Emulator, conn: list[str]) -> None:
    seed(emu, [name])
    result = clean(run("export", "--json", *conn))
    assert [k["name"] for k in json.loads(result.stdout)["keys"]] == [name]


@pytest.mark.parametrize("as_json", [False, True])
def test_export_to_a_file_keeps_a_lone_surrogate_exact(
    emu: Emulator, conn: list[str], tmp_path: Path, as_json: bool
) -> None:
    # A server can send "\ud800" (JSON allows it); it is not UTF-8, so the file holds it
    # escaped, and reads back as the same name.
    server_names(emu, "lone \ud800 x")
    path = tmp_path / ("out.json" if as_json else "out.yaml")
    result = clean(run("export", "-o", str(path), *(["--json"] if as_json else []), *conn))
    assert result.code == 0, result.stderr
    text = path.read_text(encoding="utf-8")
    assert "\\ud800" in text.lower()
    if as_json:
        assert [k["name"] for k in json.loads(text)["keys"]] == ["lone \ud800 x"]
    else:
        assert [k.name for k in load_manifest(path, env={}).keys] == ["lone \ud800 x"]
