"""Peak memory of a client reading hostile bodies, each call in a process of its own.

The figures in the security guide come from here::

    .venv/bin/python -m tests.hostile.memory                      # this checkout
    .venv/bin/python -m tests.hostile.memory --pythonpath OLD     # another asyncbyok

``OLD`` is a directory holding an ``asyncbyok`` package, for example an older commit's
(``git archive COMMIT asyncbyok | tar -x -C OLD``). Each case starts a
:class:`~tests.hostile.server.HostileServer` in this process and runs
``client_probe.py`` against it in a child, whose peak RSS is what is reported; the
server's own memory is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from .server import HostileServer, Sizes

__all__ = ["CANARY", "CASES", "probe"]

PROBE = Path(__file__).with_name("client_probe.py")
CANARY = "mgmt-canary-5f1e2d3c4b5a69788796a5b4c3d2e1f0"

CASES = {
    "gzip-bomb": "1 MB of gzip on the wire, 1 GiB once decompressed",
    "deflate-bomb": "1 MB of deflate on the wire, 1 GiB once decompressed",
    "huge-body": "a plain 400 MB body",
    "huge-body-chunked": "a plain 400 MB body, chunked (no Content-Length)",
    "endless-chunked": "a chunked body that never ends",
    "error-huge-message": "a 500 whose error message is 50 MB",
}


async def probe(
    server: HostileServer,
    mode: str,
    *,
    as_limit_mib: int | None = None,
    pythonpath: str | None = None,
    timeout: float = 120,
) -> dict[str, Any]:
    """Run one list call at *mode* in a child process; its JSON report."""
    env = dict(os.environ)
    env.pop("OPENROUTER_API_KEY", None)
    env.pop("OPENROUTER_BASE_URL", None)
    # One malloc arena: with a cap on the address space, each extra arena (64 MiB of
    # reserved addresses per thread) would count against it without being used.
    env["MALLOC_ARENA_MAX"] = "1"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    args = [sys.executable, str(PROBE), server.base_url(mode), CANARY]
    if as_limit_mib:
        args += ["--as-limit-mib", str(as_limit_mib)]
    child = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout)
    except asyncio.TimeoutError:
        child.kill()
        await child.wait()
        raise
    if child.returncode != 0 or not out.strip():
        raise RuntimeError(f"probe of {mode} exited {child.returncode}: {err.decode()[-2000:]}")
    report: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
    return report


async def _main(pythonpath: str | None, modes: list[str], as_limit_mib: int) -> None:
    async with HostileServer(Sizes()) as server:
        for mode in modes:
            report = await probe(
                server, mode, pythonpath=pythonpath, as_limit_mib=as_limit_mib, timeout=600
            )
            print(
                f"{mode:20} {CASES[mode]:50} peak RSS {report['peak_rss_mib']:7.1f} MiB  "
                f"-> {report['error']}: {report.get('message', '')[:90]}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pythonpath", help="a directory holding another asyncbyok")
    parser.add_argument(
        "--as-limit-mib",
        type=int,
        default=4096,
        help="cap on each probe's address space (default 4096: an unbounded client "
        "fails with MemoryError there instead of exhausting a shared machine)",
    )
    parser.add_argument("modes", nargs="*", help=f"some of: {', '.join(CASES)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.modes) - set(CASES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    asyncio.run(_main(args.pythonpath, args.modes or list(CASES), args.as_limit_mib))


if __name__ == "__main__":
    main()
