"""OpenTelemetry: the spans and metrics asyncbyok.otel exports, read with the SDK's
in-memory exporters, for calls made to the emulator on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

import asyncbyok
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit
from asyncbyok.otel import Instrumentation, instrument

from .conftest import RAW, client_for

MISSING = "00000000-0000-0000-0000-000000000000"


class Telemetry:
    """A tracer provider and a meter provider of their own, exporting to memory."""

    def __init__(self, **tracer_options: Any) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(**tracer_options)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self, client: Any) -> Instrumentation:
        return instrument(client, self.tracer_provider, self.meter_provider)

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def calls(self) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.kind is SpanKind.INTERNAL]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans() if _parent_id(s) == _id(parent)]

    def points(self, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
        """The data points of metric *name*, by their attributes."""
        data = self.reader.get_metrics_data()
        assert data is not None
        found = {}
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found[frozenset(point.attributes.items())] = point
        return found


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def _attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _port(emu: Emulator) -> int | None:
    return urllib.parse.urlsplit(emu.base_url).port


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def _attempts_of(telemetry: Telemetry, call: ReadableSpan) -> list[ReadableSpan]:
    attempts = telemetry.children(call)
    assert all(a.kind is SpanKind.CLIENT for a in attempts)
    return sorted(attempts, key=lambda a: a.start_time or 0)


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
    port = _port(emulator)
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
        assert _attrs(call) == {
            "asyncbyok.operation": operation,
            "asyncbyok.attempts": 1,
            **({} if operation == "list" else {"asyncbyok.key_id": key.id}),
        }
        [attempt] = _attempts_of(telemetry, call)
        assert attempt.name == name
        attributes = _attrs(attempt)
        assert attributes.pop("asyncbyok.request_id").startswith("req_")
        assert 0 <= attributes.pop("asyncbyok.wait") < 5
        assert attributes == {
            "http.request.method": name.split()[0],
            "server.address": "127.0.0.1",
            "server.port": port,
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
    assert _attrs(failed) == {
        "asyncbyok.operation": "get",
        "asyncbyok.key_id": MISSING,
        "asyncbyok.attempts": 3,
        "error.type": "InternalServerError",
    }
    attempts = _attempts_of(telemetry, failed)
    assert [_attrs(a).get("http.request.resend_count") for a in attempts] == [None, 1, 2]
    assert [_attrs(a).get("asyncbyok.retry.reason") for a in attempts] == [
        None,
        "InternalServerError",
        "InternalServerError",
    ]
    for attempt in attempts:
        assert attempt.name == "GET /api/v1/byok/{id}"
        assert _attrs(attempt)["http.response.status_code"] == 503
        assert _attrs(attempt)["error.type"] == "503"
        assert attempt.status.status_code is StatusCode.ERROR
    first, second = _attempts_of(telemetry, healed_call)
    assert (_attrs(first)["error.type"], _attrs(second)["error.type"]) == ("503", "404")
    assert _attrs(second)["http.request.resend_count"] == 1
    assert _attrs(healed_call)["error.type"] == "NotFoundError"
    assert _attrs(healed_call)["asyncbyok.attempts"] == 2


async def test_a_safe_create_lookup_is_traced_inside_the_create(telemetry: Telemetry) -> None:
    # The create commits, then answers 500: the client lists to find it, and returns it.
    faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    async with Emulator(seed=4, faults=faults) as emu, client_for(emu) as client:
        telemetry.instrument(client)
        key = await client.byok.create(provider="openai", key=RAW, name="found")
    [create] = [c for c in telemetry.calls() if c.name == "asyncbyok byok.create"]
    assert create.status.status_code is StatusCode.UNSET
    attributes = _attrs(create)
    assert attributes["asyncbyok.recovered"] is True
    assert attributes["asyncbyok.reconcile.listings"] >= 1
    assert attributes["asyncbyok.key_id"] == key.id
    children = telemetry.children(create)
    attempts = [c for c in children if c.kind is SpanKind.CLIENT]
    listings = [c for c in children if c.name == "asyncbyok byok.list"]
    assert [_attrs(a)["http.response.status_code"] for a in attempts] == [500]
    assert len(listings) == attributes["asyncbyok.reconcile.listings"]
    for listing in listings:
        [page] = telemetry.children(listing)
        assert page.name == "GET /api/v1/byok"
        assert "provider=openai" in _attrs(page)["url.full"]
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
    [attempt] = _attempts_of(telemetry, call)
    assert _attrs(call)["error.type"] == "APIConnectionError"
    assert _attrs(attempt)["error.type"] == "APIConnectionError"
    assert "http.response.status_code" not in _attrs(attempt)
    assert _attrs(attempt)["server.port"] == 9
    assert call.status.status_code is attempt.status.status_code is StatusCode.ERROR
    [point] = telemetry.points("http.client.request.duration").values()
    assert _attrs(point)["error.type"] == "APIConnectionError"
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
    server = {"server.address": "127.0.0.1", "server.port": _port(emu)}

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
    assert all(_parent_id(c) == _id(root) for c in creates)
    assert {_attrs(c)["asyncbyok.key_id"] for c in creates} == {k.id for k in keys}
    for create in creates:
        [attempt] = _attempts_of(telemetry, create)
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
    [attempt] = _attempts_of(telemetry, cancelled)
    assert _attrs(cancelled)["error.type"] == "CancelledError"
    assert _attrs(attempt)["error.type"] == "CancelledError"


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


CANARY_MGMT = "sk-or-v1-mgmt-CANARY-otel-5e4d3c2b1a09"
CANARY_RAW = "sk-proj-RAWCANARY-otel-0a9b8c7d6e5f"
CANARY_ROTATED = "sk-proj-ROTATEDCANARY-otel-1234abcd"
CANARIES = (CANARY_MGMT, CANARY_RAW, CANARY_ROTATED, "CANARY")


async def _canary_workload(emu: Emulator, client: asyncbyok.Client) -> None:
    """Calls that succeed, fail, retry, recover and get no answer, all with canaries."""

    async def attempt(call: Any) -> None:
        with contextlib.suppress(asyncbyok.AsyncBYOKError):
            await call

    key = await client.byok.create(provider="openai", key=CANARY_RAW, name="canary")
    await attempt(client.byok.create(provider="nope", key=CANARY_RAW))  # 400 from the server
    await attempt(client.byok.get(MISSING))  # 404
    await client.byok.update(key.id, key=CANARY_ROTATED)
    for faults in (
        Faults({"create": FaultConfig(commit_then_error_rate=1.0)}),  # recovered by a lookup
        Faults({"create": FaultConfig(commit_then_drop_rate=1.0)}),
        Faults({"create": FaultConfig(reset_rate=1.0)}),
        Faults.everywhere(error_rate=1.0),  # 500s, retried
    ):
        emu.faults = faults
        await attempt(client.byok.create(provider="openai", key=CANARY_RAW, name="again"))
        await attempt(client.byok.update(key.id, key=CANARY_ROTATED))
    emu.faults = None
    emu.rate_limit = RateLimit(rate=0.001, burst=1)
    await attempt(client.byok.list_page())
    await attempt(client.byok.list_page())  # 429


async def _varied_workload(telemetry: Telemetry) -> None:
    """The canary workload, and calls refused (401) and never answered, all traced."""
    fast = asyncbyok.RetryPolicy(max_retries=2, wait_scale=0)
    async with Emulator(seed=8, management_keys=[CANARY_MGMT], shutdown_timeout=0.1) as emu:
        async with asyncbyok.Client(api_key=CANARY_MGMT, base_url=emu.base_url, retry=fast) as c:
            telemetry.instrument(c)
            await _canary_workload(emu, c)
        rotating = asyncbyok.Client(api_key=lambda: CANARY_MGMT, base_url=emu.base_url)
        stranger = asyncbyok.Client(api_key=f"{CANARY_MGMT}-unknown", base_url=emu.base_url)
        for other in (rotating, stranger):
            async with other:
                telemetry.instrument(other)
                with pytest.raises(asyncbyok.APIError):
                    await other.byok.list_page()  # 429, then 401
    dead = asyncbyok.Client(api_key=CANARY_MGMT, base_url="http://127.0.0.1:9/api/v1", retry=fast)
    async with dead:
        telemetry.instrument(dead)
        with pytest.raises(asyncbyok.APIConnectionError):
            await dead.byok.create(provider="openai", key=CANARY_RAW, name="unsent")


async def test_no_span_or_metric_carries_a_secret(telemetry: Telemetry) -> None:
    await _varied_workload(telemetry)
    spans = telemetry.spans()
    metrics = telemetry.reader.get_metrics_data()
    assert metrics is not None
    haystack = [span.to_json() for span in spans] + [metrics.to_json()]
    for secret in CANARIES:
        leaks = [text for text in haystack if secret in text]
        assert not leaks, f"{secret!r} leaked: {leaks[0][:400]}"
    # The workload did reach every kind of outcome the spans can tell.
    errors = {_attrs(s).get("error.type") for s in spans}
    assert {"400", "401", "404", "429", "500", "APIConnectionError"} <= errors
    assert any(_attrs(s).get("asyncbyok.recovered") for s in spans)
    assert any("http.client.request.duration" in text for text in haystack)


GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guides" / "opentelemetry.md"


async def test_the_guide_names_every_attribute_and_metric_exported(telemetry: Telemetry) -> None:
    await _varied_workload(telemetry)
    exported = {key for span in telemetry.spans() for key in _attrs(span)}
    data = telemetry.reader.get_metrics_data()
    assert data is not None
    metrics = [m for r in data.resource_metrics for sm in r.scope_metrics for m in sm.metrics]
    exported |= {m.name for m in metrics}
    point_keys = {k for m in metrics for p in m.data.data_points for k in p.attributes}
    rows = [line.split("|") for line in GUIDE.read_text(encoding="utf-8").splitlines()]
    rows = [cells for cells in rows if len(cells) > 3 and cells[1].strip().startswith("`")]
    named = {name for cells in rows for name in re.findall(r"`([a-z_.]+)`", cells[1])}
    assert named == exported  # each table's first column: span attributes, metrics
    said_of_points = {name for cells in rows for name in re.findall(r"`([a-z_.]+)`", cells[3])}
    assert said_of_points & point_keys == point_keys  # the metrics' attributes, all named
