"""The benchmark harness at tiny sizes (``python -m benchmarks --quick``), so it cannot rot.

Benchmarks are not tests: nothing here looks at a timing or a ratio, only at the files
written and the shape of what is in them. Contenders whose package is missing (httpx and
the official SDK are in the ``bench`` extra, not ``test``) must be reported as skipped.

The quick run with ``--profile`` takes about 45 s on two cores (the replicas scenario,
which starts processes and a ``redis-server``, is a third of it), so it is marked
``slow``: plain ``pytest`` leaves it out, CI runs it (``pytest -m slow``). The fast suite
still checks that the harness imports and knows its scenarios, and that the scale
scenarios count listings as the client's pager makes them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from asyncbyok import Client
from asyncbyok.emulator import Emulator

ROOT = Path(__file__).resolve().parent.parent
#: The scenarios whose results the checks below read.
CHECKED = {
    "create",
    "list",
    "bulk",
    "faults",
    "import",
    "memory",
    "large_account",
    "ensure_many",
    "ensure_max_age",
    "replicas",
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--profile", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a guard against a hang, not a timing assertion
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_the_harness_knows_its_scenarios_and_refuses_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchmarks.run import SCENARIOS, main

    assert set(SCENARIOS) >= CHECKED
    with pytest.raises(SystemExit) as exited:
        main(["--only", "create,nope"])
    assert exited.value.code == 2
    assert "unknown scenarios ['nope']" in capsys.readouterr().err


@pytest.mark.slow
def test_every_scenario_ran(quick_run: tuple[Path, dict[str, Any]]) -> None:
    from benchmarks.run import SCENARIOS

    _, results = quick_run
    assert results["meta"]["quick"] is True
    assert set(results["scenarios"]) == set(SCENARIOS)  # every scenario the harness has
    for name, scenario in results["scenarios"].items():
        assert "error" not in scenario, (name, scenario.get("error"))


@pytest.mark.slow
def test_files_written(quick_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = quick_run
    markdown = (out / "results.md").read_text(encoding="utf-8")
    for heading in (
        "## Targets",
        "## 1. Create throughput",
        "## 2. List all keys",
        "## 6a. Bulk into a large account",
        "## 6b. ensure_many in a large account",
        "## 6c. Single ensures with max_age",
        "## 6d. Replicas on one key",
    ):
        assert heading in markdown
    assert (out / "profile_create.txt").stat().st_size > 0
    if _installed("matplotlib"):
        assert (out / "throughput.png").read_bytes().startswith(b"\x89PNG")
    else:
        assert "matplotlib" in results["plot_skipped"]


@pytest.mark.slow
def test_create_shape(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick_run
    create = results["scenarios"]["create"]
    expected = {"asyncbyok", "aiohttp"}
    expected |= {"httpx"} if _installed("httpx") else set()
    expected |= {"openrouter"} if _installed("openrouter") else set()
    assert set(create["contenders"]) == expected
    assert set(create["contenders"]) | set(create["skipped"]) == {
        "asyncbyok",
        "aiohttp",
        "httpx",
        "openrouter",
    }
    for concurrency in create["params"]["concurrencies"]:
        row = create["by_concurrency"][str(concurrency)]
        assert {"rps_vs_aiohttp", "rps_vs_openrouter"} <= set(row["ratios"])
        for name in expected:
            assert row[name]["rps"] > 0
            assert row[name]["cpu_us"] > 0
            assert row[name]["failed"] == 0


@pytest.mark.slow
def test_correctness_figures(quick_run: tuple[Path, dict[str, Any]]) -> None:
    """Not timings: what the harness reports as correct must be correct at any speed."""
    _, results = quick_run
    scenarios = results["scenarios"]
    for name, row in scenarios["list"]["results"].items():
        assert row["complete"], name  # every key listed exactly once
    bulk = scenarios["bulk"]["results"]["asyncbyok"]
    assert {"seconds", "vs_ideal", "server_429s", "duplicates_max", "missing"} <= set(bulk)
    assert bulk["duplicates_max"] == 0
    faults = scenarios["faults"]["results"]["asyncbyok"]
    assert {"seconds", "finished", "completion", "duplicates_max"} <= set(faults)
    assert faults["duplicates_max"] == 0
    imports = scenarios["import"]
    assert imports["ms"]["asyncbyok"] > 0
    memory = scenarios["memory"]
    assert memory["complete"]
    assert len(memory["samples"]) >= 2


@pytest.mark.slow
def test_targets_listed(quick_run: tuple[Path, dict[str, Any]]) -> None:
    _, results = quick_run
    names = " ".join(t["target"] for t in results["targets"])
    for part in (
        "create throughput vs raw aiohttp",
        "list all",
        "bulk",
        "faults",
        "memory",
        "large account of",
        "ensure_many of",
        "ensure(max_age=",
        "replicas, x-ratelimit",
        "replicas, ietf",
        "idle then burst",
    ):
        assert part in names
    for target in results["targets"]:
        assert {"target", "goal", "value", "met", "detail"} <= set(target)


@pytest.mark.slow
def test_idle_is_measured_against_raw_aiohttp_too(quick_run: tuple[Path, dict[str, Any]]) -> None:
    """The idle scenario's control: raw aiohttp through the same bursts and quiet, so
    what any client meets after 429s on this machine is told apart from the SDK's state."""
    _, results = quick_run
    idle = results["scenarios"]["idle"]
    assert idle["failed"] == {"into_limit": 0, "lifted": 0, "fresh": 0, "aiohttp": 0}
    assert idle["aiohttp_long_lived_s"] > 0
    assert idle["aiohttp_fresh_s"] > 0
    assert idle["ratio_over_aiohttp"] == pytest.approx(idle["ratio"] / idle["aiohttp_ratio"])
    assert idle["limiter_switched_on"]
    assert idle["limiter_relaxed"]


