"""Scale with the account (issue 16): ``create_many``, ``ensure_many`` and single
``ensure(max_age=)`` calls in accounts of 20,000 and 100,000 credentials.

The account is the emulator's ``seed_keys``: ``EmulatorProcess(seed_keys=S)`` stores S
``openai`` credentials named ``seed-openai-000000``, ``seed-openai-000001``, ... at start
and again at each reset, without a request. The client runs in this process with its
default settings, against ``scale_rate`` requests a second as a token bucket (burst
``scale_burst``) or a fixed one-second window, both answering 429s with whole-second
``Retry-After``: every listing of the scope is paid for under the limit, as it would be
on the real service. Each run starts from a reset emulator (the seeded account only, a
fresh limiter, the fault sequence from its seed).

Listings are counted at the server. The client's pager reads pages of 100 keys that
overlap by 5 (``asyncbyok.pagination``), so one listing of S keys is
``1 + ceil((S - 100) / 95)`` list requests (:func:`listing_requests`); *full listings*
is the server's count of list requests divided by that.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncbyok

from .contenders import PROVIDER, raw_key
from .emulator_process import EmulatorProcess
from .scenarios import Sizes, _median, _ratio, _rotate

__all__ = [
    "listing_requests",
    "scenario_ensure_many",
    "scenario_ensure_max_age",
    "scenario_large_account",
]

Log = Callable[[str], None]

#: The pager's page (the API's largest) and how many keys consecutive pages share.
PAGE = 100
OVERLAP = 5
#: The issue's targets.
BOUND_TARGET = 1.2  # time / ((creates sent + list requests) / rate)
LARGE_LISTINGS_TARGET = 2.0
ENSURE_MANY_LISTINGS_TARGET = 1.2
MAX_AGE_LISTINGS_TARGET = 2.0


def listing_requests(keys: int) -> int:
    """List requests in one listing of a scope of *keys* credentials by the client's pager.

    >>> listing_requests(100), listing_requests(20_000), listing_requests(100_000)
    (1, 211, 1053)
    """
    if keys <= PAGE:
        return 1
    return 1 + math.ceil((keys - PAGE) / (PAGE - OVERLAP))


def _configure(emu: EmulatorProcess, sizes: Sizes, kind: str, **more: Any) -> None:
    """The scale scenarios' limit of *kind*, then a reset: a fresh limiter and store."""
    emu.configure(
        rate=sizes.scale_rate, burst=sizes.scale_burst, kind=kind, retry_after="seconds", **more
    )
    emu.reset()


def _server_counts(state: dict[str, Any], account: int) -> dict[str, Any]:
    """What the server saw in a run, *account* seeded credentials set apart."""
    return {
        "create_requests": int(state["requests"].get("create", 0)),
        "list_requests": int(state["requests"].get("list", 0)),
        "update_requests": int(state["requests"].get("update", 0)),
        "created": int(state["responses"].get("201", 0)),
        "server_429s": int(state["rate_limited"]),
        "new_stored": int(state["distinct_names"]) - account,
        "duplicates": int(state["extra_copies"]),
        "scope_after": int(state["live"]),
    }


async def _timed(work: Awaitable[Any], cap: float) -> tuple[Any, float, bool]:
    """(result, wall seconds, finished) of *work*, stopped after *cap* seconds."""
    gc.collect()  # as scenarios._timed: no collection left over falls into the timing
    began = time.perf_counter()
    try:
        result = await asyncio.wait_for(work, cap)
    except asyncio.TimeoutError:
        return None, time.perf_counter() - began, False
    return result, time.perf_counter() - began, True


def _errors(errors: Sequence[BaseException | None]) -> dict[str, int]:
    return dict(Counter(type(e).__name__ for e in errors if e is not None))


# ------------------------------------------------------------------ create_many


async def _create_many(emu: EmulatorProcess, names: Sequence[str], cap: float) -> dict[str, Any]:
    requests = [
        asyncbyok.CreateBYOKKeyRequest(provider=PROVIDER, key=raw_key(n), name=n) for n in names
    ]
    async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as client:
        results, seconds, finished = await _timed(client.byok.create_many(requests), cap)
        results = results or []
        return {
            "seconds": seconds,
            "finished": finished,
            "ok": sum(1 for r in results if r.ok),
            "failed": sum(1 for r in results if not r.ok),
            "errors": _errors([r.error for r in results]),
            "client_429s": client.rate_limited,
        }


