"""Replicas: k processes, each with its own ``Client``, on one management key and one limit.

A service scaled to k replicas shares its management key, so the server's rate limit is
shared too, and no replica knows how many others there are. Each replica here is a real
process (``python -m benchmarks.replicas worker ...``) that builds its own client, waits
for a common start signal, runs ``client.byok.create_many`` of N credentials and reports
when it finished. The harness measures, per run:

- the slowest replica's time against ``k * N / rate``, the least the limit allows;
- the fastest replica's time against the slowest (fairness);
- the 429s the server sent, per create.

``python -m benchmarks.replicas --k 4 --creates 500 --kind bucket`` runs one setting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import asyncbyok

from .contenders import PROVIDER, raw_key
from .emulator_process import ROOT, EmulatorProcess, subprocess_env

__all__ = ["run_replicas"]


async def _work(
    base_url: str, key: str, tag: str, creates: int, concurrency: int, redis: str
) -> dict[str, Any]:
    requests = [
        asyncbyok.CreateBYOKKeyRequest(
            provider=PROVIDER, key=raw_key(f"{tag}-{i}"), name=f"{tag}-{i}"
        )
        for i in range(creates)
    ]
    shared = None
    if redis:
        from asyncbyok.coordination import RedisLimit

        shared = RedisLimit(redis)
    async with asyncbyok.Client(api_key=key, base_url=base_url, shared_limit=shared) as client:
        # Ready: the session exists and the first request will not pay for it.
        print(json.dumps({"ready": True}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.time()
        trace = []
        done = [0]

        async def sample() -> None:
            while True:
                pacer = client.rate_limiter
                trace.append(
                    (
                        round(time.time() - started, 2),
                        round(pacer.rate, 1) if pacer.enabled else None,
                        done[0],
                        client.rate_limited,
                    )
                )
                await asyncio.sleep(0.5)

        sampler = asyncio.ensure_future(sample())
        results = await client.byok.create_many(
            requests,
            concurrency=concurrency,
            on_progress=lambda r: done.__setitem__(0, done[0] + 1),
        )
        sampler.cancel()
        finished = time.time()
        return {
            "tag": tag,
            "started": started,
            "finished": finished,
            "ok": sum(1 for r in results if r.ok),
            "failed": sum(1 for r in results if not r.ok),
            "errors": sorted({type(r.error).__name__ for r in results if r.error is not None}),
            "client_429s": client.rate_limited,
            "coordinated": client.rate_limiter.coordinated,
            "trace": trace,
        }


def _worker(argv: Sequence[str]) -> int:
    base_url, key, tag, creates, concurrency, redis = argv
    outcome = asyncio.run(_work(base_url, key, tag, int(creates), int(concurrency), redis))
    print(json.dumps(outcome), flush=True)
    return 0


def run_replicas(
    emu: EmulatorProcess,
    *,
    k: int,
    creates: int,
    concurrency: int,
    rate: float,
    tag: str,
    redis: str = "",
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Run *k* replica processes of *creates* each against *emu* (already configured)."""
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.replicas",
                "worker",
                emu.base_url,
                emu.management_key,
                f"{tag}-k{k}-r{i}",
                str(creates),
                str(concurrency),
                redis,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
        )
        for i in range(k)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"a replica exited before it was ready ({process.wait()})")
        emu.reset_stats()
        go = time.time()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = []
        for process in processes:
            out, _ = process.communicate(timeout=timeout)
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    state = emu.state()
    ideal = k * creates / rate
    times = sorted(o["finished"] - go for o in outcomes)
    return {
        "k": k,
        "creates_each": creates,
        "ideal_s": ideal,
        "slowest_s": times[-1],
        "fastest_s": times[0],
        "replica_s": [round(t, 3) for t in times],
        "slowest_vs_ideal": times[-1] / ideal,
        "fastest_vs_slowest": times[0] / times[-1],
        "server_429s": state["rate_limited"],
        "429s_per_create": state["rate_limited"] / (k * creates),
        "ok": sum(o["ok"] for o in outcomes),
        "failed": sum(o["failed"] for o in outcomes),
        "errors": sorted({e for o in outcomes for e in o["errors"]}),
        "duplicates": state["extra_copies"],
        "create_requests": state["requests"].get("create", 0),
        "coordinated": [o["coordinated"] for o in outcomes],
        "outcomes": outcomes,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["worker"]:
        return _worker(args_list[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replicas")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--kind", default="bucket")
    parser.add_argument("--retry-after", default="seconds")
    parser.add_argument("--headers", default="none")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(args_list)
    with EmulatorProcess(seed=11) as emu:
        for rnd in range(args.rounds):
            emu.reset()
            emu.configure(
                rate=args.rate,
                burst=args.burst,
                kind=args.kind,
                retry_after=args.retry_after,
                state_headers=args.headers,
            )
            result = run_replicas(
                emu,
                k=args.k,
                creates=args.creates,
                concurrency=args.concurrency,
                rate=args.rate,
                tag=f"r{rnd}",
            )
            print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
