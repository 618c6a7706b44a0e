"""The transport across event loops, and closing it: against the emulator on loopback.

The emulator runs in its own thread and loop, so each test can start and end loops of
its own. pytest turns every ResourceWarning ("Unclosed client session", an unclosed
connector or socket) into an error, so each test also shows that nothing leaks.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator

import aiohttp
import pytest

from asyncbyok import ClientClosedError, EventLoopError, Timeout, sansio
from asyncbyok.emulator import Emulator, FaultConfig, Faults
from asyncbyok.transport import RawResponse, Transport

TIMEOUT = Timeout(30)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=7).run_in_thread() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _no_faults(emu: Emulator) -> None:
    emu.faults = None


def list_request(emu: Emulator) -> sansio.HTTPRequest:
    headers = sansio.build_headers(emu.management_key)
    return sansio.build_request("GET", emu.base_url, "/byok", headers)


async def list_once(transport: Transport, emu: Emulator) -> RawResponse:
    async with transport.call() as call:
        return await transport.send(call, list_request(emu), TIMEOUT)


async def generation(transport: Transport) -> int:
    """The number of the transport's binding to the running loop (binding it)."""
    async with transport.call() as call:
        return call.state.generation


async def in_flight(emu: Emulator, count: int) -> None:
    """Wait until the emulator has received *count* list requests in all."""
    # The emulator counts in its own thread and offers nothing to await: poll.
    while emu.stats.requests["list"] < count:  # noqa: ASYNC110
        await asyncio.sleep(0.005)


def test_consecutive_asyncio_runs_each_get_a_fresh_session(emu: Emulator) -> None:
    transport = Transport()
    moves: list[int] = []
    transport.add_loop_listener(moves.append)

    async def use() -> tuple[int, int]:
        raw = await list_once(transport, emu)
        return raw.status, await generation(transport)

    assert asyncio.run(use()) == (200, 1)
    assert asyncio.run(use()) == (200, 2)  # was: RuntimeError: Event loop is closed
    assert asyncio.run(use()) == (200, 3)
    assert moves == [1, 2, 3]
    gc.collect()  # an unclosed session of an earlier loop would warn here


def test_the_generation_holds_within_one_loop(emu: Emulator) -> None:
    transport = Transport()

    async def use() -> list[int]:
        seen = [await generation(transport)]
        await asyncio.gather(*(list_once(transport, emu) for _ in range(5)))
        seen.append(await generation(transport))
        await transport.aclose()
        return seen

    assert asyncio.run(use()) == [1, 1]


def test_two_loops_at_once_raise_event_loop_error(emu: Emulator) -> None:
    transport = Transport()
    bound, release = threading.Event(), threading.Event()
    results: list[int] = []

    async def hold() -> None:
        results.append((await list_once(transport, emu)).status)
        bound.set()
        await asyncio.to_thread(release.wait, 30)
        results.append((await list_once(transport, emu)).status)  # still its own

    thread = threading.Thread(target=asyncio.run, args=(hold(),))
    thread.start()
    try:
        assert bound.wait(30)
        with pytest.raises(EventLoopError, match="another event loop that is still running"):
            asyncio.run(list_once(transport, emu))

        with pytest.raises(EventLoopError):
            asyncio.run(generation(transport))  # the same check, for the client's own state
    finally:
        release.set()
        thread.join(30)
    assert results == [200, 200]  # the first loop never noticed
    # Once that loop has ended, this one may take the transport over.
    assert asyncio.run(list_once(transport, emu)).status == 200


def test_a_stopped_loop_closes_its_own_session_when_it_shuts_down(emu: Emulator) -> None:
    transport = Transport()
    first = asyncio.new_event_loop()
    try:
        assert first.run_until_complete(list_once(transport, emu)).status == 200
        # The first loop is stopped, not closed: the transport moves on without it ...
        assert asyncio.run(list_once(transport, emu)).status == 200
        gc.collect()  # ... keeping the first session alive (and unwarned) for that loop
    finally:
        # ... which closes it when it shuts its async generators down, as Runner does.
        first.run_until_complete(first.shutdown_asyncgens())
        first.close()
    gc.collect()


def test_a_loop_closed_bare_is_left_without_session_warnings(emu: Emulator) -> None:
    transport = Transport()
    first = asyncio.new_event_loop()
    first.run_until_complete(list_once(transport, emu))
    # Recorded from here on: the collector may finalize the old sockets at any moment.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first.close()  # no shutdown_asyncgens(): the session can't be closed in its loop
        assert asyncio.run(list_once(transport, emu)).status == 200
        gc.collect()
    # asyncio itself warns about the sockets of a loop closed with connections open; the
    # session and connector are marked closed, and do not.
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "client session" in m or "connector" in m], messages


