"""``client.byok.find_by_key``: the credentials whose label is consistent with a leaked
key, across workspaces, against the emulator on loopback; a look-alike (another key with
the same visible ends) is reported with them, as the labels cannot tell them apart; and
arguments that could find nothing are refused before anything is sent."""

from __future__ import annotations

import asyncio

import pytest

from asyncbyok import Client, KeyMatches, SyncClient, ValidationError
from asyncbyok.emulator import Emulator

from .canary import exception_leaks
from .conftest import FAST_RETRY, client_for

LEAKED = "sk-proj-LEAKED-0123456789-AbCd"
LOOKALIKE = "sk-proj-other-9876543210-AbCd"  # same first 3 and last 4: the same label
OTHER = "sk-proj-other-9876543210-WxYz"
TINY = "QZ"  # its label shows nothing: "..." (and it is in no answer the scrub could mangle)
WS = [f"0b7f3a52-1c1e-4d55-9a57-6b0f5e1a000{i}" for i in (1, 2, 3)]


async def _fleet(client: Client) -> dict[str, str]:
    """Three workspaces: the leaked key in each, a look-alike, other keys, a tiny one."""
    made: dict[str, str] = {}
    plan = [
        ("prod", "openai", LEAKED, WS[0]),
        ("other", "openai", OTHER, WS[0]),
        ("tiny", "openai", TINY, WS[0]),
        ("backup", "anthropic", LEAKED, WS[1]),
        ("lookalike", "openai", LOOKALIKE, WS[1]),
        ("eu", "openai", LEAKED, WS[2]),
        ("default", "openai", LEAKED, None),
    ]
    for name, provider, key, workspace in plan:
        where = {} if workspace is None else {"workspace_id": workspace}
        created = await client.byok.create(provider=provider, key=key, name=name, **where)
        made[name] = created.id
    return made


async def test_finds_the_key_across_workspaces_with_the_lookalike(
    client: Client, emulator: Emulator
) -> None:
    made = await _fleet(client)
    before = len(emulator.received)
    found = await client.byok.find_by_key(LEAKED, workspace_ids=WS)
    assert isinstance(found, KeyMatches)
    # The look-alike is reported with the real ones: a label shows only the key's ends.
    assert sorted(k.name for k in found) == ["backup", "eu", "lookalike", "prod"]
    assert {k.id for k in found} == {made[n] for n in ("backup", "eu", "lookalike", "prod")}
    assert [k.name for k in found.undetermined] == ["tiny"]
    assert (len(found), found.searched, found.workspaces, found.provider) == (4, 6, tuple(WS), None)
    assert len(emulator.received) - before == 3  # one listing (one page) per workspace
    assert LEAKED not in repr(found)


async def test_where_it_looks(client: Client) -> None:
    await _fleet(client)
    default = await client.byok.find_by_key(LEAKED)
    assert ([k.name for k in default], default.workspaces) == (["default"], (None,))
    openai = await client.byok.find_by_key(LEAKED, provider="openai", workspace_ids=WS[:2])
    assert sorted(k.name for k in openai) == ["lookalike", "prod"]  # not anthropic's backup
    both = await client.byok.find_by_key(LEAKED, workspace_ids=[None, WS[2], WS[2].upper()])
    assert sorted(k.name for k in both) == ["default", "eu"]  # each workspace searched once
    assert both.workspaces == (None, WS[2])
    raw = await client.byok.with_raw_response.find_by_key(OTHER, workspace_ids=[WS[0]])
    assert ([k.name for k in raw.parsed], raw.status, raw.method) == (["other"], 200, "GET")


async def test_a_credential_stored_elsewhere_just_before_is_found(
    client: Client, emulator: Emulator
) -> None:
    """Another process's create is not in this client's kept listings: the search lists
    anew, however recent a listing of the workspace is."""
    await client.byok.ensure(provider="openai", name="x", key=OTHER, max_age=600)  # kept
    async with client_for(emulator) as elsewhere:
        await elsewhere.byok.create(provider="openai", key=LEAKED, name="new")
    await client.byok.get_by_name("x")
    found = await client.byok.find_by_key(LEAKED, provider="openai")
    assert [k.name for k in found] == ["new"]


