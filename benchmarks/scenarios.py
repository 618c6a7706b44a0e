"""The scenarios. Each returns a JSON-ready dict; :mod:`benchmarks.run` calls them.

Every measurement runs in a fresh event loop (``asyncio.run``) in this process, against an
emulator in another process (:class:`~benchmarks.emulator_process.EmulatorProcess`), so
``time.process_time()`` deltas here are the client's CPU alone. Contenders alternate
within each round (ABCD, BCDA, CDAB, ...); medians are reported with every sample.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import re
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import attrs

import asyncbyok
from asyncbyok.emulator.ratelimit import RATE_LIMIT_KINDS, RETRY_AFTER_FORMS

from .contenders import (
    CREATE_CONTENDERS,
    LIST_CONTENDERS,
    PROVIDER,
    CreateFn,
    bulk,
    create_session,
    list_all,
    missing,
    raw_key,
)
from .emulator_process import ROOT, EmulatorProcess, subprocess_env
from .lean_server import LeanServerProcess

__all__ = [
    "FULL",
    "QUICK",
    "Sizes",
    "scenario_bulk",
    "scenario_create",
    "scenario_create_lean",
    "scenario_faults",
    "scenario_idle",
    "scenario_import",
    "scenario_limits",
    "scenario_list",
    "scenario_memory",
    "scenario_startup",
]

T = TypeVar("T")
Log = Callable[[str], None]


@attrs.frozen(kw_only=True)
class Sizes:
    """How big each scenario is. :data:`FULL` is the issue's; :data:`QUICK` is tiny."""

    create_rounds: int = 5
    concurrencies: tuple[int, ...] = (1, 16, 64, 256)
    creates: int = 2000
    creates_c1: int = 500  # at concurrency 1 (one request at a time is slow)
    warmup: int = 100  # creates before each measurement, not counted
    create_seconds: float = 3.0  # ... or as many creates as start within this time
    target_concurrency: int = 64
    list_keys: int = 10_000
    list_latency: float = 0.02
    list_rounds: int = 5
    bulk_creates: int = 2000
    bulk_rate: float = 200.0
    bulk_burst: int = 20
    bulk_concurrency: int = 32
    bulk_rounds: int = 3
    bulk_cap: float = 120.0  # seconds a contender may take before it is stopped
    fault_creates: int = 2000
    fault_error_rate: float = 0.2
    fault_commit_rate: float = 0.1
    fault_operations: str = "create"  # which operations the faults hit ("*": all)
    fault_concurrency: int = 32
    fault_rounds: int = 3
    fault_cap: float = 120.0
    limit_creates: int = 2000
    limit_rate: float = 200.0
    limit_burst: int = 20  # buckets only
    limit_concurrency: int = 32
    limit_rounds: int = 1
    limit_cap: float = 60.0
    limit_combos: tuple[tuple[str, str], ...] = tuple(
        (kind, form) for kind in RATE_LIMIT_KINDS for form in RETRY_AFTER_FORMS
    )
    idle_gets: int = 400
    idle_rate: float = 200.0
    idle_burst: int = 20
    idle_quiet: float = 3.0  # seconds of quiet, the limit lifted, before the second burst
    # Both clients' pools: small enough that each fills it in its first burst (a paced
    # burst into the limit leaves fewer connections open than an unpaced one: 27 against
    # 64 of the default 100, and the timed burst then measured connection setup).
    idle_connections: int = 20
    idle_rounds: int = 7
    import_rounds: int = 7
    startup_rounds: int = 30  # as ``python -m benchmarks.startup``
    startup_warmup: int = 3
    memory_keys: int = 100_000
    memory_every: int = 10_000
    # Scale (issue 16; benchmarks.scale and benchmarks.fleet): one limit for all of them.
    scale_rate: float = 200.0
    scale_burst: int = 20  # buckets only
    scale_kinds: tuple[str, ...] = RATE_LIMIT_KINDS  # each with whole-second Retry-After
    large_accounts: tuple[int, ...] = (20_000, 100_000)  # credentials already stored
    large_creates: int = 1000
    large_commit_rate: float = 0.05  # creates stored, then answered 500
    large_rounds: int = 3
    large_cap: float = 120.0
    ensure_account: int = 20_000  # for ensure_many and ensure(max_age=)
    ensure_names: int = 1000  # half of them already stored
    ensure_rounds: int = 3
    ensure_cap: float = 60.0
    max_age_calls: int = 20  # single ensure(max_age=...) calls, half of them new names
    max_age: float = 60.0
    max_age_rounds: int = 3
    replica_counts: tuple[int, ...] = (4, 8)
    replica_creates: int = 2000  # in all, divided among the replicas
    replica_concurrency: int = 32  # each replica's create_many
    replica_modes: tuple[str, ...] = ("independent", "x-ratelimit", "ietf", "redis")
    replica_kinds: tuple[str, ...] = RATE_LIMIT_KINDS
    replica_rounds: int = 2
    replica_cap: float = 120.0