def _large_run(
    emu: EmulatorProcess, sizes: Sizes, account: int, kind: str, tag: str
) -> dict[str, Any]:
    faults = {"create": {"commit_then_error_rate": sizes.large_commit_rate}}
    _configure(emu, sizes, kind, faults=faults)
    n, rate = sizes.large_creates, sizes.scale_rate
    m = asyncio.run(_create_many(emu, [f"{tag}-{i}" for i in range(n)], sizes.large_cap))
    state = emu.state()
    m.update(_server_counts(state, account))
    m["ambiguous"] = int(state["faults"].get("create/commit_then_error", 0))
    m["missing"] = n - m["new_stored"]
    sent = m["create_requests"] + m["list_requests"]
    m["bound_s"] = sent / rate
    m["vs_bound"] = m["seconds"] / m["bound_s"]
    # The same bound counting only the requests the server admitted (429s left out).
    m["vs_admitted_bound"] = _ratio(m["seconds"], (sent - m["server_429s"]) / rate)
    m["vs_ideal"] = m["seconds"] / (n / rate)
    # A settling listing runs once the run's creates are stored: the scope then holds
    # the account and the run's credentials. Against the account alone, for comparison.
    m["full_listings"] = m["list_requests"] / listing_requests(m["scope_after"])
    m["full_listings_of_account"] = m["list_requests"] / listing_requests(account)
    return m


def _large_row(samples: list[dict[str, Any]]) -> dict[str, Any]:
    row = {
        "seconds": _median([m["seconds"] for m in samples]),
        "vs_bound": _median([m["vs_bound"] for m in samples]),
        "vs_bound_max": max(m["vs_bound"] for m in samples),
        "vs_admitted_bound": _median([m["vs_admitted_bound"] for m in samples]),
        "vs_ideal": _median([m["vs_ideal"] for m in samples]),
        "full_listings": _median([m["full_listings"] for m in samples]),
        "full_listings_max": max(m["full_listings"] for m in samples),
        "finished": all(m["finished"] for m in samples),
    }
    for name in ("create_requests", "list_requests", "server_429s", "ambiguous"):
        row[name] = _median([m[name] for m in samples])
    for name in ("duplicates", "missing", "failed"):
        row[f"{name}_max"] = max(m[name] for m in samples)
    row["met"] = (
        row["finished"]
        and row["vs_bound"] is not None
        and row["vs_bound"] <= BOUND_TARGET
        and row["full_listings_max"] <= LARGE_LISTINGS_TARGET
        and row["duplicates_max"] == 0
        and row["missing_max"] == 0
    )
    row["samples"] = samples
    return row


def scenario_large_account(sizes: Sizes, log: Log) -> dict[str, Any]:
    """``create_many`` into accounts of ``large_accounts`` credentials, 5% of creates
    stored then answered 500: time against what its requests cost under the limit,
    full listings of the scope, duplicates and missing names."""
    n, rate = sizes.large_creates, sizes.scale_rate
    results: dict[str, Any] = {}
    for account in sizes.large_accounts:
        samples: dict[str, list[dict[str, Any]]] = {k: [] for k in sizes.scale_kinds}
        with EmulatorProcess(seed=21, seed_keys=account) as emu:
            for rnd in range(sizes.large_rounds):
                for kind in _rotate(sizes.scale_kinds, rnd):
                    m = _large_run(emu, sizes, account, kind, f"large-{kind}-r{rnd}")
                    samples[kind].append(m)
                    log(
                        f"  large {account:>7,} {kind:<6} r{rnd + 1} {m['seconds']:6.2f} s"
                        f"  {m['vs_bound']:.2f}x bound  {m['full_listings']:.2f} listings"
                        f"  {m['vs_ideal']:.2f}x N/rate  {m['create_requests']} creates"
                        f" + {m['list_requests']} lists  {m['server_429s']} 429s"
                        f"  dup {m['duplicates']}  missing {m['missing']}"
                        + ("" if m["finished"] else f"  (stopped at {sizes.large_cap:g} s)")
                    )
        for kind, ms in samples.items():
            results[f"{account}/{kind}"] = {"account": account, "kind": kind, **_large_row(ms)}
    return {
        "params": {
            "accounts": list(sizes.large_accounts),
            "creates": n,
            "rate": rate,
            "burst": sizes.scale_burst,
            "kinds": list(sizes.scale_kinds),
            "retry_after": "seconds",
            "commit_then_error_rate": sizes.large_commit_rate,
            "rounds": sizes.large_rounds,
            "cap_s": sizes.large_cap,
            "ideal_s": n / rate,
            "targets": {"vs_bound": BOUND_TARGET, "full_listings": LARGE_LISTINGS_TARGET},
            "note": "client.byok.create_many with default settings (concurrency 32); "
            "bound = (create requests + list requests, as the server counted them, 429s "
            "included) / rate; full listings = list requests / requests of one listing of "
            "the scope after the run; times and ratios are medians of rounds, counts of "
            "listings, duplicates and missing names the worst round",
        },
        "results": results,
    }


