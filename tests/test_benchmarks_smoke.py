"""The benchmark harness at tiny sizes (``python -m benchmarks --quick``), so it cannot rot.

Benchmarks are not tests: nothing here looks at a timing or a ratio, only at the files
written and the shape of what is in them. Contenders whose package is missing (httpx and
the official SDK are in the ``bench`` extra, not ``test``) must be reported as skipped.

The quick run with ``--profile`` takes about 20 s on two cores, so it is marked ``slow``:
plain ``pytest`` leaves it out, CI runs it (``pytest -m slow``). The fast suite still
checks that the harness imports and knows its scenarios.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The scenarios whose results the checks below read.
CHECKED = {"create", "list", "bulk", "faults", "import", "memory"}


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
    for heading in ("## Targets", "## 1. Create throughput", "## 2. List all keys"):
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
    for part in ("create throughput vs raw aiohttp", "list all", "bulk", "faults", "memory"):
        assert part in names
    for target in results["targets"]:
        assert {"target", "goal", "value", "met", "detail"} <= set(target)
