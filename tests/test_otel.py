"""OpenTelemetry: the spans and metrics asyncbyok.otel exports, read with the SDK's
in-memory exporters, for calls made to the emulator on loopback."""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

import asyncbyok
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

from .conftest import RAW, client_for
from .otel_memory import Telemetry, attempts_of, attrs, parent_id, port, span_id

MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


async def test_each_call_is_a_span_and_each_attempt_a_client_span_in_it(
    emulator: Emulator, telemetry: Telemetry
) -> None:
    async with client_for(emulator) as client:
        telemetry.instrument(client)
        key = await client.byok.create(provider="openai", key=RAW, name="traced")
        await client.byok.get(key.id)
        await client.byok.update(key.id, name="renamed")
        await client.byok.list_page(limit=10)
        await client.byok.delete(key.id)
    server_port = port(emulator)
    calls = telemetry.calls()
    assert [c.name for c in calls] == [
        f"asyncbyok byok.{op}" for op in ("create", "get", "update", "list", "delete")
    ]
    expected = [  # name, url.full, status
        ("POST /api/v1/byok", "/byok", 201),
        ("GET /api/v1/byok/{id}", f"/byok/{key.id}", 200),
        ("PATCH /api/v1/byok/{id}", f"/byok/{key.id}", 200),
        ("GET /api/v1/byok", "/byok?offset=0&limit=10", 200),
        ("DELETE /api/v1/byok/{id}", f"/byok/{key.id}", 200),
    ]
    for call, (name, path, status) in zip(calls, expected, strict=True):
        assert call.parent is None  # nothing was current around the calls
        assert call.status.status_code is StatusCode.UNSET
        operation = call.name.rsplit(".", 1)[1]
        assert attrs(call) == {
            "asyncbyok.operation": operation,
            "asyncbyok.attempts": 1,
            **({} if operation == "list" else {"asyncbyok.key_id": key.id}),
        }
        [attempt] = attempts_of(telemetry, call)
        assert attempt.name == name
        attributes = attrs(attempt)
        assert attributes.pop("asyncbyok.request_id").startswith("req_")
        assert 0 <= attributes.pop("asyncbyok.wait") < 5
        assert attributes == {
            "http.request.method": name.split()[0],
            "server.address": "127.0.0.1",
            "server.port": server_port,
            "url.full": emulator.base_url + path,
            "url.template": name.split()[1],
            "http.response.status_code": status,
            "asyncbyok.operation": operation,
        }
        assert attempt.status.status_code is StatusCode.UNSET
        assert call.start_time <= attempt.start_time
        assert attempt.end_time <= call.end_time


async def test_a_retried_call_is_one_span_with_an_attempt_span_for_each_try(
    telemetry: Telemetry,
) -> None:
    faults = Faults({"get": FaultConfig(error_rate=1.0, error_statuses=(503,))})
    async with (
        Emulator(seed=3, faults=faults) as emu,
        client_for(emu, max_retries=2) as client,
    ):
        telemetry.instrument(client)
        with pytest.raises(asyncbyok.InternalServerError):
            await client.byok.get(MISSING)
        # The next call fails once, then the fault is gone: its second attempt succeeds.
        healed = client.with_options(on_retry=lambda event: setattr(emu, "faults", None))
        with pytest.raises(asyncbyok.NotFoundError):
            await healed.byok.get(MISSING)
    failed, healed_call = telemetry.calls()
    assert failed.status.status_code is StatusCode.ERROR
    assert attrs(failed) == {
        "asyncbyok.operation": "get",
        "asyncbyok.key_id": MISSING,
        "asyncbyok.attempts": 3,
        "error.type": "InternalServerError",
    }
    attempts = attempts_of(telemetry, failed)
    assert [attrs(a).get("http.request.resend_count") for a in attempts] == [None, 1, 2]
    assert [attrs(a).get("asyncbyok.retry.reason") for a in attempts] == [
        None,
        "InternalServerError",
        "InternalServerError",
    ]
    for attempt in attempts:
        assert attempt.name == "GET /api/v1/byok/{id}"
        assert attrs(attempt)["http.response.status_code"] == 503
        assert attrs(attempt)["error.type"] == "503"
        assert attempt.status.status_code is StatusCode.ERROR
    first, second = attempts_of(telemetry, healed_call)
    assert (attrs(first)["error.type"], attrs(second)["error.type"]) == ("503", "404")
    assert attrs(second)["http.request.resend_count"] == 1
    assert attrs(healed_call)["error.type"] == "NotFoundError"
    assert attrs(healed_call)["asyncbyok.attempts"] == 2


