"""Credentials by name (``asyncbyok.names``): ``client.byok.list(name=...)``, an exact match
made here over every page, and ``client.byok.get_by_name(...)``, one credential or an
error that says why not; against the emulator on loopback."""

from __future__ import annotations

import pytest

from asyncbyok import Client, DuplicateNameError, NotFoundError, ValidationError
from asyncbyok.emulator import Emulator

RAW = "sk-proj-names-0123456789-AbCd"
WS = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"
# Near misses: another case, a space, a prefix. Only "prod" itself is prod.
NAMES = ["prod", "Prod", "prod ", "prod-eu", "staging", "prod", "dev", "prod"]


async def _seed(client: Client, provider: str = "openai", workspace: str | None = None) -> None:
    for name in NAMES:
        if workspace is None:
            await client.byok.create(provider=provider, key=RAW, name=name)
        else:
            await client.byok.create(provider=provider, key=RAW, name=name, workspace_id=workspace)


async def test_list_by_name_is_an_exact_match_over_every_page(client: Client) -> None:
    await _seed(client)
    iterated = [k async for k in client.byok.list(name="prod", limit=2)]
    assert [k.name for k in iterated] == ["prod"] * 3  # was a TypeError: no name= argument
    assert len({k.id for k in iterated}) == 3
    assert [k.name async for k in client.byok.list(name="Prod")] == ["Prod"]
    assert [k async for k in client.byok.list(name="nobody")] == []


async def test_an_awaited_page_keeps_the_servers_offsets(client: Client) -> None:
    await _seed(client)
    page = await client.byok.list(name="prod", limit=3)
    assert [k.name for k in page] == ["prod"]  # of prod, Prod, "prod "
    assert (page.total_count, page.filtered_out, page.item_count) == (8, 2, 3)
    walked, pages = [k.name for k in page], 1
    following = await page.next_page()
    while following is not None:  # next pages are filtered too, and start where it ended
        walked += [k.name for k in following]
        pages += 1
        following = await following.next_page()
    assert (walked, pages) == (["prod"] * 3, 3)
    raw = await client.byok.with_raw_response.list(name="dev", limit=100)
    assert (raw.status, [k.name for k in raw.parsed]) == (200, ["dev"])


async def test_get_by_name_finds_the_one_credential(client: Client, emulator: Emulator) -> None:
    await _seed(client)
    only = await client.byok.create(provider="anthropic", key=RAW, name="research")
    assert await client.byok.get_by_name("research") == only
    assert await client.byok.get_by_name("research", provider="anthropic") == only
    raw = await client.byok.with_raw_response.get_by_name("staging", provider="openai")
    assert (raw.parsed.name, raw.status, raw.method) == ("staging", 200, "GET")
    assert raw.request_id is not None  # the page that held it
    there = await client.byok.create(provider="openai", key=RAW, name="ws", workspace_id=WS)
    assert await client.byok.get_by_name("ws", workspace_id=WS) == there
    with pytest.raises(NotFoundError):
        await client.byok.get_by_name("ws")  # not in the default workspace


async def test_get_by_name_raises_when_absent_or_ambiguous(client: Client) -> None:
    await _seed(client)
    await client.byok.create(provider="anthropic", key=RAW, name="staging")
    with pytest.raises(NotFoundError) as absent:
        await client.byok.get_by_name("Staging", provider="openai")
    assert absent.value.status_code == 404
    assert str(absent.value).startswith(
        "404 no credential named 'Staging' of openai in the default workspace (GET "
    )
    with pytest.raises(DuplicateNameError) as several:
        await client.byok.get_by_name("prod")
    assert [k.name for k in several.value.keys] == ["prod"] * 3
    assert several.value.provider == "openai"
    with pytest.raises(DuplicateNameError) as across:
        await client.byok.get_by_name("staging")  # one openai, one anthropic
    assert across.value.provider == "anthropic or openai"
    assert str(across.value).startswith("2 anthropic or openai credentials are named 'staging'")
    found = await client.byok.get_by_name("staging", provider="anthropic")  # a provider decides
    assert found.provider == "anthropic"


async def test_concurrent_lookups_of_one_workspace_share_one_listing(
    client: Client, emulator: Emulator
) -> None:
    import asyncio

    await _seed(client)
    before = len(emulator.received)
    found = await asyncio.gather(*(client.byok.get_by_name(n) for n in ("dev", "staging")))
    assert [k.name for k in found] == ["dev", "staging"]
    assert len(emulator.received) - before == 1  # one page of 8: one request for both


@pytest.mark.parametrize(
    ("arguments", "path", "message"),
    [
        ({"name": ""}, "name", "must be a non-empty string"),
        ({"name": None}, "name", "must be a non-empty string"),
        ({"name": RAW}, "name", "looks like a raw key"),
        ({"name": "prod", "provider": RAW}, "provider", "looks like a raw key"),
        ({"name": "prod", "provider": ""}, "provider", "must be a provider slug"),
        ({"name": "prod", "workspace_id": "ws-1"}, "workspace_id", "not 'ws-1'"),
        ({"name": "prod", "workspace_id": RAW}, "workspace_id", "(the value is not shown)"),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    client: Client, emulator: Emulator, arguments: dict[str, object], path: str, message: str
) -> None:
    name = arguments.pop("name")
    with pytest.raises(ValidationError) as refused:
        await client.byok.get_by_name(name, **arguments)  # type: ignore[arg-type]
    assert refused.value.paths == [path]
    assert message in str(refused.value)
    assert RAW not in str(refused.value)
    if path == "name":
        with pytest.raises(ValidationError, match=message):
            client.byok.list(name=name)  # type: ignore[arg-type]  # checked at once
    assert emulator.received == []