FULL = Sizes()
QUICK = Sizes(
    create_rounds=2,
    concurrencies=(1, 16),
    creates=40,
    creates_c1=20,
    warmup=5,
    create_seconds=1.0,
    target_concurrency=16,
    list_keys=300,
    list_rounds=2,
    bulk_creates=100,
    bulk_rounds=1,
    bulk_cap=15.0,
    fault_creates=40,
    fault_rounds=1,
    fault_cap=3.0,
    limit_creates=300,  # at 200/s: a window is refused once, a bucket from the 21st create
    limit_cap=10.0,
    limit_combos=(("bucket", "seconds"), ("window", "none")),
    idle_gets=50,
    idle_quiet=2.1,
    idle_rounds=1,
    import_rounds=2,
    startup_rounds=2,
    startup_warmup=1,
    memory_keys=1000,
    memory_every=250,
    large_accounts=(1000,),
    large_creates=60,
    large_rounds=1,
    large_cap=20.0,
    ensure_account=1000,
    ensure_names=40,
    ensure_rounds=1,
    ensure_cap=20.0,
    max_age_calls=6,
    max_age_rounds=1,
    replica_counts=(2,),
    replica_creates=100,
    replica_concurrency=8,
    replica_kinds=("bucket",),
    replica_rounds=1,
    replica_cap=30.0,
)


def _rotate(items: Sequence[T], by: int) -> list[T]:
    """ABCD, BCDA, CDAB, ...: the order of round *by*."""
    if not items:
        return []
    by %= len(items)
    return [*items[by:], *items[:by]]


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _available(contenders: Sequence[str], skipped: dict[str, str]) -> list[str]:
    out = []
    for name in contenders:
        reason = missing(name)
        if reason is None:
            out.append(name)
        else:
            skipped[name] = reason
    return out


