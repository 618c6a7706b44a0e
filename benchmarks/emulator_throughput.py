"""Requests per second the emulator sustains: N creates, then N list calls.

The emulator runs in its own process (``python -m asyncbyok.emulator --port 0``), so the
client's work does not share its event loop; a plain aiohttp client drives it with
CONCURRENCY requests in flight. List calls page through the created keys 100 at a time.

    python benchmarks/emulator_throughput.py --n 5000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp


def start_emulator() -> tuple[subprocess.Popen[str], str, str]:
    """The emulator process, its base URL and its management key (read from its output)."""
    command = [sys.executable, "-m", "asyncbyok.emulator", "--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    from asyncbyok.emulator.printed import printed_values

    printed: dict[str, str] = {}
    while not {"base_url", "management_key"} <= printed.keys():
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the emulator exited early with status {proc.wait()}")
        printed.update(printed_values(line))
    return proc, printed["base_url"], printed["management_key"]


async def drive(n: int, concurrency: int, call: Callable[[int], Awaitable[None]]) -> float:
    """Run call(0..n-1) with *concurrency* workers; the requests per second achieved."""
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await call(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def run(base_url: str, key: str, n: int, concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def create(i: int) -> None:
            body = {"provider": "openai", "key": f"sk-bench-{i:012d}", "name": f"bench {i}"}
            async with session.post(f"{base_url}/byok", json=body) as response:
                assert response.status == 201, await response.text()
                await response.read()

        pages = max(1, -(-n // 100))

        async def list_page(i: int) -> None:
            params = {"limit": "100", "offset": str((i % pages) * 100)}
            async with session.get(f"{base_url}/byok", params=params) as response:
                assert response.status == 200, await response.text()
                await response.read()

        rate = await drive(n, concurrency, create)
        print(f"create: {n} requests, concurrency {concurrency}: {rate:,.0f} requests/s")
        rate = await drive(n, concurrency, list_page)
        print(f"list (limit 100): {n} requests, concurrency {concurrency}: {rate:,.0f} requests/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="creates, and list calls")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    proc, base_url, key = start_emulator()
    try:
        asyncio.run(run(base_url, key, args.n, args.concurrency))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    main()
