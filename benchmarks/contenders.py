"""The contenders, each behind the same small async interface per scenario.

- ``asyncbyok``: this library, as a user would call it.
- ``aiohttp``: the ceiling. One ``ClientSession``, ``json.dumps``/``json.loads``, a
  status check: the thinnest client that is still correct.
- ``httpx``: the same thin client on ``httpx.AsyncClient``.
- ``openrouter``: the official SDK (``openrouter==1.3.84``), its async calls.

Scenario 1 gives every contender a connection pool as large as the concurrency, so the
pool is never what limits it (the official SDK gets an ``httpx.AsyncClient`` with those
limits, the rest of its settings left at their defaults). Scenarios 3 and 4 run the
official SDK with its default settings, as a user would get it.

httpx and the official SDK are imported lazily: without them, their contenders are
reported as unavailable instead of breaking the run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import attrs

import asyncbyok

__all__ = [
    "CREATE_CONTENDERS",
    "LIST_CONTENDERS",
    "PROVIDER",
    "BulkOutcome",
    "CreateFn",
    "ListOutcome",
    "bulk",
    "bulk_asyncbyok",
    "bulk_openrouter",
    "create_session",
    "list_all",
    "missing",
    "raw_key",
]

PROVIDER: Any = "openai"  # Any: the official SDK types it as a Literal of slugs
CreateFn = Callable[[str, str], Awaitable[None]]
"""``await create(name, raw_key)``: one create; raises if it did not succeed."""

CREATE_CONTENDERS = ("asyncbyok", "aiohttp", "httpx", "openrouter")
LIST_CONTENDERS = ("asyncbyok", "asyncbyok-sequential", "aiohttp-sequential", "openrouter")

_REQUIRES = {"httpx": "httpx", "openrouter": "openrouter"}


def missing(contender: str) -> str | None:
    """Why *contender* cannot run here (a package is not installed), or ``None``."""
    module = _REQUIRES.get(contender.split("-")[0])
    if module is not None and importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install -e '.[bench]')"
    return None


def raw_key(name: str) -> str:
    """A fake provider key for *name* (long enough to be masked like a real one)."""
    return f"sk-bench-{name}-0000"


# ------------------------------------------------------------------ scenario 1: create


@asynccontextmanager
async def _asyncbyok_create(base_url: str, key: str, concurrency: int) -> AsyncIterator[CreateFn]:
    limits = asyncbyok.Limits(max_connections=concurrency)
    async with asyncbyok.Client(api_key=key, base_url=base_url, limits=limits) as client:
        byok = client.byok

        async def create(name: str, raw: str) -> None:
            await byok.create(provider=PROVIDER, key=raw, name=name)

        yield create


@asynccontextmanager
async def _aiohttp_create(base_url: str, key: str, concurrency: int) -> AsyncIterator[CreateFn]:
    url = f"{base_url}/byok"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def create(name: str, raw: str) -> None:
            body = json.dumps({"provider": PROVIDER, "key": raw, "name": name})
            async with session.post(url, data=body) as response:
                data = await response.read()
                if response.status != 201:
                    raise RuntimeError(f"create: HTTP {response.status}: {data[:200]!r}")
            json.loads(data)

        yield create


@asynccontextmanager
async def _httpx_create(base_url: str, key: str, concurrency: int) -> AsyncIterator[CreateFn]:
    import httpx

    url = f"{base_url}/byok"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60.0) as client:

        async def create(name: str, raw: str) -> None:
            body = json.dumps({"provider": PROVIDER, "key": raw, "name": name})
            response = await client.post(url, content=body)
            if response.status_code != 201:
                raise RuntimeError(f"create: HTTP {response.status_code}: {response.text[:200]}")
            json.loads(response.content)

        yield create


@asynccontextmanager
async def _openrouter_create(base_url: str, key: str, concurrency: int) -> AsyncIterator[CreateFn]:
    import httpx
    from openrouter import OpenRouter

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(follow_redirects=True, limits=limits) as http:
        sdk = OpenRouter(api_key=key, server_url=base_url, async_client=http)
        async with sdk:
            byok = sdk.byok

            async def create(name: str, raw: str) -> None:
                await byok.create_async(provider=PROVIDER, key=raw, name=name)

            yield create


_CREATE: dict[str, Callable[[str, str, int], AbstractAsyncContextManager[CreateFn]]] = {
    "asyncbyok": _asyncbyok_create,
    "aiohttp": _aiohttp_create,
    "httpx": _httpx_create,
    "openrouter": _openrouter_create,
}


def create_session(
    contender: str, base_url: str, key: str, concurrency: int
) -> AbstractAsyncContextManager[CreateFn]:
    """``async with create_session(...) as create``: *contender*'s create, pool sized."""
    return _CREATE[contender](base_url, key, concurrency)


# ------------------------------------------------------------------ scenario 2: list all


@attrs.frozen
class ListOutcome:
    """What one listing returned: keys yielded, and how many distinct ids among them."""

    keys: int
    distinct: int