async def test_a_safe_create_lookup_is_traced_inside_the_create(telemetry: Telemetry) -> None:
    # The create commits, then answers 500: the client lists to find it, and returns it.
    faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    async with Emulator(seed=4, faults=faults) as emu, client_for(emu) as client:
        telemetry.instrument(client)
        key = await client.byok.create(provider="openai", key=RAW, name="found")
    [create] = [c for c in telemetry.calls() if c.name == "asyncbyok byok.create"]
    assert create.status.status_code is StatusCode.UNSET
    attributes = attrs(create)
    assert attributes["asyncbyok.recovered"] is True
    assert attributes["asyncbyok.reconcile.listings"] >= 1
    assert attributes["asyncbyok.key_id"] == key.id
    children = telemetry.children(create)
    attempts = [c for c in children if c.kind is SpanKind.CLIENT]
    listings = [c for c in children if c.name == "asyncbyok byok.list"]
    assert [attrs(a)["http.response.status_code"] for a in attempts] == [500]
    assert len(listings) == attributes["asyncbyok.reconcile.listings"]
    for listing in listings:
        [page] = telemetry.children(listing)
        assert page.name == "GET /api/v1/byok"
        assert "provider=openai" in attrs(page)["url.full"]
    assert len(telemetry.calls()) == 1 + len(listings)
    points = telemetry.points("asyncbyok.client.reconcile.listings")
    assert points[frozenset({("asyncbyok.operation", "create")})].value == len(listings)


async def test_a_call_that_got_no_answer_ends_its_spans_with_the_error(
    telemetry: Telemetry,
) -> None:
    async with asyncbyok.Client(
        api_key="k", base_url="http://127.0.0.1:9/api/v1", max_retries=0
    ) as client:
        telemetry.instrument(client)
        with pytest.raises(asyncbyok.APIConnectionError):
            await client.byok.list_page()
    [call] = telemetry.calls()
    [attempt] = attempts_of(telemetry, call)
    assert attrs(call)["error.type"] == "APIConnectionError"
    assert attrs(attempt)["error.type"] == "APIConnectionError"
    assert "http.response.status_code" not in attrs(attempt)
    assert attrs(attempt)["server.port"] == 9
    assert call.status.status_code is attempt.status.status_code is StatusCode.ERROR
    [point] = telemetry.points("http.client.request.duration").values()
    assert attrs(point)["error.type"] == "APIConnectionError"
    assert point.count == 1