async def _timed(work: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    """(result, wall seconds, client CPU seconds) of ``await work()``."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    result = await work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


# ------------------------------------------------------------------ 1. create throughput


@attrs.define
class _Driven:
    done: int = 0
    failed: int = 0


async def _drive(
    create: CreateFn, names: Sequence[str], concurrency: int, *, seconds: float | None = None
) -> _Driven:
    """*concurrency* workers creating *names*; with *seconds*, no create starts after that.

    Returns how many creates completed (failed ones included) and how many failed.
    """
    pending = iter(names)
    out = _Driven()
    deadline = None if seconds is None else time.perf_counter() + seconds

    async def worker() -> None:
        for name in pending:
            try:
                await create(name, raw_key(name))
            except Exception:
                out.failed += 1
            out.done += 1
            if deadline is not None and time.perf_counter() > deadline:
                return

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(names)))))
    return out


async def measure_create(
    contender: str,
    base_url: str,
    key: str,
    *,
    concurrency: int,
    creates: int,
    warmup: int,
    prefix: str,
    seconds: float | None = None,
) -> dict[str, Any]:
    """One measurement: warm up (not counted), then *creates* creates at *concurrency*,
    or as many as start within *seconds* (so a slow contender does not take minutes)."""
    async with create_session(contender, base_url, key, concurrency) as create:
        warm = [f"{prefix}-warm-{i}" for i in range(warmup)]
        await _drive(create, warm, concurrency)
        names = [f"{prefix}-{i}" for i in range(creates)]
        driven, wall, cpu = await _timed(
            lambda: _drive(create, names, concurrency, seconds=seconds)
        )
    return {
        "rps": driven.done / wall,
        "cpu_us": cpu / driven.done * 1e6,
        "seconds": wall,
        "creates": driven.done,
        "failed": driven.failed,
    }


def scenario_create(
    sizes: Sizes, log: Log, *, contenders: Sequence[str] = CREATE_CONTENDERS
) -> dict[str, Any]:
    """Requests/s and client CPU µs/request per (contender, concurrency), on the emulator."""
    with EmulatorProcess(seed=1) as emu:
        return _create_throughput(emu, sizes, log, contenders, sizes.concurrencies)


LEAN_CONTENDERS = ("asyncbyok", "aiohttp", "httpx")


def scenario_create_lean(sizes: Sizes, log: Log) -> dict[str, Any]:
    """As :func:`scenario_create`, against :mod:`benchmarks.lean_server`, which spends
    almost no CPU per request: the emulator's ~230 µs hide a client's own cost."""
    concurrencies = tuple(sorted({1, sizes.target_concurrency}))
    with LeanServerProcess() as lean:
        return _create_throughput(lean, sizes, log, LEAN_CONTENDERS, concurrencies)


def _create_throughput(
    server: EmulatorProcess | LeanServerProcess,
    sizes: Sizes,
    log: Log,
    contenders: Sequence[str],
    concurrencies: Sequence[int],
) -> dict[str, Any]:
    """Each contender at each concurrency, *sizes.create_rounds* rounds, alternating."""
    skipped: dict[str, str] = {}
    names = _available(contenders, skipped)
    samples: dict[int, dict[str, list[dict[str, Any]]]] = {
        c: {n: [] for n in names} for c in concurrencies
    }
    for rnd in range(sizes.create_rounds):
        for ci, concurrency in enumerate(concurrencies):
            creates = sizes.creates_c1 if concurrency == 1 else sizes.creates
            for name in _rotate(names, rnd + ci):
                server.reset()
                server_cpu = server.cpu_seconds()
                m = asyncio.run(
                    measure_create(
                        name,
                        server.base_url,
                        server.management_key,
                        concurrency=concurrency,
                        creates=creates,
                        warmup=min(sizes.warmup, creates),
                        prefix=f"r{rnd}-c{concurrency}-{name}",
                        seconds=sizes.create_seconds,
                    )
                )
                after = server.cpu_seconds()
                if server_cpu is not None and after is not None:
                    # Server CPU over warm-up + measurement, per request.
                    total = m["creates"] + min(sizes.warmup, creates)
                    m["server_cpu_us"] = (after - server_cpu) / total * 1e6
                samples[concurrency][name].append(m)
                log(
                    f"  create r{rnd + 1} c={concurrency:<3} {name:<10} "
                    f"{m['rps']:8.0f} req/s  {m['cpu_us']:7.0f} µs CPU/req"
                    + (f"  ({m['failed']} failed)" if m["failed"] else "")
                )
    table: dict[str, Any] = {}
    for concurrency, per in samples.items():
        row: dict[str, Any] = {}
        for name, ms in per.items():
            served = [m["server_cpu_us"] for m in ms if "server_cpu_us" in m]
            row[name] = {
                "rps": _median([m["rps"] for m in ms]),
                "cpu_us": _median([m["cpu_us"] for m in ms]),
                "server_cpu_us": _median(served),
                "failed": sum(m["failed"] for m in ms),
                "creates_samples": [m["creates"] for m in ms],
                "rps_samples": [round(m["rps"], 1) for m in ms],
                "cpu_us_samples": [round(m["cpu_us"], 1) for m in ms],
            }
        ours = row.get("asyncbyok", {})
        row["ratios"] = {
            "rps_vs_aiohttp": _ratio(ours.get("rps"), row.get("aiohttp", {}).get("rps")),
            "rps_vs_httpx": _ratio(ours.get("rps"), row.get("httpx", {}).get("rps")),
            "rps_vs_openrouter": _ratio(ours.get("rps"), row.get("openrouter", {}).get("rps")),
            "cpu_vs_aiohttp": _ratio(ours.get("cpu_us"), row.get("aiohttp", {}).get("cpu_us")),
            "cpu_vs_openrouter": _ratio(
                ours.get("cpu_us"), row.get("openrouter", {}).get("cpu_us")
            ),
        }
        table[str(concurrency)] = row
    return {
        "params": {
            "concurrencies": list(concurrencies),
            "creates": sizes.creates,
            "creates_at_concurrency_1": sizes.creates_c1,
            "warmup": sizes.warmup,
            "max_seconds": sizes.create_seconds,
            "rounds": sizes.create_rounds,
            "pool": "every contender: a connection pool of `concurrency` connections",
        },
        "contenders": names,
        "skipped": skipped,
        "by_concurrency": table,
    }


async def profile_create(
    base_url: str, key: str, *, concurrency: int, creates: int, out: str, top: int = 30
) -> str:
    """cProfile of asyncbyok creates at *concurrency*: the top functions, as text."""
    import cProfile
    import io
    import pstats

    async with create_session("asyncbyok", base_url, key, concurrency) as create:
        await _drive(create, [f"prof-warm-{i}" for i in range(50)], concurrency)
        names = [f"prof-{i}" for i in range(creates)]
        profiler = cProfile.Profile()
        profiler.enable()
        await _drive(create, names, concurrency)
        profiler.disable()
    profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    # Paths relative to where they were imported from: "aiohttp/client.py", not "/.../".
    shown = text.getvalue()
    for prefix in sorted({p for p in sys.path if p}, key=len, reverse=True):
        shown = shown.replace(prefix.rstrip("/") + "/", "")
    return shown


# ------------------------------------------------------------------ 2. list all keys


def scenario_list(
    sizes: Sizes, log: Log, *, contenders: Sequence[str] = LIST_CONTENDERS
) -> dict[str, Any]:
    """Time to list every key, 20 ms of emulator latency per list request."""
    skipped: dict[str, str] = {}
    names = _available(contenders, skipped)
    samples: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with EmulatorProcess(seed=2) as emu:
        emu.preload(sizes.list_keys)
        emu.configure(faults={"list": {"latency": sizes.list_latency}})
        for rnd in range(-1, sizes.list_rounds):  # round -1: warm-up, not counted
            for name in _rotate(names, rnd):
                emu.reset_stats()
                work = functools.partial(list_all, name, emu.base_url, emu.management_key)
                outcome, wall, cpu = asyncio.run(_timed(work))
                requests = int(emu.state()["requests"].get("list", 0))
                if rnd < 0:
                    continue
                complete = outcome.distinct == sizes.list_keys == outcome.keys
                samples[name].append(
                    {
                        "seconds": wall,
                        "cpu_ms": cpu * 1e3,
                        "keys": outcome.keys,
                        "distinct": outcome.distinct,
                        "requests": requests,
                        "complete": complete,
                    }
                )
                log(
                    f"  list r{rnd + 1} {name:<21} {wall:7.3f} s  {requests:4d} requests"
                    + ("" if complete else f"  INCOMPLETE ({outcome.distinct} distinct)")
                )
    row: dict[str, Any] = {}
    for name, ms in samples.items():
        row[name] = {
            "seconds": _median([m["seconds"] for m in ms]),
            "cpu_ms": _median([m["cpu_ms"] for m in ms]),
            "requests": _median([m["requests"] for m in ms]),
            "complete": all(m["complete"] for m in ms),
            "seconds_samples": [round(m["seconds"], 4) for m in ms],
        }
    ours = row.get("asyncbyok", {}).get("seconds")
    return {
        "params": {
            "keys": sizes.list_keys,
            "latency_s": sizes.list_latency,
            "rounds": sizes.list_rounds,
            "page_size": 100,
            "note": "the official SDK is called with limit=100 (its default is 50), for fairness",
        },
        "contenders": names,
        "skipped": skipped,
        "results": row,
        "speedup": {
            "vs_aiohttp_sequential": _ratio(row.get("aiohttp-sequential", {}).get("seconds"), ours),
            "vs_asyncbyok_sequential": _ratio(
                row.get("asyncbyok-sequential", {}).get("seconds"), ours
            ),
            "vs_openrouter": _ratio(row.get("openrouter", {}).get("seconds"), ours),
        },
    }


# ------------------------------------------------------------------ 3 and 4: bulk creates


def _bulk_rounds(
    emu: EmulatorProcess,
    names: Sequence[str],
    *,
    rounds: int,
    creates: int,
    concurrency: int,
    cap: float,
    tag: str,
    log: Log,
) -> dict[str, list[dict[str, Any]]]:
    samples: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for rnd in range(rounds):
        for name in _rotate(names, rnd):
            emu.reset()  # no records, full rate-limit bucket, fault sequence from the seed
            wanted = [f"{tag}-r{rnd}-{name}-{i}" for i in range(creates)]
            outcome = asyncio.run(
                bulk(name)(
                    emu.base_url,
                    emu.management_key,
                    wanted,
                    concurrency=concurrency,
                    cap=cap,
                )
            )
            state = emu.state()
            sample = {
                "seconds": outcome.seconds,
                "finished": outcome.finished,
                "ok": outcome.ok,
                "failed": outcome.failed,
                "errors": dict(outcome.errors),
                "client_429s": outcome.rate_limited,
                "server_429s": state["rate_limited"],
                "create_requests": state["requests"].get("create", 0),
                "list_requests": state["requests"].get("list", 0),
                "stored": state["live"],
                "stored_distinct": state["distinct_names"],
                "missing": creates - state["distinct_names"],
                "duplicates": state["extra_copies"],
                "faults": state["faults"],
            }
            samples[name].append(sample)
            log(
                f"  {tag} r{rnd + 1} {name:<10} {outcome.seconds:7.2f} s"
                + ("" if outcome.finished else f" (stopped at the {cap:g} s cap)")
                + f"  ok {outcome.ok}/{creates}  stored {state['distinct_names']}"
                f"  duplicates {state['extra_copies']}  429s {state['rate_limited']}"
            )
    return samples


def _summarise(ms: list[dict[str, Any]]) -> dict[str, Any]:
    errors: dict[str, int] = {}
    for m in ms:
        for k, v in m["errors"].items():
            errors[k] = errors.get(k, 0) + v
    client = [m["client_429s"] for m in ms if m["client_429s"] is not None]
    return {
        "seconds": _median([m["seconds"] for m in ms]),
        "finished": all(m["finished"] for m in ms),
        "ok": _median([m["ok"] for m in ms]),
        "failed": _median([m["failed"] for m in ms]),
        "stored_distinct": _median([m["stored_distinct"] for m in ms]),
        "missing": _median([m["missing"] for m in ms]),
        "duplicates": _median([m["duplicates"] for m in ms]),
        "duplicates_max": max((m["duplicates"] for m in ms), default=None),
        "client_429s": _median(client) if client else None,
        "server_429s": _median([m["server_429s"] for m in ms]),
        "create_requests": _median([m["create_requests"] for m in ms]),
        "list_requests": _median([m["list_requests"] for m in ms]),
        "errors": errors,
        "samples": ms,
    }


def scenario_bulk(sizes: Sizes, log: Log) -> dict[str, Any]:
    """N creates against a rate limit: time vs N / rate, 429s, duplicates."""
    skipped: dict[str, str] = {}
    names = _available(("asyncbyok", "openrouter"), skipped)
    with EmulatorProcess(seed=3) as emu:
        emu.configure(rate=sizes.bulk_rate, burst=sizes.bulk_burst)
        samples = _bulk_rounds(
            emu,
            names,
            rounds=sizes.bulk_rounds,
            creates=sizes.bulk_creates,
            concurrency=sizes.bulk_concurrency,
            cap=sizes.bulk_cap,
            tag="bulk",
            log=log,
        )
    ideal = sizes.bulk_creates / sizes.bulk_rate
    ideal_after_burst = max(sizes.bulk_creates - sizes.bulk_burst, 0) / sizes.bulk_rate
    results = {name: _summarise(ms) for name, ms in samples.items()}
    for r in results.values():
        r["vs_ideal"] = _ratio(r["seconds"], ideal)
        r["vs_ideal_after_burst"] = _ratio(r["seconds"], ideal_after_burst)
    return {
        "params": {
            "creates": sizes.bulk_creates,
            "rate": sizes.bulk_rate,
            "burst": sizes.bulk_burst,
            "concurrency": sizes.bulk_concurrency,
            "rounds": sizes.bulk_rounds,
            "cap_s": sizes.bulk_cap,
            "ideal_s": ideal,
            "ideal_after_burst_s": ideal_after_burst,
            "note": "ideal = N / rate (the burst not subtracted); "
            "vs_ideal_after_burst uses (N - burst) / rate, the strict bound",
            "openrouter": "default settings (no 429 retry): reported as what happens",
        },
        "contenders": names,
        "skipped": skipped,
        "results": results,
    }


def scenario_limits(sizes: Sizes, log: Log) -> dict[str, Any]:
    """``create_many`` under every limiter kind and ``Retry-After`` form: time vs N / rate.

    asyncbyok alone (the official SDK does not retry 429s, see :func:`scenario_bulk`);
    default settings. Each combination starts from an empty store and a fresh limiter.
    """
    ideal = sizes.limit_creates / sizes.limit_rate
    results: dict[str, Any] = {}
    with EmulatorProcess(seed=7) as emu:
        for kind, form in sizes.limit_combos:
            emu.configure(
                rate=sizes.limit_rate, burst=sizes.limit_burst, kind=kind, retry_after=form
            )
            samples = _bulk_rounds(
                emu,
                ["asyncbyok"],
                rounds=sizes.limit_rounds,
                creates=sizes.limit_creates,
                concurrency=sizes.limit_concurrency,
                cap=sizes.limit_cap,
                tag=f"limits-{kind}-{form}",
                log=log,
            )
            r = _summarise(samples["asyncbyok"])
            r["kind"], r["retry_after"] = kind, form
            r["vs_ideal"] = _ratio(r["seconds"], ideal)
            r["vs_ideal_max"] = _ratio(max(m["seconds"] for m in r["samples"]), ideal)
            r["missing_max"] = max(m["missing"] for m in r["samples"])
            results[f"{kind}/{form}"] = r
    return {
        "params": {
            "creates": sizes.limit_creates,
            "rate": sizes.limit_rate,
            "burst": sizes.limit_burst,
            "concurrency": sizes.limit_concurrency,
            "rounds": sizes.limit_rounds,
            "cap_s": sizes.limit_cap,
            "ideal_s": ideal,
            "kinds": sorted({k for k, _ in sizes.limit_combos}, key=RATE_LIMIT_KINDS.index),
            "forms": sorted({f for _, f in sizes.limit_combos}, key=RETRY_AFTER_FORMS.index),
            "window_s": 1.0,
            "note": "client.byok.create_many with default settings; ideal = N / rate; "
            "a window admits rate x 1 s requests per one-second window (burst is for "
            "buckets only)",
        },
        "contenders": ["asyncbyok"],
        "skipped": {},
        "results": results,
    }


def _merged(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    """Counters added up: ``{"RateLimitError": 2}`` + ``{"RateLimitError": 1}``."""
    out: dict[str, int] = {}
    for count in counts:
        for k, v in count.items():
            out[k] = out.get(k, 0) + v
    return out


async def _gets(client: asyncbyok.Client, key_id: str, count: int) -> dict[str, Any]:
    """*count* concurrent ``client.byok.get(key_id)``: wall seconds, failures by type."""
    gc.collect()  # as in _timed: no collection left over from before falls into the timing
    began = time.perf_counter()
    outcomes = await asyncio.gather(
        *(client.byok.get(key_id) for _ in range(count)), return_exceptions=True
    )
    seconds = time.perf_counter() - began
    errors: dict[str, int] = {}
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            errors[type(outcome).__name__] = errors.get(type(outcome).__name__, 0) + 1
    return {"seconds": seconds, "failed": sum(errors.values()), "errors": errors}


def _idle_client(emu: EmulatorProcess, sizes: Sizes) -> asyncbyok.Client:
    limits = asyncbyok.Limits(max_connections=sizes.idle_connections)
    return asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url, limits=limits)


async def _idle_long_lived(emu: EmulatorProcess, sizes: Sizes) -> dict[str, Any]:
    """One client: a burst into the limit, quiet while the limit is lifted, a burst again."""
    async with _idle_client(emu, sizes) as client:
        key = await client.byok.create(provider=PROVIDER, key=raw_key("idle"), name="idle")
        await asyncio.to_thread(emu.configure, rate=sizes.idle_rate, burst=sizes.idle_burst)
        limited = await _gets(client, key.id, sizes.idle_gets)
        limiter = client.rate_limiter
        limited.update(
            client_429s=client.rate_limited,
            limiter_enabled=limiter.enabled,
            limiter_rate=limiter.rate if limiter.enabled else None,
        )
        quiet_from = time.perf_counter()
        await asyncio.to_thread(emu.configure, rate=None)
        await asyncio.sleep(max(0.0, sizes.idle_quiet - (time.perf_counter() - quiet_from)))
        # ``enabled`` is only re-checked when a request asks the limiter for a token.
        enabled_before = limiter.enabled
        relaxed_before = limiter.relaxed
        lifted = await _gets(client, key.id, sizes.idle_gets)
        lifted.update(
            limiter_enabled_before=enabled_before,
            limiter_enabled_after=limiter.enabled,
            relaxed=limiter.relaxed - relaxed_before,
            client_429s=client.rate_limited - limited["client_429s"],
        )
    return {"limited": limited, "lifted": lifted}


async def _idle_fresh(emu: EmulatorProcess, sizes: Sizes) -> dict[str, Any]:
    """A client that never met a limit: the same bursts and quiet, the server unlimited.

    Both clients' first bursts fill the same small pool (``idle_connections``), so the
    timed bursts differ only in what the 429s left behind, not in connection setup.
    """
    async with _idle_client(emu, sizes) as client:
        key = await client.byok.create(provider=PROVIDER, key=raw_key("idle"), name="idle")
        await _gets(client, key.id, sizes.idle_gets)
        await asyncio.sleep(sizes.idle_quiet)
        m = await _gets(client, key.id, sizes.idle_gets)
        m["limiter_enabled_after"] = client.rate_limiter.enabled
        return m


async def _raw_gets(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], count: int
) -> dict[str, Any]:
    """*count* concurrent gets with raw aiohttp, each sent again after a 429 once its
    ``Retry-After`` has passed (the plainest client that survives a limit): seconds."""

    async def one() -> None:
        while True:
            async with session.get(url, headers=headers) as response:
                await response.read()
                if response.status != 429:
                    response.raise_for_status()
                    return
                wait = response.headers.get("Retry-After", "1")
            await asyncio.sleep(float(wait))

    gc.collect()
    began = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    seconds = time.perf_counter() - began
    failed = sum(1 for outcome in outcomes if isinstance(outcome, BaseException))
    return {"seconds": seconds, "failed": failed}


async def _idle_raw(emu: EmulatorProcess, sizes: Sizes, *, limited: bool) -> dict[str, Any]:
    """The control: raw aiohttp on a pool of the same size, through the same bursts and
    quiet, into the limit first when *limited* (else unlimited throughout)."""
    async with _idle_client(emu, sizes) as client:
        key = await client.byok.create(provider=PROVIDER, key=raw_key("idle"), name="idle")
    url = f"{emu.base_url}/byok/{key.id}"
    headers = {"Authorization": f"Bearer {emu.management_key}"}
    connector = aiohttp.TCPConnector(limit=sizes.idle_connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        if limited:
            await asyncio.to_thread(emu.configure, rate=sizes.idle_rate, burst=sizes.idle_burst)
        await _raw_gets(session, url, headers, sizes.idle_gets)
        quiet_from = time.perf_counter()
        if limited:
            await asyncio.to_thread(emu.configure, rate=None)
        await asyncio.sleep(max(0.0, sizes.idle_quiet - (time.perf_counter() - quiet_from)))
        return await _raw_gets(session, url, headers, sizes.idle_gets)


def scenario_idle(sizes: Sizes, log: Log) -> dict[str, Any]:
    """Idle, then a burst: a client that met 429s earlier against a fresh client.

    Each round, in alternating order: a long-lived client makes ``idle_gets`` concurrent
    gets into a limit (so it meets 429s and its limiter switches on), waits ``idle_quiet``
    seconds while the limit is lifted, then makes ``idle_gets`` concurrent gets again
    (timed); a fresh client does the same against the unlimited server (its second burst
    timed), so both have the same warm connections and differ only in the 429s met.
    """
    long_lived: list[dict[str, Any]] = []
    fresh: list[dict[str, Any]] = []
    raw: dict[str, list[dict[str, Any]]] = {"long-lived": [], "fresh": []}
    variants = ["long-lived", "fresh", "aiohttp long-lived", "aiohttp fresh"]
    with EmulatorProcess(seed=8) as emu:
        for rnd in range(sizes.idle_rounds):
            for variant in _rotate(variants, rnd):
                emu.configure(rate=None)
                emu.reset()
                if variant.startswith("aiohttp"):
                    kind = variant.removeprefix("aiohttp ")
                    m = asyncio.run(_idle_raw(emu, sizes, limited=kind == "long-lived"))
                    raw[kind].append(m)
                    log(f"  idle r{rnd + 1} {variant:<19} {m['seconds']:7.3f} s")
                    continue
                if variant == "fresh":
                    m = asyncio.run(_idle_fresh(emu, sizes))
                    fresh.append(m)
                    log(f"  idle r{rnd + 1} fresh       {m['seconds']:7.3f} s")
                    continue
                m = asyncio.run(_idle_long_lived(emu, sizes))
                state = emu.state()
                m["limited"]["server_429s"] = state["rate_limited"]
                long_lived.append(m)
                a, b = m["limited"], m["lifted"]
                log(
                    f"  idle r{rnd + 1} long-lived  {b['seconds']:7.3f} s"
                    f"  (into the limit: {a['seconds']:.2f} s, {a['server_429s']} 429s,"
                    f" limiter on: {a['limiter_enabled']}; after the quiet: relaxed"
                    f" {b['relaxed']}, on: {b['limiter_enabled_after']})"
                )
    ours = _median([m["lifted"]["seconds"] for m in long_lived])
    theirs = _median([m["seconds"] for m in fresh])
    control = _ratio(
        _median([m["seconds"] for m in raw["long-lived"]]),
        _median([m["seconds"] for m in raw["fresh"]]),
    )
    ratio = _ratio(ours, theirs)
    pairs = [
        _ratio(a["lifted"]["seconds"], b["seconds"]) for a, b in zip(long_lived, fresh, strict=True)
    ]
    return {
        "params": {
            "gets": sizes.idle_gets,
            "rate": sizes.idle_rate,
            "burst": sizes.idle_burst,
            "quiet_s": sizes.idle_quiet,
            "max_connections": sizes.idle_connections,
            "rounds": sizes.idle_rounds,
            "limit": "a token bucket answering with whole-second Retry-After, the "
            "emulator's default",
            "note": "each client first creates the key it gets; concurrent client.byok.get "
            "with default settings; the fresh client also makes a first burst and waits out "
            "the same quiet (unlimited), so both time a second burst on warm connections; "
            "the two alternate which goes first",
        },
        "long_lived_s": ours,
        "fresh_s": theirs,
        "ratio": ratio,
        "aiohttp_long_lived_s": _median([m["seconds"] for m in raw["long-lived"]]),
        "aiohttp_fresh_s": _median([m["seconds"] for m in raw["fresh"]]),
        "aiohttp_ratio": control,
        # What the client's own state adds: its ratio over raw aiohttp's, side by side.
        "ratio_over_aiohttp": _ratio(ratio, control),
        "aiohttp_long_lived_s_samples": [round(m["seconds"], 4) for m in raw["long-lived"]],
        "aiohttp_fresh_s_samples": [round(m["seconds"], 4) for m in raw["fresh"]],
        "ratio_samples": [None if r is None else round(r, 3) for r in pairs],
        "long_lived_s_samples": [round(m["lifted"]["seconds"], 4) for m in long_lived],
        "fresh_s_samples": [round(m["seconds"], 4) for m in fresh],
        "into_limit_s": _median([m["limited"]["seconds"] for m in long_lived]),
        "into_limit_429s": _median([m["limited"]["server_429s"] for m in long_lived]),
        "limiter_switched_on": all(m["limited"]["limiter_enabled"] for m in long_lived),
        "limiter_relaxed": all(m["lifted"]["relaxed"] >= 1 for m in long_lived),
        "limiter_on_after": any(m["lifted"]["limiter_enabled_after"] for m in long_lived),
        "failed": {
            "into_limit": sum(m["limited"]["failed"] for m in long_lived),
            "lifted": sum(m["lifted"]["failed"] for m in long_lived),
            "fresh": sum(m["failed"] for m in fresh),
            "aiohttp": sum(m["failed"] for ms in raw.values() for m in ms),
        },
        "errors": {
            "into_limit": _merged(m["limited"]["errors"] for m in long_lived),
            "lifted": _merged(m["lifted"]["errors"] for m in long_lived),
            "fresh": _merged(m["errors"] for m in fresh),
        },
        "samples": {"long_lived": long_lived, "fresh": fresh},
    }


#: The faults after which a create's outcome is unknown to the client.
AMBIGUOUS_FAULTS = ("error", "commit_then_error", "commit_then_drop", "reset")


def _ambiguous(sample: dict[str, Any]) -> int:
    return sum(int(sample["faults"].get(f"create/{kind}", 0)) for kind in AMBIGUOUS_FAULTS)


def scenario_faults(sizes: Sizes, log: Log) -> dict[str, Any]:
    """N creates with 5xx and commit-then-fail faults: completion, duplicates, time."""
    skipped: dict[str, str] = {}
    names = _available(("asyncbyok", "openrouter"), skipped)
    config = {
        "error_rate": sizes.fault_error_rate,
        "commit_then_error_rate": sizes.fault_commit_rate,
    }
    with EmulatorProcess(seed=4) as emu:
        emu.configure(faults={sizes.fault_operations: config})
        samples = _bulk_rounds(
            emu,
            names,
            rounds=sizes.fault_rounds,
            creates=sizes.fault_creates,
            concurrency=sizes.fault_concurrency,
            cap=sizes.fault_cap,
            tag="fault",
            log=log,
        )
    results = {name: _summarise(ms) for name, ms in samples.items()}
    for r in results.values():
        r["completion"] = _ratio(r["stored_distinct"], sizes.fault_creates)
        # Reconcile cost: list requests per create whose outcome the client could not know.
        for m in r["samples"]:
            m["ambiguous"] = _ambiguous(m)
            m["lists_per_ambiguous"] = _ratio(m["list_requests"], m["ambiguous"])
        per = [m["lists_per_ambiguous"] for m in r["samples"] if m["ambiguous"]]
        r["ambiguous"] = _median([m["ambiguous"] for m in r["samples"]])
        r["lists_per_ambiguous"] = _median(per)
        r["lists_per_ambiguous_max"] = max(per, default=None)
    return {
        "params": {
            "creates": sizes.fault_creates,
            "error_rate": sizes.fault_error_rate,
            "commit_then_error_rate": sizes.fault_commit_rate,
            "faults_on": sizes.fault_operations,
            "concurrency": sizes.fault_concurrency,
            "rounds": sizes.fault_rounds,
            "cap_s": sizes.fault_cap,
            "note": "both contenders meet the same seeded fault sequence; default settings",
            "ambiguous": "the server's create faults "
            + ", ".join(AMBIGUOUS_FAULTS)
            + " (the client cannot tell whether such a create was stored)",
        },
        "contenders": names,
        "skipped": skipped,
        "results": results,
    }


# ------------------------------------------------------------------ 5. import time, memory

_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def _importtime(module: str) -> tuple[float, dict[str, float]]:
    """``python -X importtime -c 'import module'``: its cumulative ms, and the packages
    it pulls in (largest cumulative ms per top-level package other than itself)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=120,
        check=True,
    )
    lines = [m for m in map(_IMPORTTIME.match, proc.stderr.splitlines()) if m]
    # The module's subtree: the lines after the previous top-level import, up to its own.
    end = next(i for i, m in enumerate(lines) if m[4] == module and len(m[3]) <= 1)
    start = max((i for i, m in enumerate(lines[:end]) if len(m[3]) <= 1), default=-1) + 1
    total = int(lines[end][2]) / 1000
    packages: dict[str, float] = {}
    for m in lines[start:end]:
        root = m[4].split(".")[0]
        if root != module:
            packages[root] = max(packages.get(root, 0.0), int(m[2]) / 1000)
    return total, packages


