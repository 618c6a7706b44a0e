"""What the emulator keeps is bounded, and only authenticated clients get anything kept.

Was: the identifying headers of every request were counted before auth, so 5,000
unauthenticated requests with distinct User-Agents left 5,001 entries in
``stats.client_headers``, and ``received`` grew by one entry per request, for ever.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from asyncbyok.emulator import Emulator
from asyncbyok.emulator import context as emulator_context
from asyncbyok.emulator.app import loggable_path
from asyncbyok.emulator.context import ReceivedLog, ReceivedRequest

from .conftest import Api


async def test_unauthenticated_requests_leave_nothing_behind(api: Api, emu: Emulator) -> None:
    replies = await asyncio.gather(
        *(
            api.call("GET", "/byok", auth=auth, headers={"User-Agent": f"flood/{i}"})
            for i in range(300)
            for auth in (None, "Bearer wrong")
        )
    )
    assert {reply.status for reply in replies} == {401}
    assert emu.stats.client_headers == {}  # was: 600 distinct entries
    assert emu.received == []
    assert emu.stats.requests["list"] == 600  # still counted: that is a number


async def test_client_headers_count_at_most_so_many_values(
    api: Api, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulator_context, "MAX_CLIENT_HEADER_VALUES", 3)
    for agent in ("a", "b", "c", "d", "e", "a"):
        await api.call("GET", "/byok", headers={"User-Agent": agent})
    assert emu.stats.client_headers == {
        ("User-Agent", "a"): 2,  # seen before the limit: still counted
        ("User-Agent", "b"): 1,
        ("User-Agent", "c"): 1,
    }


@pytest.mark.parametrize("emulator_kwargs", [{"max_received": 3}])
async def test_received_keeps_the_newest(api: Api, emu: Emulator) -> None:
    for name in ("n1", "n2", "n3", "n4", "n5"):
        await api.create(name=name)
    assert [body["name"] for _, body in emu.received] == ["n3", "n4", "n5"]
    assert emu.received.maxlen == 3


def test_the_received_log_is_a_list_dropping_its_oldest() -> None:
    log = ReceivedLog(2)
    for operation in ("list", "get", "delete"):
        log.append(ReceivedRequest(operation, None))
    assert log == [("get", None), ("delete", None)]
    assert log[-1].operation == "delete"
    log.clear()
    assert log == []
    assert ReceivedLog().maxlen == 10_000
    with pytest.raises(ValueError, match="maxlen"):
        ReceivedLog(0)


@pytest.mark.parametrize("emulator_kwargs", [{"log_requests": True}])
async def test_the_request_log_has_no_key_query_or_body(
    api: Api, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="asyncbyok.emulator.requests")
    created = await api.create(name="logged")
    await api.call("GET", f"/byok/{created['id']}", params={"key": "sk-proj-QUERY-SECRET"})
    await api.call("GET", f"/byok/{emu.management_key}")  # a key where an id belongs
    lines = [r.getMessage() for r in caplog.records if r.name == "asyncbyok.emulator.requests"]
    assert [line.rsplit(" in ", 1)[0] for line in lines] == [
        "POST /api/v1/byok -> 201",
        f"GET /api/v1/byok/{created['id']} -> 200",
        "GET /api/v1/byok/<redacted> -> 404",
    ]
    assert all(line.endswith(" ms") for line in lines)
    text = "\n".join(lines)
    for secret in (emu.management_key, "QUERY-SECRET", "0000000000AbCd"):
        assert secret not in text


def test_loggable_path_keeps_route_words_and_ids() -> None:
    assert loggable_path("/api/v1/byok") == "/api/v1/byok"
    assert loggable_path("/api/v1/byok/") == "/api/v1/byok/"
    uuid = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001"
    assert loggable_path(f"/api/v1/byok/{uuid}") == f"/api/v1/byok/{uuid}"
    assert loggable_path("/v1/x y/../etc") == "/v1/<redacted>/../etc"


async def test_requests_are_not_logged_unless_asked(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # a program logging at INFO: no emulator lines in it
    await api.list()
    assert not [r for r in caplog.records if r.name == "asyncbyok.emulator.requests"]
