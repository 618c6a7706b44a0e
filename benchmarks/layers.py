"""What asyncbyok's own layers cost per create, without the network.

``python -m benchmarks.layers [--creates N] [--rounds R]`` replaces the client's transport
with a stub that answers every request at once with a recorded 201, then times
``client.byok.create(...)``: request checks, build, the retry loop, pacing checks, the
safe-create bookkeeping, decoding. What it leaves out is aiohttp. Run it next to another
checkout (``PYTHONPATH=<other> python -m benchmarks.layers``) and interleave the runs: the
machine's noise is larger than the differences. Prints µs per create for each round, then
the median and the best.

``--variants plain,hooks,otel`` times other clients in the same rounds, interleaved:
``hooks`` with a no-op hook on each of the three events, ``otel`` instrumented by
:func:`asyncbyok.otel.instrument` with the OpenTelemetry SDK's providers (spans to an
in-memory exporter, metrics to an in-memory reader), so what each costs per create is the
difference from ``plain`` measured side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

import asyncbyok
from asyncbyok.transport import RawResponse

_BODY = json.dumps(
    {
        "data": {
            "id": "c431f831-9778-4b51-837c-6799975b4416",
            "provider": "openai",
            "label": "sk-...5678",
            "created_at": "2026-11-28T08:43:14.819085Z",
            "workspace_id": "e12a8eab-cc79-4530-8a7f-090f7534f9b8",
            "name": "x",
            "disabled": False,
            "is_fallback": False,
            "allowed_models": None,
            "allowed_user_ids": None,
            "allowed_api_key_hashes": None,
            "sort_order": 0,
        }
    }
).encode()


class _NoLoopCall:
    """Stands in for a transport's call (no loop to bind, nothing to close)."""

    async def __aenter__(self) -> _NoLoopCall:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class _StubTransport:
    """Answers every request with the same 201, at once."""

    def __init__(self) -> None:
        from multidict import CIMultiDict

        self._headers = CIMultiDict({"X-Request-Id": "req_1", "Content-Type": "application/json"})

    def call(self) -> Any:
        return _NoLoopCall()

    def add_loop_listener(self, callback: Any) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False

    async def send(self, call: Any, request: Any, timeout: Any) -> RawResponse:
        return RawResponse(201, self._headers, _BODY, 0.0)

    async def aclose(self) -> None:
        return None


def _noop(event: object) -> None:
    return None


def _client(variant: str) -> asyncbyok.Client:
    hooks = None
    if variant == "hooks":
        hooks = {"request": [_noop], "response": [_noop], "error": [_noop]}
    client = asyncbyok.Client(api_key="k", base_url="http://127.0.0.1:1/api/v1", event_hooks=hooks)
    client._shared.transport = _StubTransport()  # type: ignore[assignment]
    if variant == "otel":
        _instrument(client)
    return client


def _instrument(client: asyncbyok.Client) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from asyncbyok.otel import instrument

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    instrument(client, tracer_provider=tracer_provider, meter_provider=meter_provider)


async def _round(creates: int, variant: str = "plain") -> float:
    client = _client(variant)
    byok = client.byok
    for _ in range(creates // 10):  # warm up
        await byok.create(provider="openai", key="sk-proj-abcdefgh12345678", name="x")
    started = time.perf_counter()
    for _ in range(creates):
        await byok.create(provider="openai", key="sk-proj-abcdefgh12345678", name="x")
    return (time.perf_counter() - started) / creates * 1e6


VARIANTS = ("plain", "hooks", "otel")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__)
    parser.add_argument("--creates", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default="plain", help=f"comma-separated: {VARIANTS}")
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {VARIANTS}")
    samples: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(args.rounds):  # interleaved, the order reversed every other round
        for variant in variants if r % 2 == 0 else variants[::-1]:
            samples[variant].append(asyncio.run(_round(args.creates, variant)))
    for variant in variants:
        for sample in samples[variant]:
            print(f"{variant}: {sample:.1f} us per create")
    base = statistics.median(samples[variants[0]])
    for variant in variants:
        median = statistics.median(samples[variant])
        extra = f", {median - base:+.1f} us vs {variants[0]}" if variant != variants[0] else ""
        print(f"{variant}: median {median:.1f} us, best {min(samples[variant]):.1f} us{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
