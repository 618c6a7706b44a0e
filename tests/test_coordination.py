"""Replicas sharing one limit through Redis (:mod:`asyncbyok.coordination`).

A real ``redis-server`` (Debian's package; ``.ci/run`` installs it) is started on
loopback for these tests, and the replicas of the last test are real processes.
"""

from __future__ import annotations

import asyncio
import collections
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from asyncbyok import Client, CreateBYOKKeyRequest
from asyncbyok.coordination import RedisLimit
from asyncbyok.emulator import Emulator, RateLimit

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (Debian: apt-get install redis-server)"
    port = _free_port()
    where = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(where),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _requests(tag: str, n: int) -> list[CreateBYOKKeyRequest]:
    return [
        CreateBYOKKeyRequest(provider="openai", key=f"sk-proj-{i:06d}-{tag}AbCd", name=f"{tag}{i}")
        for i in range(n)
    ]


async def test_two_clients_keep_one_pace_and_no_secret_in_redis(redis_url: str) -> None:
    from redis.asyncio import Redis

    limit = RateLimit(rate=100, burst=5)
    async with Emulator(seed=31, rate_limit=limit) as emu:
        one = Client(
            api_key=emu.management_key,
            base_url=emu.base_url,
            shared_limit=RedisLimit(redis_url, prefix="t1"),
        )
        two = Client(
            api_key=emu.management_key,
            base_url=emu.base_url,
            shared_limit=RedisLimit(redis_url, prefix="t1"),
        )
        async with one, two:
            results = await asyncio.gather(
                one.byok.create_many(_requests("a", 60)), two.byok.create_many(_requests("b", 60))
            )
        assert all(r.ok for batch in results for r in batch)
        names = collections.Counter(r.name for r in emu.store.live())
        assert len(names) == 120
        assert max(names.values()) == 1
        # One pace for both: few refusals (each client alone would start by bursting).
        assert emu.stats.rate_limited <= 12
    redis = Redis.from_url(redis_url)
    try:
        keys = [k.decode() async for k in redis.scan_iter("t1:*")]
        assert len(keys) == 1  # one state for the management key, named by a digest
        stored = json.dumps(
            {k.decode(): v.decode() for k, v in (await redis.hgetall(keys[0])).items()}
        )
        assert emu.management_key not in keys[0]
        assert emu.management_key not in stored
    finally:
        await redis.aclose()


def test_redis_limit_repr_hides_a_password() -> None:
    shown = repr(RedisLimit("redis://app:hunter2@cache.internal:6380/1"))
    assert "hunter2" not in shown
    assert "cache.internal" in shown
    with pytest.raises(ValueError, match="start_rate"):
        RedisLimit("redis://127.0.0.1:6379/0", start_rate=0)


@pytest.mark.slow  # three processes, a few seconds under a limit
def test_replica_processes_share_the_limit_through_redis(redis_url: str) -> None:
    from benchmarks.emulator_process import EmulatorProcess
    from benchmarks.replicas import run_replicas

    with EmulatorProcess(seed=32) as emu:
        emu.configure(rate=100, burst=10)
        outcome = run_replicas(
            emu, k=3, creates=100, concurrency=16, rate=100, tag="redis", redis=redis_url
        )
    assert outcome["ok"] == 300
    assert outcome["duplicates"] == 0
    assert outcome["429s_per_create"] <= 0.1