SWAPPED = [
    # (raw_key, keywords, the paths refused)
    ("openai", {"provider": LEAKED}, ["raw_key", "provider"]),
    ("sk-...AbCd", {}, ["raw_key"]),  # a label given as the key
    ("sk-…AbCd", {}, ["raw_key"]),
    (WS[0], {"workspace_ids": [LEAKED]}, ["raw_key", "workspace_ids[0]"]),
    (LEAKED, {"workspace_ids": WS[0]}, ["workspace_ids"]),  # one string, not a list
    (LEAKED, {"workspace_ids": []}, ["workspace_ids"]),
    (LEAKED, {"workspace_ids": [None, "ws-1"]}, ["workspace_ids[1]"]),
    (LEAKED, {"provider": "sk-...AbCd"}, ["provider"]),
    (LEAKED + "\n", {}, ["raw_key"]),  # read from a file with its newline
    ("   ", {}, ["raw_key"]),
    ("AbCd", {}, ["raw_key"]),  # the visible end only
    (None, {}, ["raw_key"]),
]


@pytest.mark.parametrize(("raw_key", "keywords", "paths"), SWAPPED)
async def test_arguments_that_could_find_nothing_are_refused_unshown(
    client: Client,
    emulator: Emulator,
    raw_key: object,
    keywords: dict[str, object],
    paths: list[str],
) -> None:
    with pytest.raises(ValidationError) as refused:
        await client.byok.find_by_key(raw_key, **keywords)  # type: ignore[arg-type]
    assert refused.value.paths == paths
    assert refused.value.subject == "find_by_key"
    assert exception_leaks(refused.value, [LEAKED], frame_locals=False) == []
    assert emulator.received == []


async def test_every_refusal_says_why() -> None:
    client = Client(api_key="k", base_url="http://127.0.0.1:1/api/v1")
    messages = []
    for raw_key, keywords, _ in SWAPPED[:5]:
        with pytest.raises(ValidationError) as refused:
            await client.byok.find_by_key(raw_key, **keywords)  # type: ignore[arg-type]
        messages.append(str(refused.value))
    assert "is a provider slug, not a raw key: arguments swapped?" in messages[0]
    assert "looks like a raw key, not a provider" in messages[0]
    assert "is a label (the masked form the API shows), not a raw key" in messages[1]
    assert "is an id, not a raw key" in messages[3]
    assert "must be a list of workspace ids, not one string" in messages[4]
    await client.aclose()


def test_find_by_key_blocking(emulator_thread: Emulator) -> None:
    emu = emulator_thread
    with SyncClient(api_key=emu.management_key, base_url=emu.base_url, retry=FAST_RETRY) as sync:
        sync.byok.create(provider="openai", key=LEAKED, name="prod", workspace_id=WS[0])
        found = sync.byok.find_by_key(LEAKED, workspace_ids=[None, WS[0]])
        assert [k.name for k in found] == ["prod"]
        assert sync.byok.with_raw_response.find_by_key(LEAKED).parsed.matches == ()


@pytest.fixture
def emulator_thread() -> object:
    with Emulator(seed=9, shutdown_timeout=0.1).run_in_thread() as emu:
        yield emu


def test_concurrent_searches_of_a_workspace_share_its_listing() -> None:
    async def main() -> int:
        async with Emulator(seed=2) as emu, client_for(emu) as client:
            await client.byok.create(provider="openai", key=LEAKED, name="a", workspace_id=WS[0])
            before = len(emu.received)
            results = await asyncio.gather(
                *(client.byok.find_by_key(LEAKED, workspace_ids=[WS[0]]) for _ in range(5))
            )
            assert all(len(r) == 1 for r in results)
            return len(emu.received) - before

    assert asyncio.run(main()) == 1


async def test_items_that_cannot_be_read_are_reported_not_skipped() -> None:
    """An item listed without a label might carry the key: it is reported apart, not
    dropped. The emulator stores only valid credentials, so a server purpose-built for
    this one answer lists it, on loopback."""
    from aiohttp import web

    from asyncbyok import BYOKKey, codec

    good = codec.unstructure(
        BYOKKey(id="00000000-0000-4000-8000-000000000001", provider="openai", label="sk-...AbCd")
    )
    broken = {"id": "00000000-0000-4000-8000-000000000002", "provider": "openai"}

    async def listing(request: web.Request) -> web.Response:
        return web.json_response({"data": [good, broken], "total_count": 2})

    app = web.Application()
    app.router.add_get("/api/v1/byok", listing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        base_url = f"http://127.0.0.1:{port}/api/v1"
        # A realistic management key: the client scrubs it from every answer it reads.
        management = "sk-or-v1-mgmt-leaks-0123456789"
        async with Client(api_key=management, base_url=base_url, retry=FAST_RETRY) as client:
            found = await client.byok.find_by_key(LEAKED)
    finally:
        await runner.cleanup()
    assert [k.id for k in found] == [good["id"]]
    assert [item.id for item in found.unreadable] == [broken["id"]]
    assert "label" in found.unreadable[0].error
