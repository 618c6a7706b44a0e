"""Fault injection: the seeded plan on its own, then each fault as a client meets it."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from typing import Any

import aiohttp
import pytest

from asyncbyok.emulator import Emulator, FaultConfig, FaultPlan, Faults

from .conftest import VALID_KEY, Api


def within(observed: int, n: int, rate: float) -> bool:
    """Observed count within 4 standard deviations of the binomial mean (plus one)."""
    return abs(observed - n * rate) <= 4 * math.sqrt(n * rate * (1 - rate)) + 1


# ------------------------------------------------------------------ the plan, pure


@pytest.mark.parametrize(
    "config",
    [
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"error_rate": 0.6, "reset_rate": 0.6},
        {"latency": -1.0},
        {"latency": float("nan")},
        {"latency": 0.1, "latency_range": (0.0, 0.2)},
        {"latency_range": (0.2, 0.1)},
        {"error_statuses": ()},
        {"error_statuses": (404,)},
    ],
)
def test_bad_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message differs per field
        FaultConfig(**config)


def test_rules_name_operations_or_star() -> None:
    with pytest.raises(ValueError, match="unknown operations"):
        Faults({"crate": FaultConfig()})
    faults = Faults({"create": FaultConfig(error_rate=1.0), "*": FaultConfig(latency=0.5)})
    assert faults.for_operation("create") == FaultConfig(error_rate=1.0)
    assert faults.for_operation("list") == FaultConfig(latency=0.5)
    assert Faults().for_operation("list") is None
    assert Faults.everywhere(reset_rate=0.2).for_operation("delete") == FaultConfig(reset_rate=0.2)


def test_same_seed_same_sequence_per_operation() -> None:
    faults = Faults.everywhere(error_rate=0.3, latency_range=(0.0, 1.0))
    one, two = FaultPlan(faults, seed=7), FaultPlan(faults, seed=7)
    first = [one.decide("create") for _ in range(50)]
    # Other operations drawn in between do not shift the create sequence.
    second = []
    for _ in range(50):
        two.decide("list")
        second.append(two.decide("create"))
    assert first == second
    assert first != [FaultPlan(faults, seed=8).decide("create") for _ in range(50)]
    one.reseed(7)
    assert [one.decide("create") for _ in range(50)] == first


def test_sequence_does_not_depend_on_when_faults_were_switched_on() -> None:
    on = FaultPlan(Faults.everywhere(error_rate=0.5), seed=3)
    later = FaultPlan(Faults(), seed=3)
    for _ in range(10):
        on.decide("get")
        assert later.decide("get").kind is None
    later.faults = on.faults
    assert [on.decide("get") for _ in range(20)] == [later.decide("get") for _ in range(20)]


def test_each_kind_fires_at_its_rate() -> None:
    config = FaultConfig(
        reset_rate=0.05,
        error_rate=0.10,
        slow_rate=0.02,
        conflict_rate=0.08,
        commit_then_error_rate=0.05,
        commit_then_drop_rate=0.04,
        latency_range=(0.01, 0.03),
    )
    n = 10_000
    plan = FaultPlan(Faults({"*": config}), seed=11)
    decisions = [plan.decide("update") for _ in range(n)]
    kinds = Counter(d.kind for d in decisions)
    for kind, rate in config.exclusive_rates("update"):
        assert within(kinds[kind], n, rate), (kind, kinds[kind])
    assert all(0.01 <= d.latency <= 0.03 for d in decisions)
    statuses = Counter(d.status for d in decisions if d.kind == "error")
    assert set(statuses) == {500, 502, 503}
    # conflict applies to updates only
    assert all(plan.decide("create").kind != "conflict" for _ in range(2000))


# ------------------------------------------------------------------ faults on the wire


async def test_create_faults_fire_at_their_rates_and_commit_then_fail_stores(
    emu: Emulator, api: Api
) -> None:
    config = FaultConfig(
        reset_rate=0.05, error_rate=0.10, commit_then_error_rate=0.05, commit_then_drop_rate=0.05
    )
    faults = Faults({"create": config})
    emu.faults = faults
    # The emulator's plan is seeded: a plan with the same seed predicts every request.
    predicted = FaultPlan(faults, seed=emu.seed)
    n = 600
    outcome: dict[str, list[int]] = {}
    for i in range(n):
        expected = predicted.decide("create").kind or "none"
        outcome.setdefault(expected, []).append(i)
        body = {"provider": "openai", "key": VALID_KEY, "name": f"n{i}"}
        try:
            reply = await api.call("POST", "/byok", json=body)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            assert expected in ("reset", "commit_then_drop"), i
        else:
            wanted = {"none": {201}, "error": {500, 502, 503}, "commit_then_error": {500}}
            assert reply.status in wanted[expected], (i, expected, reply.status)

    for kind, rate in config.exclusive_rates("create"):
        if rate:
            assert within(len(outcome[kind]), n, rate), kind
            assert emu.stats.faults[("create", kind)] == len(outcome[kind])
    emu.faults = None  # off, to inspect
    stored = sorted(int(r.name[1:]) for r in emu.store.live())  # type: ignore[index]
    committed = outcome["none"] + outcome["commit_then_error"] + outcome["commit_then_drop"]
    assert stored == sorted(committed)  # exactly these, no duplicates
    listed = await api.list(limit=100)
    assert listed.body["total_count"] == len(committed)
    # Errors and resets are answered before the handler: only commits reached it.
    assert [op for op, _ in emu.received].count("create") == len(committed)


async def test_reset_drops_before_reading_and_stores_nothing(emu: Emulator, api: Api) -> None:
    emu.faults = Faults({"create": FaultConfig(reset_rate=1.0)})
    for _ in range(5):
        with pytest.raises((aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)):
            await api.create()
    assert emu.store.records == []
    assert emu.received == []  # never reached the handler
    assert emu.stats.faults[("create", "reset")] == 5
    emu.faults = None
    await api.create()
    assert len(emu.store.live()) == 1


async def test_error_rate_on_every_operation(emu: Emulator, api: Api) -> None:
    created = await api.create()
    emu.faults = Faults.everywhere(error_rate=0.25)
    n = 400
    failed = 0
    for i in range(n):
        reply = await (api.list() if i % 2 else api.get(created["id"]))
        assert reply.status in (200, 500, 502, 503)
        failed += reply.status != 200
    assert within(failed, n, 0.25)
    assert failed == emu.stats.faults[("list", "error")] + emu.stats.faults[("get", "error")]


async def test_conflict_on_update_changes_nothing(emu: Emulator, api: Api) -> None:
    created = await api.create(name="before")
    emu.faults = Faults({"update": FaultConfig(conflict_rate=0.2)})
    n = 400
    statuses: Counter[int] = Counter()
    for i in range(n):
        reply = await api.update(created["id"], name=f"v{i}")
        statuses[reply.status] += 1
        if reply.status == 409:
            assert reply.checked == "jsonschema"  # PATCH documents no 409 in the excerpt
    assert set(statuses) == {200, 409}
    assert within(statuses[409], n, 0.2)
    assert emu.stats.faults[("update", "conflict")] == statuses[409]


async def test_slow_response_beats_a_client_timeout_and_stores_afterwards(
    emu: Emulator, api: Api
) -> None:
    emu.faults = Faults({"create": FaultConfig(slow_rate=1.0, slow_seconds=0.3)})
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await api.call("POST", "/byok", json={"provider": "openai", "key": VALID_KEY}, timeout=0.1)
    assert emu.store.records == []  # not yet: the slow server acts after its delay
    deadline = time.monotonic() + 5
    while not emu.store.records and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert time.monotonic() - started >= 0.3
    assert len(emu.store.live()) == 1  # stored, though the client cannot know it
    assert emu.stats.faults[("create", "slow")] == 1
    assert emu.stats.unexpected_errors == 0


@pytest.mark.parametrize(
    ("config", "low", "high"),
    [(FaultConfig(latency=0.05), 0.05, 0.5), (FaultConfig(latency_range=(0.02, 0.06)), 0.02, 0.5)],
)
async def test_latency_is_added(
    emu: Emulator, api: Api, config: FaultConfig, low: float, high: float
) -> None:
    emu.faults = config
    for _ in range(5):
        started = time.monotonic()
        reply = await api.list()
        assert low <= time.monotonic() - started < high
        assert reply.status == 200
    assert emu.stats.faults[("list", "latency")] == 5


async def test_commit_then_fail_on_delete_and_update(emu: Emulator, api: Api) -> None:
    a, b = await api.create(), await api.create()
    emu.faults = Faults(
        {
            "update": FaultConfig(commit_then_error_rate=1.0),
            "delete": FaultConfig(commit_then_drop_rate=1.0),
        }
    )
    assert (await api.update(a["id"], name="changed")).status == 500
    # aiohttp resends an idempotent request (DELETE) once after a disconnect, so the
    # client sees the second answer: 404, the first attempt having deleted the key.
    assert (await api.delete(b["id"])).status == 404
    assert emu.stats.requests["delete"] == 2
    assert emu.stats.faults[("delete", "commit_then_drop")] == 1
    emu.faults = None
    assert (await api.get(a["id"])).data["name"] == "changed"
    assert (await api.get(b["id"])).status == 404


async def test_a_refused_request_commits_nothing_so_no_commit_fault(
    emu: Emulator, api: Api
) -> None:
    emu.faults = Faults({"create": FaultConfig(commit_then_error_rate=1.0)})
    reply = await api.call("POST", "/byok", json={"provider": "openai", "key": ""})
    assert reply.status == 400
    assert emu.stats.faults[("create", "commit_then_error")] == 0