async def test_the_metrics_count_calls_attempts_429s_and_waits(telemetry: Telemetry) -> None:
    faults = Faults({"get": FaultConfig(error_rate=1.0, error_statuses=(502,))})
    async with Emulator(seed=5) as emu, client_for(emu, max_retries=1) as client:
        telemetry.instrument(client)
        for n in range(2):
            await client.byok.create(provider="openai", key=RAW, name=f"m{n}")
        with pytest.raises(asyncbyok.NotFoundError):
            await client.byok.get(MISSING)
        emu.faults = faults
        with pytest.raises(asyncbyok.InternalServerError):
            await client.byok.get(MISSING)  # two attempts, both 502
        emu.faults = None
        emu.rate_limit = RateLimit(rate=0.001, burst=1)
        await client.byok.list_page()
        with pytest.raises(asyncbyok.RateLimitError):
            await client.byok.list_page()  # 429, its Retry-After past the retry cap
    server = {"server.address": "127.0.0.1", "server.port": port(emu)}

    def op(operation: str, **more: Any) -> frozenset[tuple[str, Any]]:
        return frozenset({"asyncbyok.operation": operation, **more}.items())

    calls = {k: p.value for k, p in telemetry.points("asyncbyok.client.calls").items()}
    assert calls == {
        op("create"): 2,
        op("get", **{"error.type": "NotFoundError"}): 1,
        op("get", **{"error.type": "InternalServerError"}): 1,
        op("list"): 1,
        op("list", **{"error.type": "RateLimitError"}): 1,
    }

    def attempt(operation: str, method: str, status: int) -> frozenset[tuple[str, Any]]:
        error = {"error.type": str(status)} if status >= 400 else {}
        return op(
            operation,
            **server,
            **error,
            **{"http.request.method": method, "http.response.status_code": status},
        )

    expected = {
        attempt("create", "POST", 201): 2,
        attempt("get", "GET", 404): 1,
        attempt("get", "GET", 502): 2,
        attempt("list", "GET", 200): 1,
        attempt("list", "GET", 429): 1,
    }
    attempts = {k: p.value for k, p in telemetry.points("asyncbyok.client.attempts").items()}
    assert attempts == expected
    durations = telemetry.points("http.client.request.duration")
    assert {k: p.count for k, p in durations.items()} == expected
    assert all(p.sum > 0 for p in durations.values())
    assert {k: p.value for k, p in telemetry.points("asyncbyok.client.rate_limited").items()} == {
        op("list"): 1
    }
    waits = telemetry.points("asyncbyok.client.wait")
    assert {k: p.count for k, p in waits.items()} == {op("create"): 2, op("get"): 3, op("list"): 2}
    assert telemetry.points("asyncbyok.client.reconcile.listings") == {}


async def test_uninstrument_stops_the_spans_and_instrumenting_again_replaces(
    emulator: Emulator, telemetry: Telemetry
) -> None:
    other = Telemetry()
    async with client_for(emulator) as client:
        first = telemetry.instrument(client)
        second = telemetry.instrument(client)
        assert not first.active
        assert second.active
        await client.byok.list_page()
        first.uninstrument()  # replaced already: the second stays
        await client.byok.list_page()
        second.uninstrument()
        assert not second.active
        await client.byok.list_page()
        other.instrument(client)  # other providers: the spans go there
        await client.byok.list_page()
    assert len(telemetry.calls()) == 2  # one span per call, not one per instrument()
    assert len(other.calls()) == 1


async def test_with_options_copies_are_traced(emulator: Emulator, telemetry: Telemetry) -> None:
    async with client_for(emulator) as client:
        before = client.with_options(timeout=5)  # made before instrument(): shared state
        telemetry.instrument(client)
        await before.byok.list_page()
        await client.with_options(max_retries=0).byok.list_page()
    assert len(telemetry.calls()) == 2


