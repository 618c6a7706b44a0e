"""Fixtures: an emulator served in the test's loop, and a raw HTTP helper that checks
every response it gets against the OpenAPI excerpt (see ``conformance.py``)."""

from __future__ import annotations

import http.client
import json as jsonlib
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import attrs
import pytest

from asyncbyok.emulator import Emulator

from .conformance import Checked, check_response

VALID_KEY = "sk-proj-0000000000AbCd"


@attrs.frozen
class Reply:
    status: int
    headers: Mapping[str, str]
    body: Any
    checked: Checked | None = None

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def message(self) -> str:
        message: str = self.body["error"]["message"]
        return message


_NO_BODY: Any = object()


class Api:
    """Raw requests to an emulator; every answer is checked for conformance on the way."""

    def __init__(self, session: aiohttp.ClientSession, emu: Emulator) -> None:
        self.session = session
        self.emu = emu
        self.checked: list[tuple[str, str, int, Checked]] = []

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = _NO_BODY,
        data: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: str | None = "management",
        timeout: float | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if auth == "management":
            all_headers["Authorization"] = f"Bearer {self.emu.management_key}"
        elif auth is not None:
            all_headers["Authorization"] = auth
        if json is not _NO_BODY:
            data = jsonlib.dumps(json).encode()
            all_headers.setdefault("Content-Type", "application/json")
        url = self.emu.url + "/api/v1" + path
        client_timeout = aiohttp.ClientTimeout(total=timeout) if timeout else None
        async with self.session.request(
            method, url, data=data, params=params, headers=all_headers, timeout=client_timeout
        ) as response:
            raw = await response.read()
            content_type = response.content_type
            status, reply_headers = response.status, response.headers
        checked = None
        if self.emu.api_version != "oldest":  # the oldest age predates the excerpt
            checked = check_response(method, "/api/v1" + path, params, status, content_type, raw)
            self.checked.append((method, path, status, checked))
        return Reply(status, reply_headers, jsonlib.loads(raw), checked)

    async def create(self, **fields: Any) -> dict[str, Any]:
        body = {"provider": "openai", "key": VALID_KEY, **fields}
        reply = await self.call("POST", "/byok", json=body)
        assert reply.status == 201, reply.body
        created: dict[str, Any] = reply.data
        return created

    async def list(self, **params: Any) -> Reply:
        return await self.call("GET", "/byok", params={k: str(v) for k, v in params.items()})

    async def get(self, key_id: str) -> Reply:
        return await self.call("GET", f"/byok/{key_id}")

    async def update(self, key_id: str, **fields: Any) -> Reply:
        return await self.call("PATCH", f"/byok/{key_id}", json=fields)

    async def delete(self, key_id: str) -> Reply:
        return await self.call("DELETE", f"/byok/{key_id}")


@pytest.fixture
def emulator_kwargs() -> dict[str, Any]:
    """Options of the ``emu`` fixture; tests override it with ``parametrize`` or a fixture."""
    return {"seed": 1234}


@pytest.fixture
async def emu(emulator_kwargs: dict[str, Any]) -> AsyncIterator[Emulator]:
    async with Emulator(**emulator_kwargs) as emulator:
        yield emulator
        assert emulator.stats.unexpected_errors == 0


@pytest.fixture
async def api(emu: Emulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, emu)


def sync_call(
    emu: Emulator,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str, bytes]:
    """One request with http.client (for the thread-based emulator): status, type, body."""
    split = urlsplit(emu.url)
    target = "/api/v1" + path + (f"?{urlencode(query)}" if query else "")
    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        raw = response.read()
        content_type = response.headers.get_content_type()
        return response.status, content_type, raw
    finally:
        connection.close()
