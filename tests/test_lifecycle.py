"""One client for a whole process: across event loops, in several threads, and closing.

These are the ways services and agent frameworks hold a client: made once at module
level, used by consecutive ``asyncio.run`` calls or by pytest's per-test loops, closed
at shutdown while calls may still be running. The emulator runs in its own thread, so it
outlives every loop here. ResourceWarnings are errors (pyproject.toml): an unclosed
session left behind by a loop fails the test that leaks it.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import pytest

import asyncbyok
from asyncbyok.emulator import Emulator, FaultConfig, Faults

FAST = asyncbyok.RetryPolicy(wait_scale=0.0)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=11).run_in_thread() as emulator:
        yield emulator


def make_client(emu: Emulator) -> asyncbyok.Client:
    return asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url, retry=FAST)


async def round_trip(client: asyncbyok.Client, name: str) -> str:
    """Create, find, delete: the calls a service makes, in the running loop."""
    key = await client.byok.create(provider="openai", key="sk-proj-lifecycle-AbCd", name=name)
    assert name in [k.name async for k in client.byok.list()]
    assert await client.byok.delete(key.id)
    return key.id


# -- a client made at module level, used by pytest-asyncio's per-test loops ----------------

MODULE_CLIENT: asyncbyok.Client | None = None
LOOPS_SEEN: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(scope="module")
def module_client(emu: Emulator) -> Iterator[asyncbyok.Client]:
    global MODULE_CLIENT
    MODULE_CLIENT = make_client(emu)  # made outside any loop, as a module global is
    yield MODULE_CLIENT
    asyncio.run(MODULE_CLIENT.aclose())
    MODULE_CLIENT = None


async def _use_module_client(client: asyncbyok.Client, name: str) -> None:
    LOOPS_SEEN.append(asyncio.get_running_loop())
    await round_trip(client, name)
    if len(LOOPS_SEEN) >= 2:  # whichever of the two tests runs second
        assert LOOPS_SEEN[0] is not LOOPS_SEEN[-1]
        assert LOOPS_SEEN[0].is_closed()  # the first test's loop ended before this one


async def test_module_client_in_one_test_loop(module_client: asyncbyok.Client) -> None:
    await _use_module_client(module_client, "module-a")


async def test_module_client_in_the_next_test_loop(module_client: asyncbyok.Client) -> None:
    await _use_module_client(module_client, "module-b")


# -- consecutive asyncio.run calls -------------------------------------------------------


def test_consecutive_asyncio_runs_share_one_client(emu: Emulator) -> None:
    client = make_client(emu)
    ids = [asyncio.run(round_trip(client, f"run-{i}")) for i in range(3)]
    assert len(set(ids)) == 3  # was: RuntimeError: Event loop is closed, from the second
    asyncio.run(client.aclose())
    gc.collect()


def test_a_closed_client_stays_closed_in_a_new_loop(emu: Emulator) -> None:
    client = make_client(emu)

    async def use_and_close() -> None:
        await client.byok.list()
        await client.aclose()

    asyncio.run(use_and_close())
    with pytest.raises(asyncbyok.ClientClosedError):
        asyncio.run(round_trip(client, "after-close"))


# -- two loops at once ---------------------------------------------------------------------


def test_two_loops_at_once_raise_a_clear_error(emu: Emulator) -> None:
    client = make_client(emu)
    bound, release = threading.Event(), threading.Event()
    done: list[str] = []

    async def other_thread() -> None:
        await round_trip(client, "thread-1")
        bound.set()
        await asyncio.to_thread(release.wait, 30)
        done.append(await round_trip(client, "thread-2"))  # its loop keeps the client
        await client.aclose()

    thread = threading.Thread(target=asyncio.run, args=(other_thread(),))
    thread.start()
    try:
        assert bound.wait(30)
        with pytest.raises(asyncbyok.AsyncBYOKError, match="another event loop") as info:
            asyncio.run(round_trip(client, "main"))
        assert isinstance(info.value, asyncbyok.EventLoopError)
        assert isinstance(info.value, RuntimeError)  # what it raised before, made clear
    finally:
        release.set()
        thread.join(30)
    assert len(done) == 1
    assert "main" not in [r.name for r in emu.store.live()]  # nothing was sent


# -- closing while calls are in flight -------------------------------------------------------


async def test_aclose_makes_calls_in_flight_raise_client_closed(emu: Emulator) -> None:
    client = make_client(emu)
    emu.faults = Faults({"list": FaultConfig(latency=30)})
    started = emu.stats.requests["list"]
    try:
        calls = [asyncio.ensure_future(client.byok.list()) for _ in range(4)]
        # The emulator counts in its own thread and offers nothing to await: poll.
        while emu.stats.requests["list"] < started + 4:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        await client.aclose()
        results = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        emu.faults = None
    # Neither CancelledError nor RuntimeError: the documented error, for every call.
    assert [type(r) for r in results] == [asyncbyok.ClientClosedError] * 4
    with pytest.raises(asyncbyok.ClientClosedError):
        await client.byok.list()


async def test_closing_a_copy_leaves_its_parent_open(emu: Emulator) -> None:
    async with make_client(emu) as client:
        async with client.with_options(timeout=5) as quick:
            await round_trip(quick, "copy")
        await quick.aclose()
        await round_trip(client, "parent")  # was: the copy had closed the parent's session


async def test_closing_the_parent_closes_its_copies(emu: Emulator) -> None:
    client = make_client(emu)
    quick = client.with_options(max_retries=0)
    await round_trip(quick, "copy")
    await client.aclose()
    with pytest.raises(asyncbyok.ClientClosedError):
        await quick.byok.list()
