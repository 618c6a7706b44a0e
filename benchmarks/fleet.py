"""Replicas on one management key (issue 16): k real processes share one rate limit.

Each run is :func:`benchmarks.replicas.run_replicas`: k processes, each with its own
``Client``, each ``create_many`` of ``replica_creates / k`` credentials, started together
against the emulator in another process. Four ways of coordinating them:

- ``independent``: no rate-limit headers, no Redis: what k clients do on their own (the
  reference; the issue's targets are not expected of it);
- ``x-ratelimit``: the server sends ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` on
  every answer, and every client paces itself by that shared count;
- ``ietf``: the same with the IETF draft's ``RateLimit``/``RateLimit-Policy`` fields;
- ``redis``: no headers; the replicas share one pace through a ``redis-server`` this
  scenario starts on a free loopback port (``Client(shared_limit=RedisLimit(url))``),
  its database emptied before each run so that every run starts as a fresh fleet.

Per run: the slowest replica's time against ``k * N / rate`` (all the creates at the
limit's rate), the fastest replica's against the slowest (fairness), and the server's
429s per create.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from .emulator_process import EmulatorProcess
from .replicas import run_replicas
from .scenarios import Sizes, _median, _rotate

__all__ = ["MODES", "redis_missing", "redis_server", "scenario_replicas"]

Log = Callable[[str], None]

#: Coordination mode -> (the emulator's ``state_headers``, whether replicas share Redis).
MODES: dict[str, tuple[str, bool]] = {
    "independent": ("none", False),
    "x-ratelimit": ("x-ratelimit", False),
    "ietf": ("ietf", False),
    "redis": ("none", True),
}
#: The mode the targets are not expected of (what independent clients do).
REFERENCE = "independent"
#: The issue's targets, per run.
SLOWEST_TARGET = 1.2  # slowest replica / (k * N / rate), at most
FAIRNESS_TARGET = 0.85  # fastest replica / slowest, at least
REFUSALS_TARGET = 0.1  # the server's 429s per create, at most


def redis_missing() -> str | None:
    """Why the ``redis`` mode cannot run here, or ``None``."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (Debian: apt-get install redis-server)"
    if importlib.util.find_spec("redis") is None:
        return "the redis package is not installed (pip install -e '.[redis]')"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def redis_server(start_timeout: float = 10.0) -> Iterator[str]:
    """A ``redis-server`` on a free loopback port, persisting nothing; yields its URL."""
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server is not installed")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as where:
        command = [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", where]
        # Nothing persisted: no snapshots, no append-only file.
        command += ["--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def _flush(url: str) -> None:
    """Empty the database: the next run's replicas start as a fresh fleet."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _run(
    emu: EmulatorProcess, sizes: Sizes, k: int, kind: str, mode: str, url: str, tag: str
) -> dict[str, Any]:
    headers, shared = MODES[mode]
    emu.configure(
        rate=sizes.scale_rate,
        burst=sizes.scale_burst,
        kind=kind,
        retry_after="seconds",
        state_headers=headers,
    )
    emu.reset()
    if shared:
        _flush(url)
    try:
        r = run_replicas(
            emu,
            k=k,
            creates=sizes.replica_creates // k,
            concurrency=sizes.replica_concurrency,
            rate=sizes.scale_rate,
            tag=tag,
            redis=url if shared else "",
            timeout=sizes.replica_cap,
        )
    except subprocess.TimeoutExpired:
        return {"finished": False, "error": f"a replica ran past {sizes.replica_cap:g} s"}
    for outcome in r["outcomes"]:  # the pace sampled every 0.5 s: a plot's, not a result's
        outcome.pop("trace", None)
    r["finished"] = True
    return r


def _row(samples: list[dict[str, Any]], total: int) -> dict[str, Any]:
    done = [m for m in samples if m["finished"]]
    row: dict[str, Any] = {
        "finished": len(done) == len(samples),
        "rounds": len(samples),
        "slowest_vs_ideal": _median([m["slowest_vs_ideal"] for m in done]),
        "slowest_vs_ideal_max": max((m["slowest_vs_ideal"] for m in done), default=None),
        "fastest_vs_slowest": _median([m["fastest_vs_slowest"] for m in done]),
        "fastest_vs_slowest_min": min((m["fastest_vs_slowest"] for m in done), default=None),
        "per_create_429s": _median([m["429s_per_create"] for m in done]),
        "per_create_429s_max": max((m["429s_per_create"] for m in done), default=None),
        "slowest_s": _median([m["slowest_s"] for m in done]),
        "fastest_s": _median([m["fastest_s"] for m in done]),
        "duplicates_max": max((m["duplicates"] for m in done), default=None),
        "failed": sum(m["failed"] for m in done),
        "complete": all(m["ok"] == total for m in done),
        "coordinated": _median([sum(m["coordinated"]) / len(m["coordinated"]) for m in done]),
    }
    row["met"] = bool(
        row["finished"]
        and done
        and row["slowest_vs_ideal"] <= SLOWEST_TARGET
        and row["fastest_vs_slowest"] >= FAIRNESS_TARGET
        and row["per_create_429s"] <= REFUSALS_TARGET
        and row["duplicates_max"] == 0
        and row["complete"]
    )
    row["samples"] = samples
    return row


def _log_run(log: Log, key: str, rnd: int, m: dict[str, Any]) -> None:
    if not m["finished"]:
        log(f"  replicas {key:<26} r{rnd + 1} {m['error']}")
        return
    log(
        f"  replicas {key:<26} r{rnd + 1} slowest {m['slowest_s']:5.2f} s"
        f" ({m['slowest_vs_ideal']:.2f}x)  fastest/slowest {m['fastest_vs_slowest']:.2f}"
        f"  {m['429s_per_create']:.3f} 429s/create  ok {m['ok']}  dup {m['duplicates']}"
        f"  server-led {sum(m['coordinated'])}/{len(m['coordinated'])}"
    )


def scenario_replicas(sizes: Sizes, log: Log) -> dict[str, Any]:
    """k replica processes, ``replica_creates`` creates in all, per limiter kind and mode
    of coordination; the modes alternate in each round (ABCD, BCDA, ...)."""
    skipped: dict[str, str] = {}
    modes = list(sizes.replica_modes)
    reason = redis_missing() if "redis" in modes else None
    if reason is not None:
        modes.remove("redis")
        skipped["redis"] = reason
    samples: dict[str, list[dict[str, Any]]] = {}
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(redis_server()) if "redis" in modes else ""
        emu = stack.enter_context(EmulatorProcess(seed=24))
        for k in sizes.replica_counts:
            for kind in sizes.replica_kinds:
                for rnd in range(sizes.replica_rounds):
                    for mode in _rotate(modes, rnd):
                        key = f"{k}/{kind}/{mode}"
                        m = _run(emu, sizes, k, kind, mode, url, f"{kind}-{mode}-r{rnd}")
                        samples.setdefault(key, []).append(m)
                        _log_run(log, key, rnd, m)
    results = {}
    for key, ms in samples.items():
        count, kind, mode = key.split("/")
        k = int(count)
        results[key] = {
            "k": k,
            "kind": kind,
            "mode": mode,
            **_row(ms, sizes.replica_creates // k * k),
        }
    return {
        "params": {
            "replicas": list(sizes.replica_counts),
            "creates": sizes.replica_creates,
            "concurrency": sizes.replica_concurrency,
            "rate": sizes.scale_rate,
            "burst": sizes.scale_burst,
            "kinds": list(sizes.replica_kinds),
            "retry_after": "seconds",
            "modes": modes,
            "reference": REFERENCE,
            "rounds": sizes.replica_rounds,
            "cap_s": sizes.replica_cap,
            "ideal_s": sizes.replica_creates / sizes.scale_rate,
            "targets": {
                "slowest_vs_ideal": SLOWEST_TARGET,
                "fastest_vs_slowest": FAIRNESS_TARGET,
                "per_create_429s": REFUSALS_TARGET,
            },
            "note": "each replica a process with its own Client (default settings, "
            "create_many at the concurrency shown), all on one management key; times from "
            "the common start signal; ratios are medians of rounds (every round in "
            "samples), duplicates the worst round",
        },
        "skipped": skipped,
        "results": results,
    }