# What "ready to make a call" takes, in a fresh interpreter: import, build a client, reach
# its BYOK calls, and load the HTTP library the first request needs (imported explicitly,
# so a lazy import cannot hide it).
_READY = {
    "asyncbyok": (
        "import asyncbyok, aiohttp\n"
        "c = asyncbyok.Client(api_key='sk-x', base_url='http://127.0.0.1:9/api/v1')\n"
        "c.byok.create\n"
    ),
    "openrouter": (
        "import openrouter, httpx\n"
        "c = openrouter.OpenRouter(api_key='sk-x', server_url='http://127.0.0.1:9/api/v1')\n"
        "c.byok.create_async\n"
    ),
}


def _ready_ms(module: str) -> float:
    """Milliseconds from nothing to a client ready to call (see ``_READY``)."""
    code = (
        "import time\n_t = time.perf_counter()\n"
        + _READY[module]
        + "print((time.perf_counter() - _t) * 1000)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=120,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def scenario_import(sizes: Sizes, log: Log) -> dict[str, Any]:
    """Import time of ``asyncbyok`` vs ``openrouter``: fresh interpreters, alternately."""
    skipped: dict[str, str] = {}
    modules = ["asyncbyok", *_available(["openrouter"], skipped)]
    for module in modules:  # warm-up: compile the .pyc files, fill the OS cache
        _importtime(module)
        _ready_ms(module)
    samples: dict[str, list[float]] = {m: [] for m in modules}
    ready: dict[str, list[float]] = {m: [] for m in modules}
    breakdown: dict[str, dict[str, float]] = {}
    for rnd in range(sizes.import_rounds):
        for module in _rotate(modules, rnd):
            total, packages = _importtime(module)
            samples[module].append(total)
            breakdown[module] = packages
            ready[module].append(_ready_ms(module))
            log(
                f"  import r{rnd + 1} {module:<10} {total:7.1f} ms"
                f"  (ready to call: {ready[module][-1]:.1f} ms)"
            )
    medians = {m: _median(v) for m, v in samples.items()}
    ready_medians = {m: _median(v) for m, v in ready.items()}
    top = {m: dict(sorted(p.items(), key=lambda kv: -kv[1])[:8]) for m, p in breakdown.items()}
    return {
        "params": {
            "rounds": sizes.import_rounds,
            "method": "python -X importtime -c 'import X': the module's cumulative time",
            "ready_method": "wall time of: import, build a client, reach its create call, "
            "and import its HTTP library (aiohttp / httpx)",
        },
        "skipped": skipped,
        "ms": medians,
        "ms_samples": samples,
        "ready_ms": ready_medians,
        "ready_ms_samples": ready,
        "largest_dependencies_ms": top,
        "ratio_vs_openrouter": _ratio(medians.get("asyncbyok"), medians.get("openrouter")),
        "ready_ratio_vs_openrouter": _ratio(
            ready_medians.get("asyncbyok"), ready_medians.get("openrouter")
        ),
    }


def scenario_startup(sizes: Sizes, log: Log) -> dict[str, Any]:
    """Wall time to start ``asyncbyok --help``, ``asyncbyok plan --help`` and
    ``import asyncbyok``, against ``import openrouter``: :mod:`benchmarks.startup`'s
    measurement (fresh interpreters, warm-up runs, rotating rounds), its figures here."""
    from . import startup

    argvs = startup.commands()
    skipped: dict[str, str] = {}
    reason = missing("openrouter")
    if reason is not None:
        del argvs[startup.REFERENCE]
        skipped[startup.REFERENCE] = reason
    times = startup.measure(argvs, rounds=sizes.startup_rounds, warmup=sizes.startup_warmup)
    if reason is None:
        rows = startup.summarize(times)
    else:  # no reference to divide by: the medians alone
        rows = {
            name: {
                "runs": len(samples),
                "median_ms": round(1000 * statistics.median(samples), 1),
                "ratio_to_openrouter": None,
            }
            for name, samples in times.items()
        }
    for name, row in rows.items():
        ratio = row["ratio_to_openrouter"]
        log(
            f"  startup {name:<24} {row['median_ms']:7.1f} ms"
            + ("" if ratio is None else f"  ({ratio:.2f}x {startup.REFERENCE})")
        )
    return {
        "params": {
            "rounds": sizes.startup_rounds,
            "warmup": sizes.startup_warmup,
            "method": "wall time of each command in a fresh interpreter (python -m "
            "benchmarks.startup's measurement): warm-up runs, then rounds running every "
            "command once in a rotating order; medians",
            "commands": {
                name: shlex.join([Path(argv[0]).name, *argv[1:]]) for name, argv in argvs.items()
            },
        },
        "skipped": skipped,
        "reference": startup.REFERENCE,
        "target_ratio": startup.TARGET_RATIO,
        "commands": rows,
        "ms_samples": {name: [round(1000 * t, 2) for t in ts] for name, ts in times.items()},
    }


def scenario_memory(sizes: Sizes, log: Log) -> dict[str, Any]:
    """Peak memory of ``async for`` over N keys, in a fresh process (tracemalloc + RSS)."""
    with EmulatorProcess(seed=5) as emu:
        emu.preload(sizes.memory_keys)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.memory_probe",
                "--base-url",
                emu.base_url,
                "--every",
                str(sizes.memory_every),
            ],
            input=emu.management_key,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
            timeout=1800,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"memory probe failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    samples = result["samples"]
    if len(samples) >= 2:
        first, last = samples[0], samples[-1]
        result["rss_growth_mb"] = last["rss_mb"] - first["rss_mb"]
        result["traced_growth_mb"] = last["traced_mb"] - first["traced_mb"]
        # Flat: after the first sample, neither live Python memory nor RSS keeps growing.
        result["flat"] = result["traced_growth_mb"] < 1.0 and result["rss_growth_mb"] < max(
            2.0, 0.05 * first["rss_mb"]
        )
    else:
        result["flat"] = None
    result["complete"] = result["keys"] == sizes.memory_keys
    for s in samples:
        log(
            f"  memory {s['keys']:>7} keys  RSS {s['rss_mb']:6.1f} MB"
            f"  traced {s['traced_mb']:6.2f} MB"
        )
    log(f"  memory peak traced {result['traced_peak_mb']:.2f} MB over {result['keys']} keys")
    result["params"] = {"keys": sizes.memory_keys, "every": sizes.memory_every}
    return result
