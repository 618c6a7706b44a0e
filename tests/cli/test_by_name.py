"""``asyncbyok get --name`` and ``delete --name``: one credential by its exact name, with
``--provider`` and ``--workspace-id`` to narrow it; several of one name are refused with
their ids, and a name given where an id belongs points at ``--name``."""

from __future__ import annotations

import asyncio

import pytest

import asyncbyok as sdk
from asyncbyok.emulator import Emulator

from ._run import asyncbyok

RAW = "sk-proj-by-name-0000AbCd"
WS = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"


def seed(emu: Emulator, *keys: tuple[str, str, str | None]) -> list[str]:
    """Create ``(provider, name, workspace)`` credentials; their ids."""

    async def create() -> list[str]:
        async with sdk.Client(api_key=emu.management_key, base_url=emu.base_url) as client:
            made = []
            for provider, name, workspace in keys:
                where = {} if workspace is None else {"workspace_id": workspace}
                made.append(
                    await client.byok.create(provider=provider, key=RAW, name=name, **where)
                )
            return [k.id for k in made]

    return asyncio.run(create())


def test_get_by_name(emu: Emulator, conn: list[str]) -> None:
    prod, eu, research, there = seed(
        emu, ("openai", "prod", None), ("openai", "prod-eu", None),
        ("anthropic", "research", None), ("openai", "prod", WS),
    )  # fmt: skip
    got = asyncbyok("get", "--name", "prod", "--json", *conn)
    assert got.code == 0, got.stderr  # was "no such option: --name"
    assert got.json()["id"] == prod
    shown = asyncbyok("get", "--name", "research", "--provider", "anthropic", *conn)
    assert shown.code == 0
    assert f"id                      {research}\n" in shown.stdout
    elsewhere = asyncbyok("get", "--name", "prod", "--workspace-id", WS, "--json", *conn)
    assert elsewhere.json()["id"] == there
    absent = asyncbyok("get", "--name", "Prod", *conn)
    assert absent.code == 1
    assert "no credential named 'Prod' in the default workspace" in absent.stderr
    assert eu  # a name that begins another is not it


def test_several_of_one_name_are_refused_with_their_ids(emu: Emulator, conn: list[str]) -> None:
    first, second = seed(emu, ("openai", "prod", None), ("anthropic", "prod", None))
    for command in (["get"], ["delete", "--yes"]):
        refused = asyncbyok(*command, "--name", "prod", *conn)
        assert refused.code == 2
        assert refused.stderr == (
            f"Error: 2 credentials are named 'prod': {first}, {second}; give one by its ID, "
            "or narrow it with --provider\n"
        )
    assert len(emu.store.live()) == 2  # nothing deleted
    narrowed = asyncbyok("get", "--name", "prod", "--provider", "anthropic", "--json", *conn)
    assert narrowed.json()["id"] == second


def test_delete_by_name(emu: Emulator, conn: list[str]) -> None:
    kept, gone = seed(emu, ("openai", "keep", None), ("openai", "old", None))
    unconfirmed = asyncbyok("delete", "--name", "old", *conn)
    assert unconfirmed.code == 2
    assert "pass --yes" in unconfirmed.stderr
    deleted = asyncbyok("delete", "--name", "old", "--yes", "--json", *conn)
    assert deleted.code == 0, deleted.stderr
    assert deleted.json() == {"deleted": [gone], "failed": []}
    assert [r.id for r in emu.store.live()] == [kept]
    again = asyncbyok("delete", "--name", "old", "--yes", *conn)
    assert again.code == 1
    assert "no credential named 'old'" in again.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["get"],
        ["get", "00000000-0000-4000-8000-000000000001", "--name", "prod"],
        ["get", "00000000-0000-4000-8000-000000000001", "--provider", "openai"],
        ["delete", "--yes"],
        ["delete", "00000000-0000-4000-8000-000000000001", "--name", "prod", "--yes"],
        ["delete", "00000000-0000-4000-8000-000000000001", "--workspace-id", WS, "--yes"],
    ],
)
def test_an_id_or_a_name_not_both(emu: Emulator, conn: list[str], args: list[str]) -> None:
    result = asyncbyok(*args, *conn)
    assert result.code == 2
    assert "--name" in result.stderr
    assert emu.received == []


def test_a_name_where_an_id_belongs_points_at_name(emu: Emulator, conn: list[str]) -> None:
    for command in ("get", "update"):
        extra = ["--disabled"] if command == "update" else []
        result = asyncbyok(command, "prod eu", *extra, *conn)
        assert result.code == 2
        assert result.stderr.endswith(
            "not 'prod eu'; to find a credential by name: asyncbyok get --name 'prod eu'\n"
        )
    key = asyncbyok("get", "--name", RAW, *conn)  # a key given as a name: refused unshown
    assert key.code == 2
    assert "looks like a raw key" in key.stderr
    assert RAW not in key.stderr + key.stdout
    assert emu.received == []