async def _list_asyncbyok(base_url: str, key: str, concurrency: int | None) -> ListOutcome:
    ids: set[str] = set()
    count = 0
    async with asyncbyok.Client(api_key=key, base_url=base_url) as client:
        pager = client.byok.list() if concurrency is None else client.byok.list(concurrency=1)
        async for k in pager:
            count += 1
            ids.add(k.id)
    return ListOutcome(count, len(ids))


async def _list_aiohttp_sequential(base_url: str, key: str) -> ListOutcome:
    ids: set[str] = set()
    count, offset, limit = 0, 0, 100
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        while True:
            params = {"offset": str(offset), "limit": str(limit)}
            async with session.get(f"{base_url}/byok", params=params) as response:
                data = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"list: HTTP {response.status}: {data[:200]!r}")
            page = json.loads(data)["data"]
            count += len(page)
            ids.update(k["id"] for k in page)
            if len(page) < limit:
                return ListOutcome(count, len(ids))
            offset += len(page)


async def _list_openrouter(base_url: str, key: str) -> ListOutcome:
    from openrouter import OpenRouter

    ids: set[str] = set()
    count = 0
    async with OpenRouter(api_key=key, server_url=base_url) as sdk:
        # limit=100 (the API's largest page) instead of the SDK's default 50, for fairness.
        response = await sdk.byok.list_async(limit=100)
        while response is not None:
            count += len(response.result.data)
            ids.update(k.id for k in response.result.data)
            following = response.next()  # an awaitable, from the async call
            response = await following if inspect.isawaitable(following) else following
    return ListOutcome(count, len(ids))


async def list_all(contender: str, base_url: str, key: str) -> ListOutcome:
    """Every key in the default workspace, the way *contender* walks them."""
    if contender == "asyncbyok":
        return await _list_asyncbyok(base_url, key, None)
    if contender == "asyncbyok-sequential":
        return await _list_asyncbyok(base_url, key, 1)
    if contender == "aiohttp-sequential":
        return await _list_aiohttp_sequential(base_url, key)
    if contender == "openrouter":
        return await _list_openrouter(base_url, key)
    raise ValueError(f"unknown list contender {contender!r}")


# ------------------------------------------------------------------ scenarios 3 and 4: bulk


@attrs.define
class BulkOutcome:
    """How a bulk create went, from the client's side."""

    ok: int = 0
    failed: int = 0
    errors: Counter[str] = attrs.field(factory=Counter)
    rate_limited: int | None = None  # 429s the client saw, if it counts them
    finished: bool = True
    seconds: float = 0.0


async def _capped(work: Awaitable[Any], cap: float, outcome: BulkOutcome) -> None:
    """Run *work* for at most *cap* seconds; note in *outcome* whether it finished."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(work, timeout=cap)
    except asyncio.TimeoutError:
        outcome.finished = False
    outcome.seconds = time.perf_counter() - started


async def bulk_asyncbyok(
    base_url: str, key: str, names: Sequence[str], *, concurrency: int, cap: float
) -> BulkOutcome:
    """``client.byok.create_many`` with default settings, stopped after *cap* seconds."""
    outcome = BulkOutcome()
    requests = [
        asyncbyok.CreateBYOKKeyRequest(provider=PROVIDER, key=raw_key(n), name=n) for n in names
    ]

    def progress(result: asyncbyok.CreateResult) -> None:
        if result.ok:
            outcome.ok += 1
        else:
            outcome.failed += 1
            outcome.errors[type(result.error).__name__] += 1

    async with asyncbyok.Client(api_key=key, base_url=base_url) as client:
        work = client.byok.create_many(requests, concurrency=concurrency, on_progress=progress)
        await _capped(work, cap, outcome)
        outcome.rate_limited = client.rate_limited
    return outcome


async def bulk_openrouter(
    base_url: str, key: str, names: Sequence[str], *, concurrency: int, cap: float
) -> BulkOutcome:
    """*concurrency* workers calling the official SDK's ``create_async`` with its defaults."""
    from openrouter import OpenRouter

    outcome = BulkOutcome()
    pending = iter(names)
    async with OpenRouter(api_key=key, server_url=base_url) as sdk:
        byok = sdk.byok

        async def worker() -> None:
            for name in pending:
                try:
                    await byok.create_async(provider=PROVIDER, key=raw_key(name), name=name)
                except Exception as exc:  # what happens is the result
                    outcome.failed += 1
                    status = getattr(getattr(exc, "raw_response", None), "status_code", None)
                    label = type(exc).__name__ + (f" (HTTP {status})" if status else "")
                    outcome.errors[label] += 1
                else:
                    outcome.ok += 1

        async def run() -> None:
            await asyncio.gather(*(worker() for _ in range(concurrency)))

        await _capped(run(), cap, outcome)
    return outcome


def bulk(contender: str) -> Callable[..., Coroutine[Any, Any, BulkOutcome]]:
    """The bulk-create function of *contender* (``asyncbyok`` or ``openrouter``)."""
    table: dict[str, Callable[..., Coroutine[Any, Any, BulkOutcome]]] = {
        "asyncbyok": bulk_asyncbyok,
        "openrouter": bulk_openrouter,
    }
    return table[contender]
