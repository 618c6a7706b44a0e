"""--json: every command prints exactly one JSON document, whatever happens (success,
partial failure, bad input, API errors, usage errors), and errors have one stable shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from asyncbyok.emulator import Emulator

from ._run import Result, asyncbyok

RAW = "sk-proj-json-0000AbCd"
MISSING = "00000000-0000-4000-8000-000000000001"
WS = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"


def one_document(result: Result) -> Any:
    """The single JSON document on stdout (json.loads refuses anything after it)."""
    return json.loads(result.stdout)


def error_of(result: Result, kind: str, code: int) -> dict[str, Any]:
    assert result.code == code, result.stderr
    error = one_document(result)["error"]
    assert error["kind"] == kind
    assert error["exit_code"] == code
    assert isinstance(error["message"], str)
    assert result.stderr.splitlines()[-1].startswith("Error: ") or "Error: " in result.stderr
    return dict(error)


def test_delete_prints_one_document_for_one_missing_id(conn: list[str]) -> None:
    # It used to print nothing for one id and a document for two.
    for ids in ([MISSING], [MISSING, "00000000-0000-4000-8000-000000000002"]):
        result = asyncbyok("delete", *ids, "--yes", "--json", *conn)
        assert result.code == 1
        data = one_document(result)
        assert data["deleted"] == []
        assert [f["id"] for f in data["failed"]] == ids
        assert {f["status"] for f in data["failed"]} == {404}


def test_delete_success_and_partial_failure(emu: Emulator, conn: list[str]) -> None:
    created = asyncbyok(
        "create", "--provider", "openai", "--key-env", "K", "--json", *conn, env={"K": RAW}
    )
    key_id = one_document(created)["id"]
    partial = asyncbyok("delete", key_id, MISSING, "--yes", "--json", *conn)
    assert partial.code == 1
    assert one_document(partial)["deleted"] == [key_id]
    assert one_document(asyncbyok("list", "--json", *conn)) == []


def test_errors_of_every_kind_have_one_shape(emu: Emulator, conn: list[str]) -> None:
    validation = error_of(asyncbyok("get", "not-a-uuid", "--json", *conn), "validation", 2)
    assert validation["errors"] == [
        {"path": "key_id", "message": validation["errors"][0]["message"]}
    ]
    api = error_of(asyncbyok("get", MISSING, "--json", *conn), "api", 1)
    assert (api["status"], api["class"]) == (404, "NotFoundError")
    assert api["request_id"].startswith("req_")
    bad = error_of(asyncbyok("create", "--provider", "openai", "--json", *conn), "bad_input", 2)
    assert bad["message"].startswith("a raw key is needed")
    usage = error_of(asyncbyok("update", "--json", *conn), "usage", 2)
    assert usage["message"] == "Missing argument 'ID'."
    unknown = error_of(asyncbyok("--json", "frobnicate"), "usage", 2)
    assert "No such command" in unknown["message"]
    insecure = asyncbyok("--json", "--api-key", "x" * 20, "--base-url", "http://a.example", "list")
    assert "--allow-insecure-http" in error_of(insecure, "bad_input", 2)["message"]
    no_key = error_of(asyncbyok("list", "--json"), "bad_input", 2)
    assert no_key["message"].startswith("no API key")
    declined = asyncbyok("apply", "--json", "missing.yaml", *conn)
    assert error_of(declined, "validation", 2)["subject"] == "missing.yaml"


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["list", "--provider", "openai"],
        ["export"],
        ["get", MISSING],
        ["update", MISSING, "--disabled"],
        ["update", MISSING],
        ["create", "--provider", "openai", "--key-env", "K"],
        ["create", "--provider", "openai", "--key-env", "UNSET"],
        ["delete", MISSING, "--yes"],
        ["delete", MISSING],
    ],
)
def test_every_key_command_prints_exactly_one_document(conn: list[str], args: list[str]) -> None:
    for place in ("before", "after"):
        argv = ["--json", *args, *conn] if place == "before" else [*args, *conn, "--json"]
        result = asyncbyok(*argv, env={"K": RAW})
        one_document(result)
        assert RAW not in result.stdout + result.stderr


def test_plan_and_apply_print_one_document_in_every_outcome(
    conn: list[str], tmp_path: Path
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        f"version: 1\nkeys:\n  - {{name: a, provider: openai, workspace_id: {WS}, key_env: K}}\n"
    )
    unversioned = tmp_path / "old.yaml"
    unversioned.write_text("keys: []\n")
    outcomes = [
        (["plan", str(good)], 0),
        (["plan", str(good), "--exit-code"], 3),
        (["apply", str(good)], 2),  # no --yes, no terminal
        (["apply", str(good), "--yes"], 0),
        (["apply", str(good), "--yes"], 0),  # nothing to do
        (["plan", str(unversioned)], 2),
        (["plan", str(tmp_path / "missing.yaml")], 2),
        (["apply", str(unversioned), "--yes"], 2),
    ]
    for args, code in outcomes:
        result = asyncbyok(*args, "--json", *conn, env={"K": RAW})
        assert result.code == code, (args, result.stderr)
        one_document(result)