async def test_concurrent_calls_each_get_their_own_attempts_under_the_callers_span(
    emulator: Emulator, telemetry: Telemetry
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test")
    async with client_for(emulator) as client:
        telemetry.instrument(client)
        with tracer.start_as_current_span("batch") as batch:
            keys = await asyncio.gather(
                *(client.byok.create(provider="openai", key=RAW, name=f"c{n}") for n in range(50))
            )
            assert trace.get_current_span() is batch  # the calls left it current
    calls = telemetry.calls()
    [root] = [c for c in calls if c.name == "batch"]
    creates = [c for c in calls if c is not root]
    assert len(creates) == 50
    assert all(parent_id(c) == span_id(root) for c in creates)
    assert {attrs(c)["asyncbyok.key_id"] for c in creates} == {k.id for k in keys}
    for create in creates:
        [attempt] = attempts_of(telemetry, create)
        assert attempt.name == "POST /api/v1/byok"
    assert len(telemetry.spans()) == 101


async def test_a_refused_or_cancelled_call_leaves_no_span_current(telemetry: Telemetry) -> None:
    """Was: a call on a closed client opened its span, never ended it, and left it
    current, so that every later span of the caller became its child."""
    slow = Faults({"get": FaultConfig(latency=5.0)})
    sent = asyncio.Event()
    hooks = {"request": [lambda event: sent.set()]}
    async with Emulator(seed=6, faults=slow, shutdown_timeout=0.1) as emu:
        client = client_for(emu, event_hooks=hooks)
        telemetry.instrument(client)
        call = asyncio.ensure_future(client.byok.get(MISSING))
        await sent.wait()  # the attempt is on the wire
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await client.aclose()
        with pytest.raises(asyncbyok.ClientClosedError):
            await client.byok.list_page()
        assert not trace.get_current_span().get_span_context().is_valid
    [cancelled] = telemetry.calls()
    [attempt] = attempts_of(telemetry, cancelled)
    assert attrs(cancelled)["error.type"] == "CancelledError"
    assert attrs(attempt)["error.type"] == "CancelledError"


async def test_unsampled_calls_still_count_in_the_metrics(emulator: Emulator) -> None:
    telemetry = Telemetry(sampler=ALWAYS_OFF)
    async with client_for(emulator) as client:
        telemetry.instrument(client)
        await client.byok.list_page()
    assert telemetry.spans() == []
    [point] = telemetry.points("asyncbyok.client.calls").values()
    assert point.value == 1


def test_a_sync_client_is_instrumented_through_its_async_client(telemetry: Telemetry) -> None:
    with (
        Emulator(seed=7).run_in_thread() as emu,
        asyncbyok.SyncClient(api_key=emu.management_key, base_url=emu.base_url) as client,
    ):
        telemetry.instrument(client)
        client.byok.list_page()
    assert [c.name for c in telemetry.calls()] == ["asyncbyok byok.list"]


def test_a_sync_clients_calls_join_the_callers_trace(telemetry: Telemetry) -> None:
    tracer = telemetry.tracer_provider.get_tracer("test")
    with (
        Emulator(seed=7).run_in_thread() as emu,
        asyncbyok.SyncClient(api_key=emu.management_key, base_url=emu.base_url) as client,
    ):
        telemetry.instrument(client)
        with tracer.start_as_current_span("job"):
            client.byok.list_page()
            client.byok.create(provider="openai", key=RAW, name="from-a-thread")
        client.byok.list_page()  # no span current: a trace of its own
    calls = telemetry.calls()
    [job] = [c for c in calls if c.name == "job"]
    inside = [c for c in calls if c.name != "job" and parent_id(c) == span_id(job)]
    assert [c.name for c in inside] == ["asyncbyok byok.list", "asyncbyok byok.create"]
    assert all(c.context.trace_id == job.context.trace_id for c in inside)
    [alone] = [c for c in calls if c is not job and c not in inside]
    assert parent_id(alone) is None
    assert alone.context.trace_id != job.context.trace_id


def test_instrument_refuses_what_is_not_a_client(telemetry: Telemetry) -> None:
    with pytest.raises(TypeError, match="not str"):
        telemetry.instrument("https://openrouter.ai/api/v1")


def test_without_opentelemetry_the_import_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "asyncbyok.otel")
    with pytest.raises(ImportError, match=r"pip install 'asyncbyok\[otel\]'"):
        importlib.import_module("asyncbyok.otel")


def test_importing_asyncbyok_does_not_import_opentelemetry() -> None:
    code = "import sys, asyncbyok; print(sorted(m for m in sys.modules if 'opentelemetry' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