# ------------------------------------------------------------------ ensure_many


def _ensure_names(sizes: Sizes, count: int, tag: str) -> list[str]:
    """*count* names, every other one a seeded credential (spread over the account) and
    the rest new: ``count // 2`` new names."""
    step = max(1, sizes.ensure_account // math.ceil(count / 2))
    return [
        f"seed-{PROVIDER}-{i // 2 * step:06d}" if i % 2 == 0 else f"{tag}-{i}" for i in range(count)
    ]


def _spec(name: str) -> dict[str, Any]:
    return {"provider": PROVIDER, "name": name, "key": raw_key(name)}


async def _ensure_many(emu: EmulatorProcess, names: Sequence[str], cap: float) -> dict[str, Any]:
    async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as client:
        work = client.byok.ensure_many([_spec(n) for n in names])
        outcomes, seconds, finished = await _timed(work, cap)
        outcomes = outcomes or []
        return {
            "seconds": seconds,
            "finished": finished,
            "actions": dict(Counter(o.result.action for o in outcomes if o.ok)),
            "failed": sum(1 for o in outcomes if not o.ok),
            "errors": _errors([o.error for o in outcomes]),
        }


def _ensure_row(samples: list[dict[str, Any]], new: int, target: float) -> dict[str, Any]:
    listings_max = max(m["full_listings"] for m in samples)
    row = {
        "seconds": _median([m["seconds"] for m in samples]),
        "full_listings": _median([m["full_listings"] for m in samples]),
        "full_listings_max": listings_max,
        "created_max": max(m["created"] for m in samples),
        "created_min": min(m["created"] for m in samples),
        "finished": all(m["finished"] for m in samples),
    }
    for name in ("list_requests", "create_requests", "update_requests", "server_429s"):
        row[name] = _median([m[name] for m in samples])
    for name in ("duplicates", "missing", "failed"):
        row[f"{name}_max"] = max(m[name] for m in samples)
    row["met"] = (
        row["finished"]
        and listings_max <= target
        and row["created_max"] == row["created_min"] == new
        and row["duplicates_max"] == 0
        and row["missing_max"] == 0
        and row["failed_max"] == 0
    )
    row["samples"] = samples
    return row


def _ensure_params(sizes: Sizes) -> dict[str, Any]:
    return {
        "account": sizes.ensure_account,
        "rate": sizes.scale_rate,
        "burst": sizes.scale_burst,
        "kinds": list(sizes.scale_kinds),
        "retry_after": "seconds",
        "listing_requests": listing_requests(sizes.ensure_account),
    }


def scenario_ensure_many(sizes: Sizes, log: Log) -> dict[str, Any]:
    """``ensure_many`` of ``ensure_names`` names, half already stored: listings of the
    scope, and one create per missing name (counted by the server's 201s)."""
    results: dict[str, Any] = {}
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in sizes.scale_kinds}
    account, new = sizes.ensure_account, sizes.ensure_names // 2
    with EmulatorProcess(seed=22, seed_keys=account) as emu:
        for rnd in range(sizes.ensure_rounds):
            for kind in _rotate(sizes.scale_kinds, rnd):
                _configure(emu, sizes, kind)
                names = _ensure_names(sizes, sizes.ensure_names, f"many-{kind}-r{rnd}")
                m = asyncio.run(_ensure_many(emu, names, sizes.ensure_cap))
                m.update(_server_counts(emu.state(), account))
                m["missing"] = new - m["new_stored"]
                m["full_listings"] = m["list_requests"] / listing_requests(account)
                samples[kind].append(m)
                log(
                    f"  ensure_many {kind:<6} r{rnd + 1} {m['seconds']:6.2f} s"
                    f"  {m['full_listings']:.2f} listings  {m['created']} created"
                    f" (of {new} missing)  {m['actions']}  429s {m['server_429s']}"
                )
    for kind, ms in samples.items():
        results[kind] = {"kind": kind, **_ensure_row(ms, new, ENSURE_MANY_LISTINGS_TARGET)}
    return {
        "params": {
            **_ensure_params(sizes),
            "names": sizes.ensure_names,
            "missing_names": new,
            "rounds": sizes.ensure_rounds,
            "cap_s": sizes.ensure_cap,
            "targets": {"full_listings": ENSURE_MANY_LISTINGS_TARGET, "created": new},
            "note": "client.byok.ensure_many with default settings; every spec has a key, "
            "so present names are left unchanged and missing ones created; full listings "
            "= list requests / requests of one listing of the account; created = the "
            "server's 201s",
        },
        "results": results,
    }


