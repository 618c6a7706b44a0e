"""Memory while iterating every key with ``async for``: run in a fresh process.

``python -m benchmarks.memory_probe --base-url URL --every 10000`` (the management key
on standard input) iterates ``client.byok.list()`` without keeping the keys, and prints
JSON: tracemalloc's peak, and every *every* keys the process's RSS and the memory
tracemalloc sees as live, so a reader can check that neither grows with the number of
keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import tracemalloc
from typing import Any

import asyncbyok

MB = 1024 * 1024


def rss_mb() -> float:
    """The resident set size now (Linux), else the peak so far (``ru_maxrss``)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MB
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / MB if sys.platform == "darwin" else peak / 1024


async def probe(base_url: str, key: str, every: int) -> dict[str, Any]:
    samples: list[dict[str, Any]] = []
    count = 0
    async with asyncbyok.Client(api_key=key, base_url=base_url) as client:
        tracemalloc.start()
        start_rss = rss_mb()
        started = time.perf_counter()
        async for _ in client.byok.list():
            count += 1
            if count % every == 0:
                current, _peak = tracemalloc.get_traced_memory()
                samples.append(
                    {
                        "keys": count,
                        "rss_mb": round(rss_mb(), 2),
                        "traced_mb": round(current / MB, 3),
                    }
                )
        seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "keys": count,
        "seconds": seconds,
        "rss_start_mb": round(start_rss, 2),
        "rss_peak_mb": round(max([start_rss, *(s["rss_mb"] for s in samples)]), 2),
        "traced_peak_mb": round(peak / MB, 3),
        "samples": samples,
        "note": "tracemalloc on while iterating (slower, but the figures are exact)",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--every", type=int, default=10_000)
    args = parser.parse_args()
    key = sys.stdin.readline().strip()
    print(json.dumps(asyncio.run(probe(args.base_url, key, args.every))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
