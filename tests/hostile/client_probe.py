"""One client call against a hostile server, in a process of its own (run as a script).

    python tests/hostile/client_probe.py BASE_URL CANARY [--as-limit-mib N]

It lists credentials at BASE_URL with CANARY as the management key, and prints one JSON
line: the class and start of the message of what was raised, the class names along its
cause/context chain, whether CANARY shows anywhere in that chain, and the process's peak
RSS in MiB. With ``--as-limit-mib`` the process first caps its own address space
(``RLIMIT_AS``), so a client that buffers without bound dies of ``MemoryError`` instead of
taking the machine with it.

A script, not a module of the tests package: it imports nothing but the standard library
and ``asyncbyok``, so ``PYTHONPATH`` can point it at another copy of asyncbyok (an older
commit, to measure the difference).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import traceback


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and not any(exc is s for s in seen):
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _shows(exc: BaseException, canary: str) -> bool:
    texts = [repr(exc), str(exc), *(repr(v) for v in vars(exc).values())]
    texts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return any(canary in text for text in texts)


async def _call(base_url: str, canary: str) -> dict[str, object]:
    import asyncbyok

    policy = asyncbyok.RetryPolicy(max_retries=0)
    async with asyncbyok.Client(api_key=canary, base_url=base_url, retry=policy) as client:
        try:
            page = await client.byok.list()
        except BaseException as exc:  # what escapes is what we report
            chain = _chain(exc)
            return {
                "error": type(exc).__name__,
                "message": str(exc)[:300],
                "chain": [type(e).__name__ for e in chain],
                "leaked": any(_shows(e, canary) for e in chain),
            }
        return {"error": None, "items": len(page.data)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("canary")
    parser.add_argument("--as-limit-mib", type=int)
    args = parser.parse_args()
    if args.as_limit_mib:
        limit = args.as_limit_mib << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result = asyncio.run(_call(args.base_url, args.canary))
    except MemoryError:
        result = {"error": "MemoryError"}
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