@pytest.mark.slow
def test_scale_correctness_figures(quick_run: tuple[Path, dict[str, Any]]) -> None:
    """Issue 16's scenarios: every credential stored once, one create per missing name.

    Counts, not timings (listings and ratios depend on the machine's speed)."""
    _, results = quick_run
    scenarios = results["scenarios"]
    large = scenarios["large_account"]
    assert large["results"]
    for row in large["results"].values():
        assert row["finished"]
        assert (row["duplicates_max"], row["missing_max"], row["failed_max"]) == (0, 0, 0)
        assert {"vs_bound", "vs_ideal", "full_listings_max", "server_429s"} <= set(row)
        for sample in row["samples"]:
            assert sample["new_stored"] == large["params"]["creates"]
    for name in ("ensure_many", "ensure_max_age"):
        scenario = scenarios[name]
        missing = scenario["params"]["missing_names"]
        assert missing > 0
        for row in scenario["results"].values():
            assert row["finished"]
            assert row["created_min"] == row["created_max"] == missing  # the server's 201s
            assert (row["duplicates_max"], row["missing_max"], row["failed_max"]) == (0, 0, 0)
            assert row["update_requests"] == 0  # present names were asked for as they are
            assert row["full_listings_max"] >= 1  # a lookup lists the scope at least once
    replicas = scenarios["replicas"]
    modes = {row["mode"] for row in replicas["results"].values()}
    redis_here = shutil.which("redis-server") is not None and _installed("redis")
    expected = {"independent", "x-ratelimit", "ietf"} | ({"redis"} if redis_here else set())
    assert modes == expected
    assert ("redis" in replicas["skipped"]) is not redis_here
    for row in replicas["results"].values():
        assert row["finished"], row["mode"]
        assert row["complete"], row["mode"]
        assert row["duplicates_max"] == 0
        assert row["failed"] == 0


@pytest.mark.parametrize("stored", [0, 100, 101, 196, 1_000])
async def test_listing_requests_is_what_a_lookup_sends(stored: int) -> None:
    """benchmarks.scale counts listings as list requests / listing_requests(S): that must
    be what the client's lookup of a scope of S credentials sends."""
    from benchmarks.scale import listing_requests

    async with (
        Emulator(seed_keys=stored, seed=3) as emu,
        Client(api_key=emu.management_key, base_url=emu.base_url) as client,
    ):
        await client.byok.ensure(provider="openai", name="new", key="sk-proj-0000-AbCdEfGh")
        assert emu.stats.requests["list"] == listing_requests(stored)
        assert emu.stats.requests["create"] == 1
