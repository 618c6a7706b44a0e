"""OpenTelemetry after calls of every kind: no span or metric holds a key, and the guide
names every attribute and metric exported."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import asyncbyok
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

from .otel_memory import Telemetry, attrs

MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


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
    errors = {attrs(s).get("error.type") for s in spans}
    assert {"400", "401", "404", "429", "500", "APIConnectionError"} <= errors
    assert any(attrs(s).get("asyncbyok.recovered") for s in spans)
    assert any("http.client.request.duration" in text for text in haystack)


GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guides" / "opentelemetry.md"


async def test_the_guide_names_every_attribute_and_metric_exported(telemetry: Telemetry) -> None:
    await _varied_workload(telemetry)
    exported = {key for span in telemetry.spans() for key in attrs(span)}
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