async def test_send_after_aclose_raises_client_closed(emu: Emulator) -> None:
    transport = Transport()
    assert (await list_once(transport, emu)).status == 200
    await transport.aclose()
    await transport.aclose()  # twice is fine
    with pytest.raises(ClientClosedError):
        await list_once(transport, emu)
    with pytest.raises(ClientClosedError):
        await generation(transport)


async def test_aclose_cuts_the_calls_in_flight_short(emu: Emulator) -> None:
    transport = Transport()
    emu.faults = Faults({"list": FaultConfig(latency=30)})
    before = emu.stats.requests["list"]
    outcomes: list[tuple[str, int]] = []

    async def call() -> None:
        try:
            await list_once(transport, emu)
        except ClientClosedError:
            task = asyncio.current_task()
            assert task is not None
            # 3.11+: the cancel that aclose() sent is withdrawn, so TaskGroup and
            # asyncio.timeout around the call see no cancellation of their own.
            pending = task.cancelling() if sys.version_info >= (3, 11) else 0
            outcomes.append(("closed", pending))

    tasks = [asyncio.create_task(call()) for _ in range(3)]
    await in_flight(emu, before + 3)
    await transport.aclose()
    # aclose() returns once the calls have left the transport: none is left waiting
    # out the server's 30 seconds.
    await asyncio.gather(*tasks)
    assert outcomes == [("closed", 0)] * 3
    assert not any(t.cancelled() for t in tasks)


async def test_calls_queued_for_a_connection_slot_are_cut_short_too(emu: Emulator) -> None:
    from asyncbyok import Limits

    transport = Transport(limits=Limits(max_connections=1))
    emu.faults = Faults({"list": FaultConfig(latency=30)})
    before = emu.stats.requests["list"]
    tasks = [asyncio.create_task(list_once(transport, emu)) for _ in range(3)]
    await in_flight(emu, before + 1)  # one sent; two wait for the only slot
    await transport.aclose()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(r) for r in results] == [ClientClosedError] * 3


async def test_a_call_its_caller_cancelled_stays_cancelled(emu: Emulator) -> None:
    transport = Transport()
    emu.faults = Faults({"list": FaultConfig(latency=30)})
    before = emu.stats.requests["list"]
    task = asyncio.create_task(list_once(transport, emu))
    await in_flight(emu, before + 1)
    task.cancel()  # the caller's cancellation comes first ...
    await transport.aclose()  # ... and closing does not turn it into ClientClosedError
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_call_under_wait_for_still_times_out(emu: Emulator) -> None:
    transport = Transport()
    emu.faults = Faults({"list": FaultConfig(latency=30)})
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(list_once(transport, emu), 0.05)
    emu.faults = None
    assert (await list_once(transport, emu)).status == 200  # and the transport works on
    await transport.aclose()


def test_aclose_from_another_loop_closes_in_the_owning_loop(emu: Emulator) -> None:
    transport = Transport()
    bound, closed = threading.Event(), threading.Event()
    after: list[BaseException] = []

    async def hold() -> None:
        await list_once(transport, emu)
        bound.set()
        await asyncio.to_thread(closed.wait, 30)
        try:
            await list_once(transport, emu)
        except ClientClosedError as exc:
            after.append(exc)

    thread = threading.Thread(target=asyncio.run, args=(hold(),))
    thread.start()
    try:
        assert bound.wait(30)
        asyncio.run(transport.aclose())  # the session is closed in the thread's loop
    finally:
        closed.set()
        thread.join(30)
    assert [type(e) for e in after] == [ClientClosedError]


def test_a_given_session_is_used_and_left_open(emu: Emulator) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            transport = Transport(session=session)
            assert (await list_once(transport, emu)).status == 200
            await transport.aclose()
            assert not session.closed  # the caller's to close
            with pytest.raises(ClientClosedError):
                await list_once(transport, emu)

    asyncio.run(main())


def test_a_given_session_cannot_follow_to_another_loop(emu: Emulator) -> None:
    holder: list[Transport] = []

    async def first() -> None:
        async with aiohttp.ClientSession() as session:
            holder.append(Transport(session=session))
            await list_once(holder[0], emu)

    asyncio.run(first())
    with pytest.raises(EventLoopError, match="session given to this client"):
        asyncio.run(list_once(holder[0], emu))


def test_importing_asyncbyok_does_not_import_aiohttp() -> None:
    code = "import sys, asyncbyok; print(sorted(m for m in sys.modules if 'aiohttp' in m))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
