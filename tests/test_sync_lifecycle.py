"""``SyncClient``'s thread: closed by ``close()``, ``with``, the garbage collector or the
interpreter's exit; calls after it fail cleanly; no blocking inside an event loop; Ctrl-C
cancels the call that waits."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from asyncbyok import (
    AsyncBYOKError,
    ClientClosedError,
    CreateBYOKKeyRequest,
    EventLoopError,
    Limits,
    SyncClient,
)
from asyncbyok.emulator import Emulator, FaultConfig, Faults

from .conftest import FAST_RETRY

RAW = "sk-proj-0000000000AbCd"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed=11, shutdown_timeout=0.1).run_in_thread() as emulator:
        yield emulator


def connect(emu: Emulator) -> SyncClient:
    return SyncClient(api_key=emu.management_key, base_url=emu.base_url, retry=FAST_RETRY)


def started_by(make: Callable[[], SyncClient]) -> tuple[SyncClient, set[threading.Thread]]:
    """A client, and the threads that making (and first using) it started."""
    before = set(threading.enumerate())
    client = make()
    client.byok.list_page()
    return client, set(threading.enumerate()) - before


def wait_for(condition: Callable[[], bool]) -> None:
    """Poll until *condition* holds (a hang guard of a minute, not a timing assertion)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def test_leaving_the_with_block_ends_the_thread(emu: Emulator) -> None:
    with connect(emu) as client:
        _, threads = started_by(lambda: client)
        client.byok.create(provider="openai", key=RAW)
    assert not any(t.is_alive() for t in threads)
    assert client.is_closed


def test_calls_after_close_raise_client_closed(emu: Emulator) -> None:
    client, threads = started_by(lambda: connect(emu))
    assert len(threads) == 1  # one loop thread
    key = client.byok.create(provider="openai", key=RAW)
    page = client.byok.list().first_page()
    pager = client.byok.list()
    copy = client.with_options(max_retries=0)
    client.close()
    assert not any(t.is_alive() for t in threads)
    client.close()  # again: nothing happens
    assert client.is_closed
    assert copy.is_closed
    for call in (
        lambda: client.byok.get(key.id),
        lambda: client.byok.with_raw_response.create(provider="openai", key=RAW),
        lambda: list(pager),
        lambda: client.byok.list().first_page(),
        lambda: copy.byok.get(key.id),
        lambda: page.next_page(),
    ):
        with pytest.raises(ClientClosedError):
            call()


def test_closing_cuts_short_a_call_in_another_thread(emu: Emulator) -> None:
    client, threads = started_by(lambda: connect(emu))
    emu.faults = Faults({"create": FaultConfig(slow_rate=1.0, slow_seconds=60)})
    outcome: list[BaseException] = []

    def create() -> None:
        try:
            client.byok.create(provider="openai", key=RAW)
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=create)
    caller.start()
    wait_for(lambda: emu.stats.requests["create"] == 1)  # the call is waiting on the server
    client.close()
    caller.join()
    assert [type(e) for e in outcome] == [ClientClosedError]
    assert not any(t.is_alive() for t in threads)


def test_a_copy_does_not_close_its_parent_and_closes_with_it(emu: Emulator) -> None:
    with connect(emu) as client:
        with client.with_options(max_retries=1) as copy:
            copy.byok.list_page()
        assert not client.is_closed
        assert copy.byok.list_page().total_count == 0  # still served: the parent is open
    with pytest.raises(ClientClosedError):
        copy.byok.list_page()


def test_garbage_collection_closes_a_forgotten_client(emu: Emulator) -> None:
    client, threads = started_by(lambda: connect(emu))
    byok = client.byok
    del client
    gc.collect()
    assert all(t.is_alive() for t in threads)  # its resource still holds it
    assert byok.list_page().total_count == 0
    del byok
    gc.collect()
    assert not any(t.is_alive() for t in threads)


EXITS_WITHOUT_CLOSING = """
import atexit, sys, threading

def report():  # registered first, so it runs last at exit
    alive = [t.name for t in threading.enumerate() if t.name.startswith("asyncbyok-sync")]
    print("threads at exit:", alive, flush=True)

atexit.register(report)

import asyncbyok

client = asyncbyok.SyncClient(base_url=sys.argv[1])
print(client.byok.create(provider="openai", key="sk-proj-0000000000AbCd").label, flush=True)
"""


def test_interpreter_exit_closes_a_client_never_closed(emu: Emulator) -> None:
    env = {**os.environ, "OPENROUTER_API_KEY": emu.management_key, "PYTHONDEVMODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EXITS_WITHOUT_CLOSING), emu.base_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["sk-...AbCd", "threads at exit: []"]
    # Dev mode reports what was left open; a dependency's DeprecationWarning is not ours.
    for sign in ("Unclosed", "ResourceWarning", "Exception ignored", "Traceback", "destroyed"):
        assert sign not in result.stderr


async def test_refused_inside_an_event_loop(emu: Emulator) -> None:
    with pytest.raises(EventLoopError, match=r"asyncbyok\.Client") as caught:
        connect(emu)
    assert isinstance(caught.value, AsyncBYOKError)


def test_refused_when_called_from_async_code_or_its_own_loop(emu: Emulator) -> None:
    client = connect(emu)

    async def from_async_code() -> None:
        with pytest.raises(EventLoopError, match=r"asyncbyok\.Client"):
            client.byok.list_page()
        with pytest.raises(EventLoopError):
            next(iter(client.byok.list()))

    asyncio.run(from_async_code())
    # A callback runs in the client's own loop: blocking there would wait for itself.
    results = client.byok.create_many(
        [CreateBYOKKeyRequest(provider="openai", key=RAW)],
        on_progress=lambda result: client.byok.list_page(),
    )
    assert isinstance(results[0].progress_error, EventLoopError)
    assert results[0].ok
    client.close()


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals go to main"
)
def test_ctrl_c_cancels_the_waiting_call(emu: Emulator) -> None:
    # One connection: the next call can only go through once the interrupted one let go.
    one = Limits(max_connections=1)
    client, threads = started_by(
        lambda: SyncClient(api_key=emu.management_key, base_url=emu.base_url, limits=one)
    )
    emu.faults = Faults({"get": FaultConfig(slow_rate=1.0, slow_seconds=3600)})

    pressed: list[BaseException | None] = []

    def press_ctrl_c() -> None:
        try:
            wait_for(lambda: emu.stats.requests["get"] == 1)  # the call waits on the server
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        except BaseException as exc:  # shown below, not lost in the thread
            pressed.append(exc)
        else:
            pressed.append(None)

    # What a script's Ctrl-C does, whatever handler an earlier test left in this process.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.byok.get("00000000-0000-0000-0000-000000000000")
    finally:
        presser.join()
        signal.signal(signal.SIGINT, previous)
    assert pressed == [None]
    emu.faults = None
    after: list[int] = []
    follower = threading.Thread(target=lambda: after.append(client.byok.list_page().total_count))
    follower.start()
    follower.join(60)  # a hang guard: an interrupted call still holding the slot would hang
    assert after == [0]
    client.close()
    assert not any(t.is_alive() for t in threads)
