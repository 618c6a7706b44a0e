"""``asyncbyok find-key`` and ``asyncbyok rotate``, run in-process against an emulator that
holds three workspaces, the leaked key in each, a look-alike (another key with the same
visible ends), other keys and one whose label shows nothing: what they find, how the
look-alike is reported, the plan, the confirmation, the summary, ``--json``, and never a
key in what they print."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import asyncbyok as sdk
from asyncbyok.emulator import Emulator, FaultConfig, Faults, digest_key

from ._run import Result, asyncbyok, clean_env, command

LEAKED = "sk-proj-LEAKEDCANARY-0123456789-AbCd"
LOOKALIKE = "sk-proj-LOOKCANARY-9876543210-AbCd"  # other key, same label: sk-...AbCd
OTHER = "sk-proj-OTHERCANARY-5555555555-WxYz"
NEW = "sk-proj-NEWCANARY-7777777777-QrSt"
TINY = "QZ"  # a label of "...": too short to tell (and in no answer the scrub could mangle)
WS = [f"0b7f3a52-1c1e-4d55-9a57-6b0f5e1a000{i}" for i in (1, 2, 3)]
KEYS = {"LEAKED": LEAKED, "NEW": NEW, "LOOK": LOOKALIKE}
EVERYWHERE = [a for w in WS for a in ("--workspace-id", w)]


def fleet(emu: Emulator) -> dict[str, str]:
    """The leaked key in three workspaces, a look-alike, other keys; ids by name."""
    plan = [
        ("prod", "openai", LEAKED, WS[0]),
        ("other", "openai", OTHER, WS[0]),
        ("tiny", "mistral", TINY, WS[0]),
        ("backup", "anthropic", LEAKED, WS[1]),
        ("lookalike", "openai", LOOKALIKE, WS[1]),
        ("eu", "openai", LEAKED, WS[2]),
        ("home", "openai", LEAKED, None),  # the default workspace: not searched here
    ]

    async def create() -> dict[str, str]:
        async with sdk.Client(api_key=emu.management_key, base_url=emu.base_url) as client:
            made = {}
            for name, provider, key, workspace in plan:
                where = {} if workspace is None else {"workspace_id": workspace}
                created = await client.byok.create(provider=provider, key=key, name=name, **where)
                made[name] = created.id
            return made

    return asyncio.run(create())


def no_key(result: Result) -> Result:
    """*result*, after checking that no key reached either stream (the canary)."""
    both = result.stdout + result.stderr
    assert [k for k in (LEAKED, LOOKALIKE, OTHER, NEW) if k in both] == []
    assert "CANARY" not in both  # not even a piece of one
    assert "Traceback" not in both
    return result


def digests(emu: Emulator) -> dict[str | None, str]:
    return {r.name: r.key_digest for r in emu.store.live()}


def test_find_key_reports_the_lookalike_with_the_key(emu: Emulator, conn: list[str]) -> None:
    ids = fleet(emu)
    found = no_key(asyncbyok("find-key", "--key-env", "LEAKED", *EVERYWHERE, *conn, env=KEYS))
    assert found.code == 0, found.stderr
    rows = [line.split()[:3] for line in found.stdout.splitlines() if line[:8] in str(ids)]
    assert sorted(name for _, _, name in rows) == ["backup", "eu", "lookalike", "prod", "tiny"]
    assert found.stdout.startswith("Consistent with the key:\n")
    assert "Too short to tell:\n" in found.stdout
    assert (
        "Searched 6 credentials in 3 workspaces: 4 consistent with the key, 1 too short to "
        "tell, 1 not the key\n"
    ) in found.stderr
    assert "a look-alike" in found.stderr  # said every time something is found
    assert "1 credential(s) have a label too short to tell" in found.stderr

    document = no_key(
        asyncbyok("find-key", "--key-env", "LEAKED", *EVERYWHERE, "--json", *conn, env=KEYS)
    ).json()
    consistent = {k["name"]: k for k in document["consistent"]}
    assert set(consistent) == {"prod", "backup", "lookalike", "eu"}
    # How the look-alike is reported: as consistent, its label the same as the others'.
    assert consistent["lookalike"]["id"] == ids["lookalike"]
    assert {k["label"] for k in consistent.values()} == {"sk-...AbCd"}
    assert [k["name"] for k in document["undetermined"]] == ["tiny"]
    assert document["searched"] == {"workspaces": WS, "provider": None, "credentials": 6}
    assert "look-alike" in document["note"]


def test_find_key_where_it_looks(emu: Emulator, conn: list[str], tmp_path: Path) -> None:
    fleet(emu)
    default = asyncbyok("find-key", "--key-env", "LEAKED", "--json", *conn, env=KEYS).json()
    assert [k["name"] for k in default["consistent"]] == ["home"]
    both = asyncbyok(
        "find-key", "--key-env", "LEAKED", "--workspace-id", "default", "--workspace-id",
        WS[2], "--provider", "openai", "--json", *conn, env=KEYS,
    ).json()  # fmt: skip
    assert sorted(k["name"] for k in both["consistent"]) == ["eu", "home"]
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nkeys:\n"
        f"  - {{name: a, provider: openai, key_env: NOPE, workspace_id: {WS[1]}}}\n"
        f"  - {{name: b, provider: groq, key_env: NOPE, workspace_id: {WS[1]}}}\n"
    )
    covered = asyncbyok(
        "find-key", "--key-stdin", "--manifest", str(manifest), "--json", *conn,
        input=LEAKED + "\n",
    )  # fmt: skip
    assert covered.code == 0, covered.stderr
    # Every provider of the manifest's workspace: anthropic's backup too.
    assert sorted(k["name"] for k in covered.json()["consistent"]) == ["backup", "lookalike"]


def test_rotate_round_trip(emu: Emulator, conn: list[str]) -> None:
    ids = fleet(emu)
    before = digests(emu)
    refused = no_key(
        asyncbyok("rotate", "--from-key-env", "LEAKED", "--to-key-env", "NEW", *EVERYWHERE,
                  *conn, env=KEYS)
    )  # fmt: skip
    assert refused.code == 2  # no terminal to ask, no --yes
    assert "pass --yes" in refused.stderr
    assert "Will rotate the key of these credentials:" in refused.stdout  # the plan first
    assert digests(emu) == before  # nothing changed

    rotated = no_key(
        asyncbyok("rotate", "--from-key-env", "LEAKED", "--to-key-env", "NEW", *EVERYWHERE,
                  "--exclude", ids["lookalike"], "--yes", "--json", *conn, env=KEYS)
    )  # fmt: skip
    assert rotated.code == 0, rotated.stderr
    document = rotated.json()
    assert sorted(document["result"]["changed"]) == sorted(ids[n] for n in ("prod", "backup", "eu"))
    assert document["result"]["failed"] == []
    assert document["left_out"] == {"excluded": 1, "too short to tell": 1}
    after = digests(emu)
    assert {n: after[n] for n in ("prod", "backup", "eu")} == dict.fromkeys(
        ("prod", "backup", "eu"), digest_key(NEW)
    )
    assert after["lookalike"] == digest_key(LOOKALIKE)  # excluded: its key is its own
    assert after["home"] == digest_key(LEAKED)  # the default workspace was not searched
    assert after["tiny"] == before["tiny"]  # too short to tell: never changed

    again = no_key(
        asyncbyok("rotate", "--from-key-env", "LEAKED", "--to-key-env", "NEW", *EVERYWHERE,
                  "--yes", *conn, env=KEYS)
    )  # fmt: skip
    assert again.code == 0
    # Only the look-alike still has the leaked key's label: it is the one left to decide.
    assert "lookalike" in again.stdout
    assert "prod" not in again.stdout
    assert "    Rotate summary" in again.stdout
    assert digests(emu)["lookalike"] == digest_key(NEW)  # not excluded this time: rotated


def test_rotate_disable(emu: Emulator, conn: list[str]) -> None:
    fleet(emu)
    first = no_key(
        asyncbyok("rotate", "--from-key-env", "LEAKED", "--disable", "--workspace-id", WS[1],
                  "--yes", "--json", *conn, env=KEYS)
    )  # fmt: skip
    assert first.code == 0, first.stderr
    disabled = {r.name for r in emu.store.live() if r.disabled}
    assert disabled == {"backup", "lookalike"}
    again = asyncbyok(
        "rotate", "--from-key-env", "LEAKED", "--disable", "--workspace-id", WS[1], "--yes",
        "--json", *conn, env=KEYS,
    ).json()  # fmt: skip
    assert again["result"] == {"changed": [], "failed": []}
    assert again["left_out"]["already disabled"] == 2


@pytest.mark.parametrize(
    "emulator_options", [{"faults": Faults({"update": FaultConfig(conflict_rate=1.0)})}]
)
def test_a_failed_update_is_reported(emu: Emulator, conn: list[str]) -> None:
    fleet(emu)
    failed = no_key(
        asyncbyok("rotate", "--from-key-env", "LEAKED", "--to-key-env", "NEW",
                  "--workspace-id", WS[2], "--yes", *conn, env=KEYS)
    )  # fmt: skip
    assert failed.code == 1
    assert "failed                 1" in failed.stdout
    assert "Failures" in failed.stdout
    assert "ConflictError: 409" in failed.stdout


BAD: list[tuple[list[str], dict[str, str], str]] = [
    (["find-key", "--key-env", "LABEL"], {"LABEL": "sk-...AbCd"}, "--key-env: the key is a label"),
    (["find-key", "--key-env", "P"], {"P": "openai"}, "is a provider slug, not a raw key"),
    (["find-key", "--key-env", "LEAKED", "--provider", LEAKED], KEYS, "--provider: looks like"),
    (["find-key", "--key-env", "LEAKED", "--workspace-id", "ws1"], KEYS, "--workspace-id: must be"),
    (
        ["find-key", "--key-env", "LEAKED", "--workspace-id", LEAKED],
        KEYS,
        "or 'default' (the value",
    ),
    (["find-key"], KEYS, "a raw key is needed"),
    (["rotate", "--from-key-env", "LEAKED"], KEYS, "give the new key"),
    (
        ["rotate", "--from-key-env", "LEAKED", "--to-key-env", "NEW", "--disable"],
        KEYS,
        "or --disable",
    ),
    (["rotate", "--from-key-env", "LEAKED", "--to-key-env", "LEAKED"], KEYS, "is the leaked key"),
    (["rotate", "--from-key-stdin", "--to-key-stdin"], KEYS, "only one key can come from"),
    (
        [
            "rotate",
            "--from-key-env",
            "NEW",
            "--to-key-env",
            "LEAKED",
            "--manifest",
            "m.yaml",
            "--workspace-id",
            WS[0],
        ],
        KEYS,
        "exclude each other",
    ),
]


@pytest.mark.parametrize(("args", "env", "message"), BAD)
def test_bad_input_is_refused_before_anything_is_sent(
    emu: Emulator, conn: list[str], args: list[str], env: dict[str, str], message: str
) -> None:
    result = no_key(asyncbyok(*args, "--json", *conn, env=env))
    assert result.code == 2
    assert message in result.stderr
    assert result.json()["error"]["exit_code"] == 2
    assert emu.received == []


def test_every_command_line_prints_one_json_document(emu: Emulator, conn: list[str]) -> None:
    fleet(emu)
    runs: list[Any] = [
        ["find-key", "--key-env", "LEAKED", *EVERYWHERE],
        ["rotate", "--from-key-env", "LEAKED", "--disable", "--workspace-id", WS[0]],
        ["rotate", "--from-key-env", "LEAKED", "--disable", "--workspace-id", WS[0], "--yes"],
    ]
    for args in runs:
        result = no_key(asyncbyok(*args, "--json", *conn, env=KEYS))
        assert isinstance(result.json(), dict)


@pytest.mark.parametrize(
    "emulator_options", [{"faults": Faults({"update": FaultConfig(latency=0.05)})}]
)
def test_ctrl_c_mid_rotate_says_what_changed_and_running_again_is_safe(
    emu: Emulator, conn: list[str]
) -> None:
    async def seed() -> None:
        async with sdk.Client(api_key=emu.management_key, base_url=emu.base_url) as client:
            requests = [
                sdk.CreateBYOKKeyRequest(provider="openai", key=LEAKED, name=f"k{i:02d}")
                for i in range(60)
            ]
            assert all(r.ok for r in await client.byok.create_many(requests))

    asyncio.run(seed())
    rotate = ["rotate", "--from-key-env", "LEAKED", "--to-key-env", "NEW", "--yes", *conn]
    process = subprocess.Popen(
        [*command(), *rotate, "--concurrency", "2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean_env(KEYS),
    )
    deadline = time.monotonic() + 30
    while sum(d == digest_key(NEW) for d in digests(emu).values()) < 5:
        assert time.monotonic() < deadline, "the rotation did not start"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    interrupted = no_key(Result(process.returncode, stdout, stderr))
    assert interrupted.code == 130
    error = interrupted.json()["error"]  # one document: json.loads refuses more
    said = re.fullmatch(
        r"interrupted after (\d+) of 60 \((\d+) rotated\); running it again is safe: it "
        r"finds only the credentials still on the old key",
        error["message"],
    )
    assert said is not None, error["message"]
    assert 5 <= int(said.group(2)) < 60
    rotated = {r.id for r in emu.store.live() if r.key_digest == digest_key(NEW)}
    assert set(error["result"]["changed"]) <= rotated  # what it says it changed, it did
    assert "KeyboardInterrupt" not in interrupted.stderr

    again = no_key(asyncbyok(*rotate, "--json", env=KEYS))
    assert again.code == 0, again.stderr
    changed = set(again.json()["result"]["changed"])
    assert not changed & set(error["result"]["changed"])  # nothing it said it did is redone
    # Only what was left: the count above may have missed the first run's last updates (at
    # most --concurrency 2), still in the server when it ended, that landed afterwards.
    assert 60 - len(rotated) - 2 <= len(changed) <= 60 - len(rotated)
    assert set(digests(emu).values()) == {digest_key(NEW)}


def test_unreadable_items_are_said_and_listed() -> None:
    """What the commands make of items the server listed that could not be read (the SDK
    test serves such a listing; here, what is printed of it)."""
    from asyncbyok import BYOKKey, KeyMatches
    from asyncbyok.cli.leak_output import found_json, undetermined_notes
    from asyncbyok.models import UndecodableItem

    tiny = BYOKKey(id="00000000-0000-4000-8000-000000000001", provider="openai", label="...")
    broken = UndecodableItem(index=3, raw={"id": "k-9"}, error="required field missing")
    found = KeyMatches((), (tiny,), 2, (None,), None, (broken,))
    notes = undetermined_notes(found, changed=True)
    assert notes[0].startswith("1 credential(s) have a label too short to tell")
    assert notes[1] == (
        "1 item(s) the server listed could not be read as credentials (k-9): they may "
        "carry the key, check them; they are not changed."
    )
    document = found_json(found)
    assert document["unreadable"] == [{"id": "k-9", "error": "required field missing"}]
    assert [k["id"] for k in document["undetermined"]] == [tiny.id]


def test_debug_logs_of_a_rotation_hold_no_key(emu: Emulator, conn: list[str]) -> None:
    """--debug logs each request: the PATCH bodies carry the new key, never shown."""
    ids = fleet(emu)
    for args in (
        ["find-key", "--key-env", "LEAKED", *EVERYWHERE],
        ["rotate", "--from-key-env", "LEAKED", "--to-key-env", "NEW", *EVERYWHERE,
         "--exclude", ids["lookalike"], "--exclude", LEAKED, "--yes"],
    ):  # fmt: skip
        result = no_key(asyncbyok(*args, "--debug", *conn, env=KEYS))
        assert result.code == 0, result.stderr
    assert "--exclude: not among the credentials found: <redacted>" in result.stderr
    assert "PATCH" in result.stderr  # the requests were logged
    assert digests(emu)["prod"] == digest_key(NEW)
