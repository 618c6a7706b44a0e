"""The middlewares: authentication, request ids, body reading, error envelope, counters."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from asyncbyok.emulator import Emulator

from .conftest import VALID_KEY, Api

OPERATIONS = [
    ("GET", "/byok", None),
    ("POST", "/byok", {"provider": "openai", "key": VALID_KEY}),
    ("GET", "/byok/11111111-2222-3333-4444-555555555555", None),
    ("PATCH", "/byok/11111111-2222-3333-4444-555555555555", {"name": "x"}),
    ("DELETE", "/byok/11111111-2222-3333-4444-555555555555", None),
]


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
@pytest.mark.parametrize(
    ("authorization", "status", "message"),
    [
        (None, 401, "Missing Authentication header"),
        ("Basic abc", 401, "Missing Authentication header"),
        ("Bearer ", 401, "Missing Authentication header"),
        ("Bearer sk-or-v1-unknown", 401, "Invalid API key"),
        ("api-key", 403, "Only management keys can perform this operation"),
    ],
)
async def test_management_key_required(
    emu: Emulator,
    api: Api,
    method: str,
    path: str,
    body: Any,
    authorization: str | None,
    status: int,
    message: str,
) -> None:
    auth = f"Bearer {emu.api_key}" if authorization == "api-key" else authorization
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    reply = await api.call(method, path, auth=auth, **kwargs)
    assert reply.body == {"error": {"code": status, "message": message}}
    assert reply.status == status
    assert emu.received == []  # refused before the handler
    assert emu.store.records == []


async def test_bearer_scheme_is_case_insensitive(emu: Emulator, api: Api) -> None:
    reply = await api.call("GET", "/byok", auth=f"bearer {emu.management_key}")
    assert reply.status == 200


async def test_every_response_has_a_fresh_request_id(api: Api) -> None:
    replies = [
        await api.list(),
        await api.call("GET", "/byok", auth=None),
        await api.get("nope"),
        await api.call("GET", "/elsewhere"),
    ]
    ids = [r.headers["X-Request-Id"] for r in replies]
    assert all(i.startswith("req_") and len(i) == 20 for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    ("headers", "data", "message"),
    [
        ({"Content-Type": "text/plain"}, b'{"provider":"openai","key":"k"}', "Content-Type"),
        ({}, b'{"provider":"openai","key":"k"}', "Content-Type"),
        ({"Content-Type": "application/json"}, b"", "not valid JSON"),
        ({"Content-Type": "application/json"}, b"{", "not valid JSON"),
        ({"Content-Type": "application/json"}, b'{"provider": NaN}', "not valid JSON"),
        ({"Content-Type": "application/json"}, b'{"key": "\xff"}', "not valid JSON"),
        ({"Content-Type": "application/json"}, b"[" * 100_000, "not valid JSON"),
        ({"Content-Type": "application/json"}, b"null", "$: must be a JSON object"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_unreadable_bodies_are_400(
    emu: Emulator, api: Api, method: str, headers: dict[str, str], data: bytes, message: str
) -> None:
    created = await api.create()
    path = "/byok" if method == "POST" else f"/byok/{created['id']}"
    reply = await api.call(method, path, data=data, headers=headers)
    assert reply.status == 400
    assert message in reply.message
    assert len(emu.store.live()) == 1


async def test_charset_parameter_is_fine(api: Api) -> None:
    reply = await api.call(
        "POST",
        "/byok",
        data=b'{"provider":"openai","key":"sk-x"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert reply.status == 201


async def test_unknown_route_and_method_use_the_error_shape(api: Api) -> None:
    missing = await api.call("GET", "/byok/a/b")
    assert missing.body == {"error": {"code": 404, "message": "Resource not found"}}
    wrong = await api.call("PUT", "/byok")
    assert (wrong.status, wrong.body["error"]["code"]) == (405, 405)
    assert set(wrong.headers["Allow"].split(",")) == {"GET", "POST"}


async def test_too_large_body_is_413(emu: Emulator, api: Api) -> None:
    body = {"provider": "openai", "key": VALID_KEY, "name": "n" * (2 * 1024 * 1024)}
    # A BytesIO: aiohttp warns (ResourceWarning) about sending megabytes of raw bytes.
    data = io.BytesIO(json.dumps(body).encode())
    headers = {"Content-Type": "application/json"}
    reply = await api.call("POST", "/byok", data=data, headers=headers)
    assert (reply.status, reply.body["error"]["code"]) == (413, 413)
    assert emu.store.records == []


async def test_a_bug_is_a_documented_500_and_is_counted(
    emu: Emulator, api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(emu.store, "create", broken)
    with caplog.at_level(logging.ERROR, logger="asyncbyok.emulator"):
        reply = await api.call("POST", "/byok", json={"provider": "openai", "key": VALID_KEY})
    assert reply.body == {"error": {"code": 500, "message": "Internal Server Error"}}
    assert emu.stats.unexpected_errors == 1
    assert "boom" in caplog.text
    assert VALID_KEY not in caplog.text
    emu.stats.unexpected_errors = 0  # seen; the fixture checks the counter at teardown


async def test_received_shows_what_went_on_the_wire(emu: Emulator, api: Api) -> None:
    created = await api.create(name=None)
    await api.create()
    await api.list()
    await api.get(created["id"])
    await api.delete(created["id"])
    await api.call("POST", "/byok", data=b"{", headers={"Content-Type": "application/json"})
    assert emu.received == [
        ("create", {"provider": "openai", "key": "<redacted>", "name": None}),
        ("create", {"provider": "openai", "key": "<redacted>"}),
        ("list", None),
        ("get", None),
        ("delete", None),
        ("create", None),
    ]
    operation, body = emu.received[0]
    assert (operation, body["name"]) == ("create", None)


async def test_stats_and_reset(emu: Emulator, api: Api) -> None:
    created = await api.create()
    await api.list()
    await api.get(created["id"])
    await api.get("nope")
    await api.call("GET", "/byok", auth=None)
    assert emu.stats.requests == {"create": 1, "list": 2, "get": 2}
    assert emu.stats.responses == {201: 1, 200: 2, 404: 1, 401: 1}
    stats = emu.stats
    emu.reset()
    assert emu.stats is stats
    assert (stats.requests, stats.responses, stats.faults) == ({}, {}, {})
    assert emu.store.records == []
    assert emu.received == []
    assert (await api.list()).body["total_count"] == 0