# ------------------------------------------------------------------ ensure(max_age=)


async def _single_ensures(
    emu: EmulatorProcess, names: Sequence[str], max_age: float, concurrent: bool, cap: float
) -> dict[str, Any]:
    async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as client:

        async def one(name: str) -> asyncbyok.EnsureResult | BaseException:
            try:
                return await client.byok.ensure(**_spec(name), max_age=max_age)
            except Exception as exc:  # the outcome is the result
                return exc

        async def every() -> list[Any]:
            if concurrent:
                return list(await asyncio.gather(*(one(n) for n in names)))
            return [await one(n) for n in names]

        outcomes, seconds, finished = await _timed(every(), cap)
        outcomes = outcomes or []
        results = [o for o in outcomes if isinstance(o, asyncbyok.EnsureResult)]
        return {
            "seconds": seconds,
            "finished": finished,
            "actions": dict(Counter(r.action for r in results)),
            "failed": len(outcomes) - len(results),
            "errors": _errors([o for o in outcomes if isinstance(o, BaseException)]),
        }


def scenario_ensure_max_age(sizes: Sizes, log: Log) -> dict[str, Any]:
    """``max_age_calls`` single ``client.byok.ensure(..., max_age=...)`` calls in one
    client, one after another and all at once: the listings they make in all."""
    variants = ["sequential", "concurrent"]
    account, new = sizes.ensure_account, sizes.max_age_calls // 2
    samples: dict[str, list[dict[str, Any]]] = {
        f"{k}/{v}": [] for k in sizes.scale_kinds for v in variants
    }
    with EmulatorProcess(seed=23, seed_keys=account) as emu:
        for rnd in range(sizes.max_age_rounds):
            for kind in _rotate(sizes.scale_kinds, rnd):
                for variant in _rotate(variants, rnd):
                    _configure(emu, sizes, kind)
                    tag = f"age-{kind}-{variant}-r{rnd}"
                    names = _ensure_names(sizes, sizes.max_age_calls, tag)
                    concurrent = variant == "concurrent"
                    m = asyncio.run(
                        _single_ensures(emu, names, sizes.max_age, concurrent, sizes.ensure_cap)
                    )
                    m.update(_server_counts(emu.state(), account))
                    m["missing"] = new - m["new_stored"]
                    m["full_listings"] = m["list_requests"] / listing_requests(account)
                    samples[f"{kind}/{variant}"].append(m)
                    log(
                        f"  ensure(max_age) {kind:<6} {variant:<10} r{rnd + 1}"
                        f" {m['seconds']:6.2f} s  {m['full_listings']:.2f} listings"
                        f"  {m['created']} created (of {new} missing)  {m['actions']}"
                    )
    results = {
        key: {
            "kind": key.split("/")[0],
            "variant": key.split("/")[1],
            **_ensure_row(ms, new, MAX_AGE_LISTINGS_TARGET),
        }
        for key, ms in samples.items()
    }
    return {
        "params": {
            **_ensure_params(sizes),
            "calls": sizes.max_age_calls,
            "missing_names": new,
            "max_age_s": sizes.max_age,
            "variants": variants,
            "rounds": sizes.max_age_rounds,
            "targets": {"full_listings": MAX_AGE_LISTINGS_TARGET, "created": new},
            "note": "one client per run; each call is client.byok.ensure(provider, name, "
            "key, max_age=...), every other name already stored; full listings = list "
            "requests of all the calls / requests of one listing of the account",
        },
        "results": results,
    }
