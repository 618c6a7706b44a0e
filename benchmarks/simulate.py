"""Replicas in virtual time: the real clients' pacing against a simulated shared limit.

A development tool for the pacing code. k real :class:`asyncbyok.Client` objects (each
with its own gate, limiter and retry budget, as k processes would have) run
``create_many`` in one event loop whose clock is virtual: it jumps to the next timer
instead of sleeping, so a 10-second run takes a fraction of that, and runs are
repeatable. Only the transport is simulated: a request takes ``latency`` seconds and
is counted against one shared :class:`asyncbyok.emulator.RateLimit` (bucket or window,
any ``Retry-After`` form, any state headers), exactly as the emulator counts it.

Real processes are the measure (``benchmarks.replicas``); this finds the shape of a
change in seconds, and shows each replica's pace over time::

    python -m benchmarks.simulate --k 4 --kind bucket -v
"""

from __future__ import annotations

import argparse
import asyncio
import json
import selectors
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from multidict import CIMultiDict

import asyncbyok
from asyncbyok.emulator.ratelimit import RateLimit, RateLimiter
from asyncbyok.flow import Flow
from asyncbyok.transport import RawResponse

__all__ = ["simulate"]

_KEY = {
    "id": "11111111-2222-4333-8444-555555555555",
    "provider": "openai",
    "label": "sk-...0000",
    "name": "x",
    "allowed_models": None,
    "allowed_user_ids": None,
    "allowed_api_key_hashes": None,
    "disabled": False,
    "is_fallback": False,
    "workspace_id": "11111111-2222-4333-8444-555555555556",
    "created_at": "2026-01-01T00:00:00Z",
    "sort_order": 0,
    "declared_region": None,
    "declared_zdr": None,
    "is_byok_only": False,
    "is_required": False,
}
_CREATED = json.dumps({"data": _KEY}).encode()
_REFUSED = json.dumps({"error": {"code": 429, "message": "Rate limit exceeded"}}).encode()


class _Selector(selectors.DefaultSelector):
    """A selector that never waits: the loop's clock jumps over the wait instead."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if timeout is not None:
            # Each turn of the loop takes a microsecond, as real work would: a wait too
            # short for a float clock to move would otherwise turn forever.
            self._clock[0] += max(timeout if not ready else 0.0, 1e-6)
        return ready


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is virtual (starts at 1000)."""

    def __init__(self) -> None:
        self.now = [1000.0]
        super().__init__(_Selector(self.now))

    def time(self) -> float:
        return self.now[0]


class _NoLoopCall:
    """Stands in for a transport's call (no loop to bind, nothing to close)."""

    async def __aenter__(self) -> _NoLoopCall:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None


class SimTransport:
    """Stands in for :class:`asyncbyok.transport.Transport`: a fixed latency, a shared
    limit, and a 201 for every create the limit lets through."""

    def __init__(self, limiter: RateLimiter, latency: float, stats: dict[str, int]) -> None:
        self._limiter = limiter
        self._latency = latency
        self._stats = stats

    def call(self) -> Any:
        return _NoLoopCall()

    def add_loop_listener(self, callback: Any) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False

    async def send(self, call: Any, request: Any, timeout: Any) -> RawResponse:
        await asyncio.sleep(self._latency / 2)
        wait, headers = self._limiter.take("key")
        await asyncio.sleep(self._latency / 2)
        self._stats["requests"] += 1
        if wait > 0:
            self._stats["429s"] += 1
            return RawResponse(429, CIMultiDict(headers), _REFUSED, self._latency)
        self._stats["created"] += 1
        return RawResponse(201, CIMultiDict(headers), _CREATED, self._latency)

    async def aclose(self) -> None:
        pass


@contextmanager
def _virtual_monotonic(loop: VirtualLoop) -> Iterator[None]:
    real = time.monotonic
    time.monotonic = loop.time  # type: ignore[assignment]  # the library reads it per call
    try:
        yield
    finally:
        time.monotonic = real  # type: ignore[assignment]


async def _replica(
    transport: SimTransport,
    creates: int,
    concurrency: int,
    trace: list[Any],
    flow: Flow | None = None,
) -> float:
    loop = asyncio.get_running_loop()
    client = asyncbyok.Client(api_key="sim", base_url="http://127.0.0.1/api/v1")
    shared = client._shared
    shared.transport = transport  # type: ignore[assignment]
    shared.flow = flow or Flow(clock=loop.time)
    requests = [
        asyncbyok.CreateBYOKKeyRequest(provider="openai", key="sk-bench-0000", name=f"n{i}")
        for i in range(creates)
    ]
    done = [0]
    start = loop.time()

    async def sample() -> None:
        while True:
            pacer = shared.flow.pacer
            rate = round(pacer.rate, 1) if pacer.enabled else None
            trace.append((round(loop.time() - start, 2), rate, done[0]))
            await asyncio.sleep(0.5)

    sampler = asyncio.ensure_future(sample())
    results = await client.byok.create_many(
        requests, concurrency=concurrency, on_progress=lambda _: done.__setitem__(0, done[0] + 1)
    )
    sampler.cancel()
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    return loop.time() - start


def simulate(
    *,
    k: int,
    creates: int,
    rate: float = 200.0,
    burst: int = 20,
    kind: str = "bucket",
    retry_after: str = "seconds",
    state_headers: str = "none",
    concurrency: int = 32,
    latency: float = 0.004,
    shared_flow: bool = False,
) -> dict[str, Any]:
    """Run *k* replicas of *creates* each under one limit; their times and the 429s."""
    loop = VirtualLoop()
    limit = RateLimit(
        rate=rate,
        burst=burst,
        kind=kind,  # type: ignore[arg-type]
        retry_after=retry_after,  # type: ignore[arg-type]
        state_headers=state_headers,  # type: ignore[arg-type]
    )
    stats = {"requests": 0, "429s": 0, "created": 0}
    traces: list[list[Any]] = [[] for _ in range(k)]
    with _virtual_monotonic(loop):
        limiter = RateLimiter(limit, clock=loop.time)
        transport = SimTransport(limiter, latency, stats)

        async def fleet() -> list[float]:
            flow = Flow(clock=loop.time) if shared_flow else None
            jobs = [_replica(transport, creates, concurrency, traces[i], flow) for i in range(k)]
            return list(await asyncio.gather(*jobs))

        try:
            times = loop.run_until_complete(fleet())
        finally:
            loop.close()
    ideal = k * creates / rate
    return {
        "k": k,
        "slowest_vs_ideal": round(max(times) / ideal, 3),
        "fastest_vs_slowest": round(min(times) / max(times), 3),
        "429s_per_create": round(stats["429s"] / (k * creates), 3),
        "replica_s": sorted(round(t, 2) for t in times),
        "traces": traces,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.simulate")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--creates", type=int, default=0, help="per replica (default 2000/k)")
    parser.add_argument("--kind", default="bucket")
    parser.add_argument("--retry-after", default="seconds")
    parser.add_argument("--headers", default="none")
    parser.add_argument("--latency", type=float, default=0.004)
    parser.add_argument("-v", action="store_true", help="print each replica's pace over time")
    args = parser.parse_args(argv)
    result = simulate(
        k=args.k,
        creates=args.creates or 2000 // args.k,
        kind=args.kind,
        retry_after=args.retry_after,
        state_headers=args.headers,
        latency=args.latency,
    )
    traces = result.pop("traces")
    print(json.dumps(result))
    if args.v:
        for trace in traces:
            print("  ", trace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
