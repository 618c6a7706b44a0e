"""The five operations: bodies, defaults, pagination, filters, soft delete, rotation, ages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from asyncbyok.emulator import Emulator, digest_key

from .conftest import VALID_KEY, Api

HASH = "f01d52606dc8f0a8303a7b5cc3fa07109c2e346cec7c0a16b40de462992ce943"
WORKSPACE = "550E8400-E29B-41D4-A716-446655440000"  # upper case on purpose


async def test_create_returns_201_with_defaults_and_a_masked_label(emu: Emulator, api: Api) -> None:
    reply = await api.call("POST", "/byok", json={"provider": "openai", "key": VALID_KEY})
    assert reply.status == 201
    data = reply.data
    assert uuid.UUID(data["id"]).version == 4
    assert data["created_at"].endswith("Z")
    assert data["label"] == "sk-...AbCd"
    assert VALID_KEY not in str(reply.body)
    assert {k: v for k, v in data.items() if k not in ("id", "created_at")} == {
        "provider": "openai",
        "label": "sk-...AbCd",
        "workspace_id": emu.default_workspace_id,
        "name": None,
        "disabled": False,
        "is_fallback": False,
        "allowed_models": None,
        "allowed_user_ids": None,
        "allowed_api_key_hashes": None,
        "sort_order": 0,
        "declared_region": None,
        "declared_zdr": None,
        "is_byok_only": False,
        "is_required": False,
    }
    [record] = emu.store.records
    assert record.key_digest == digest_key(VALID_KEY)
    assert emu.received == [("create", {"provider": "openai", "key": "<redacted>"})]


async def test_create_keeps_every_given_field(api: Api) -> None:
    fields: dict[str, Any] = {
        "name": "prod",
        "allowed_models": ["openai/gpt-4o"],
        "allowed_user_ids": ["u1"],
        "allowed_api_key_hashes": [HASH],
        "disabled": True,
        "is_fallback": True,
        "workspace_id": WORKSPACE,
        "declared_region": "europe",
        "declared_zdr": True,
        "is_required": True,
    }
    data = await api.create(**fields)
    assert {k: data[k] for k in fields} == {**fields, "workspace_id": WORKSPACE.lower()}


async def test_get_then_soft_delete(emu: Emulator, api: Api) -> None:
    created = await api.create()
    assert (await api.get(created["id"])).data == created
    assert (await api.get(created["id"].upper())).data == created
    deleted = await api.delete(created["id"])
    assert (deleted.status, deleted.body) == (200, {"deleted": True})
    for reply in (
        await api.get(created["id"]),
        await api.delete(created["id"]),
        await api.update(created["id"], name="x"),
    ):
        assert reply.status == 404
        assert reply.body == {"error": {"code": 404, "message": "Resource not found"}}
    assert (await api.list()).body == {"data": [], "total_count": 0}
    assert [r.deleted for r in emu.store.records] == [True]


@pytest.mark.parametrize("key_id", ["nope", "11111111-2222-3333-4444-555555555555", "1" * 36])
async def test_unknown_or_malformed_id_is_404(api: Api, key_id: str) -> None:
    for reply in (await api.get(key_id), await api.delete(key_id), await api.update(key_id)):
        assert reply.status == 404


async def test_pagination_total_count_and_order(api: Api) -> None:
    ids = [(await api.create(name=f"k{i}"))["id"] for i in range(7)]
    pages = [await api.list(limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [[k["id"] for k in p.data] for p in pages] == [ids[0:3], ids[3:6], ids[6:], []]
    assert {p.body["total_count"] for p in pages} == {7}
    assert [k["id"] for k in (await api.list()).data] == ids


async def test_default_limit_is_50_and_100_is_the_most(api: Api) -> None:
    for _ in range(55):
        await api.create()
    assert len((await api.list()).data) == 50
    assert len((await api.list(limit=100)).data) == 55
    assert (await api.list(limit=101)).status == 400


async def test_filters_by_workspace_and_provider(emu: Emulator, api: Api) -> None:
    a = await api.create()
    b = await api.create(provider="anthropic")
    c = await api.create(workspace_id=WORKSPACE)
    assert [k["id"] for k in (await api.list()).data] == [a["id"], b["id"]]
    assert [k["id"] for k in (await api.list(provider="anthropic")).data] == [b["id"]]
    in_other = await api.list(workspace_id=WORKSPACE)
    assert ([k["id"] for k in in_other.data], in_other.body["total_count"]) == ([c["id"]], 1)
    assert (await api.list(workspace_id=WORKSPACE, provider="anthropic")).body["total_count"] == 0
    assert (await api.list(workspace_id=emu.default_workspace_id)).body["total_count"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"limit": "+5"}, "limit"),
        ({"limit": "\u0665"}, "limit"),  # an Arabic-Indic digit, which int() would take
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"workspace_id": "nope"}, "workspace_id"),
        ({"provider": "not-a-provider"}, "provider"),
    ],
)
async def test_bad_query_is_400(api: Api, params: dict[str, str], field: str) -> None:
    reply = await api.call("GET", "/byok", params=params)
    assert reply.status == 400
    assert reply.message.startswith(f"{field}: ")


async def test_huge_offset_is_an_empty_page(api: Api) -> None:
    await api.create()
    reply = await api.list(offset="9" * 40)
    assert reply.body == {"data": [], "total_count": 1}


async def test_sort_order_per_provider_in_creation_order(api: Api) -> None:
    orders = [
        (await api.create(provider=p))["sort_order"]
        for p in ("openai", "openai", "anthropic", "openai", "anthropic")
    ]
    assert orders == [0, 1, 0, 2, 1]


async def test_update_changes_only_what_is_given(emu: Emulator, api: Api) -> None:
    created = await api.create(name="prod", allowed_models=["a"], disabled=True)
    reply = await api.update(created["id"], allowed_models=None, declared_zdr=False)
    assert reply.status == 200
    data = reply.data
    assert (data["name"], data["allowed_models"], data["disabled"]) == ("prod", None, True)
    assert data["declared_zdr"] is False
    assert (await api.update(created["id"])).data == data  # an empty PATCH changes nothing
    assert (await api.update(created["id"], name=None)).data["name"] is None
    assert emu.received[-1] == ("update", {"name": None})


async def test_rotation_regenerates_the_label(emu: Emulator, api: Api) -> None:
    created = await api.create()
    digest = emu.store.records[0].key_digest
    reply = await api.update(created["id"], key="sk-proj-rotated-0000WxYz")
    assert reply.data["label"] == "sk-...WxYz"
    assert reply.data["id"] == created["id"]
    assert emu.store.records[0].key_digest == digest_key("sk-proj-rotated-0000WxYz") != digest
    assert emu.received[-1] == ("update", {"key": "<redacted>"})


@pytest.mark.parametrize("raw", ["sk-proj-0000AbCd\n", "  sk-proj-0000AbCd", " "])
async def test_keys_with_white_space_are_stored_as_sent(emu: Emulator, api: Api, raw: str) -> None:
    # The client refuses such keys (a newline from a file is a mistake), but the API takes
    # any non-empty key, and so does the emulator: it plays the server.
    created = await api.create(key=raw)
    assert emu.store.records[0].key_digest == digest_key(raw)
    reply = await api.update(created["id"], key=raw + " ", name="padded")
    assert reply.status == 200
    assert emu.store.records[0].key_digest == digest_key(raw + " ")
    assert (await api.update(created["id"], key="")).status == 400


async def test_byok_only_and_fallback_exclude_each_other_after_merging(api: Api) -> None:
    created = await api.create(is_fallback=True)
    reply = await api.update(created["id"], is_byok_only=True)
    assert reply.status == 400
    assert reply.message == "is_byok_only: cannot be true together with is_fallback"
    assert (await api.get(created["id"])).data["is_byok_only"] is False
    both = await api.update(created["id"], is_byok_only=True, is_fallback=False)
    assert both.status == 200
    assert (await api.update(created["id"], is_fallback=True)).status == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"provider": "nope", "key": VALID_KEY}, "provider: unknown provider 'nope'"),
        ({"provider": "openai", "key": ""}, "key: must not be empty"),
        (
            {"provider": "openai", "key": VALID_KEY, "name": "n" * 256},
            "name: must be at most 255 characters (got 256)",
        ),
        (
            {"provider": "openai", "key": VALID_KEY, "allowed_api_key_hashes": [HASH.upper()]},
            "allowed_api_key_hashes[0]: must be 64 lower-case hex characters",
        ),
        (
            {"provider": "openai", "key": VALID_KEY, "is_byok_only": True, "is_fallback": True},
            "is_byok_only: cannot be true together with is_fallback",
        ),
        ({"provider": "openai", "key": VALID_KEY, "colour": "red"}, "colour: unknown field"),
        ({"key": VALID_KEY}, "provider: is required"),
        ({"provider": "openai", "key": VALID_KEY, "disabled": None}, "disabled: must not be null"),
        ({"provider": "openai", "key": VALID_KEY, "name": 5}, "name: must be a string, not int"),
        ({"provider": "openai", "key": VALID_KEY, "workspace_id": "w"}, "workspace_id: must be"),
        ([{"provider": "openai"}], "$: must be a JSON object"),
    ],
)
async def test_invalid_create_is_400_naming_the_field(
    emu: Emulator, api: Api, body: Any, message: str
) -> None:
    reply = await api.call("POST", "/byok", json=body)
    assert reply.status == 400
    assert message in reply.message
    assert emu.store.records == []


async def test_every_bad_field_is_listed_at_once(api: Api) -> None:
    body = {"provider": "nope", "key": "", "name": "n" * 256}
    reply = await api.call("POST", "/byok", json=body)
    assert reply.message == (
        "key: must not be empty; name: must be at most 255 characters (got 256); "
        "provider: unknown provider 'nope'"
    )


async def test_long_error_lists_are_cut(api: Api) -> None:
    body = {"provider": "openai", "key": VALID_KEY, "allowed_models": [1] * 100}
    reply = await api.call("POST", "/byok", json=body)
    assert reply.message.endswith("; and 80 more")


@pytest.mark.parametrize(
    ("emulator_kwargs", "hidden"),
    [
        (
            {"api_version": "excerpt"},
            {"declared_region", "declared_zdr", "is_byok_only", "is_required"},
        ),
        (
            {"api_version": "oldest"},
            {
                "declared_region",
                "declared_zdr",
                "is_byok_only",
                "is_required",
                "allowed_api_key_hashes",
            },
        ),
    ],
)
async def test_older_server_ages(api: Api, hidden: set[str]) -> None:
    created = await api.create(name="n")
    assert not hidden & created.keys()
    assert "allowed_models" in created
    listed = (await api.list()).data[0]
    assert not hidden & listed.keys()
    for field in sorted(hidden):
        value: Any = [HASH] if field == "allowed_api_key_hashes" else None
        if field in ("is_byok_only", "is_required"):
            value = False
        reply = await api.call(
            "POST", "/byok", json={"provider": "openai", "key": VALID_KEY, field: value}
        )
        assert (reply.status, reply.message) == (400, f"{field}: unknown field")
        patched = await api.update(created["id"], **{field: value})
        assert (patched.status, patched.message) == (400, f"{field}: unknown field")
