"""``python -m benchmarks``: run every scenario, write results.json, results.md, throughput.png.

::

    python -m benchmarks                  # the full run (about 25 minutes on 2 cores)
    python -m benchmarks --quick          # tiny sizes, well under a minute: checks the harness
    python -m benchmarks --only create,list --out /tmp/bench
    python -m benchmarks --only create_lean --merge   # re-run one, keep the others

Needs the ``bench`` extra (``pip install -e '.[bench]'``): httpx, the official SDK and
matplotlib. Without them those contenders (and the plot) are reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from .emulator_process import ROOT, EmulatorProcess
from .fleet import scenario_replicas
from .report import evaluate_targets, write_results
from .scale import scenario_ensure_many, scenario_ensure_max_age, scenario_large_account
from .scenarios import (
    FULL,
    QUICK,
    Sizes,
    profile_create,
    scenario_bulk,
    scenario_create,
    scenario_create_lean,
    scenario_faults,
    scenario_idle,
    scenario_import,
    scenario_limits,
    scenario_list,
    scenario_memory,
    scenario_startup,
)

__all__ = ["SCENARIOS", "main", "run"]

SCENARIOS: dict[str, Callable[[Sizes, Callable[[str], None]], dict[str, Any]]] = {
    "create": scenario_create,
    "create_lean": scenario_create_lean,
    "list": scenario_list,
    "bulk": scenario_bulk,
    "limits": scenario_limits,
    "idle": scenario_idle,
    "faults": scenario_faults,
    "import": scenario_import,
    "startup": scenario_startup,
    "memory": scenario_memory,
    "large_account": scenario_large_account,
    "ensure_many": scenario_ensure_many,
    "ensure_max_age": scenario_ensure_max_age,
    "replicas": scenario_replicas,
}

DEFAULT_OUT = ROOT / "benchmarks" / "results"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("asyncbyok", "aiohttp", "httpx", "openrouter"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu})"


def _earlier(out: Path) -> dict[str, Any] | None:
    path = out / "results.json"
    if not path.exists():
        return None
    earlier: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return earlier


def run(
    sizes: Sizes,
    *,
    only: Sequence[str] = tuple(SCENARIOS),
    out: Path = DEFAULT_OUT,
    quick: bool = False,
    profile: bool | None = None,
    command: str = "python -m benchmarks",
    log: Callable[[str], None] = _log,
    merge: bool = False,
) -> dict[str, Any]:
    """Run the scenarios in *only*; write the results into *out*; return them.

    *merge*: keep the other scenarios of the ``results.json`` already in *out* (a re-run of
    some scenarios, recorded under ``meta.reruns``), and recompute the targets over all.

    A scenario that fails is recorded with its error and the others still run.
    *profile*: profile asyncbyok's creates (``None``: only if the throughput target was
    missed in a full run).
    """
    started = time.time()
    scenarios: dict[str, Any] = {}
    for name in only:
        log(f"[{name}]")
        began = time.perf_counter()
        try:
            scenarios[name] = SCENARIOS[name](sizes, log)
        except Exception as exc:
            log(traceback.format_exc())
            scenarios[name] = {"error": f"{type(exc).__name__}: {exc}"}
        log(f"[{name}] {time.perf_counter() - began:.1f} s")
    earlier = _earlier(out) if merge else None
    if earlier is not None:
        scenarios = {**earlier["scenarios"], **scenarios}
    targets = evaluate_targets(scenarios, concurrency=sizes.target_concurrency)
    meta: dict[str, Any] = {
        "command": command,
        "quick": quick,
        "started": datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "duration_s": 0.0,
        "machine": _machine(),
        "python": platform.python_version(),
        "versions": _versions(),
        "sizes": attrs.asdict(sizes),
    }
    results: dict[str, Any] = {
        "meta": meta,
        "targets": targets,
        "scenarios": scenarios,
    }
    missed = any(t["met"] is False and t["target"].startswith("create throughput") for t in targets)
    if profile or (profile is None and missed and not quick):
        out.mkdir(parents=True, exist_ok=True)
        creates = max(sizes.creates, 200)
        log(f"[profile] asyncbyok, {creates} creates at c={sizes.target_concurrency}")
        with EmulatorProcess(seed=6) as emu:
            text = asyncio.run(
                profile_create(
                    emu.base_url,
                    emu.management_key,
                    concurrency=sizes.target_concurrency,
                    creates=creates,
                    out=str(out / "profile_create.prof"),
                )
            )
        (out / "profile_create.txt").write_text(text, encoding="utf-8")
        top = text.splitlines()
        results["profile"] = {
            "file": "profile_create.txt",
            "creates": creates,
            "concurrency": sizes.target_concurrency,
            "top": [line for line in top[:45] if line.strip()],
        }
    meta["duration_s"] = time.time() - started
    if earlier is not None:
        rerun = {k: meta[k] for k in ("command", "started", "duration_s")}
        results["meta"] = earlier["meta"]
        results["meta"]["reruns"] = [*earlier["meta"].get("reruns", []), {**rerun, "only": only}]
        if "profile" not in results and "profile" in earlier:
            results["profile"] = earlier["profile"]
    paths = write_results(results, out)
    for t in targets:
        status = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        value = t["value"]
        shown = f"{value:.2f}{t['unit']}" if isinstance(value, float) else str(value)
        log(f"  {status:<6} {t['target']}: {shown} (goal {t['goal']}) {t['detail']}")
    log("wrote " + ", ".join(str(p) for p in paths.values()))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="asyncbyok against raw aiohttp, raw httpx and the official SDK.",
    )
    parser.add_argument(
        "--quick",
        "--smoke",
        action="store_true",
        help="tiny sizes (well under a minute): checks the harness, measures nothing",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="directory for results.json, results.md, throughput.png "
        "(default: benchmarks/results, or benchmarks/results/quick with --quick)",
    )
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios (default: all of {','.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other scenarios of the results already in --out (re-run some)",
    )
    parser.add_argument("--rounds", type=int, help="override every scenario's rounds")
    parser.add_argument(
        "--faults-on",
        default="create",
        help="operation the fault scenario's faults hit: create (default), or * for all",
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cProfile asyncbyok's creates (default: when the throughput target is missed)",
    )
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {list(SCENARIOS)}")
    sizes = QUICK if args.quick else FULL
    if args.rounds:
        r = args.rounds
        sizes = attrs.evolve(
            sizes,
            create_rounds=r,
            list_rounds=r,
            bulk_rounds=r,
            fault_rounds=r,
            limit_rounds=r,
            idle_rounds=r,
            import_rounds=r,
            startup_rounds=r,
            large_rounds=r,
            ensure_rounds=r,
            max_age_rounds=r,
            replica_rounds=r,
        )
    sizes = attrs.evolve(sizes, fault_operations=args.faults_on)
    out = args.out or (DEFAULT_OUT / "quick" if args.quick else DEFAULT_OUT)
    given = list(argv) if argv is not None else sys.argv[1:]
    command = shlex.join(["python", "-m", "benchmarks", *given])
    results = run(
        sizes,
        only=only,
        out=out,
        quick=args.quick,
        profile=args.profile,
        command=command,
        merge=args.merge,
    )
    failed = [name for name, s in results["scenarios"].items() if "error" in s]
    return 1 if failed else 0
