"""Event loops: which loop a client serves, the calls in flight in it, and closing.

An aiohttp session, its connections and an :class:`asyncio.Semaphore` belong to the loop
that made them. A :class:`LoopBinding` keeps them per loop (a *generation*) and follows
its user to a new loop once the earlier one has ended, as with consecutive
``asyncio.run`` calls or pytest's per-test loops. It learns that a loop is ending from
the loop itself: an async generator, started in that loop, is closed by
``loop.shutdown_asyncgens()`` (which ``asyncio.run`` and ``asyncio.Runner`` call before
closing a loop), and closes the session there, while it can still run. Two loops at once
(one per thread, say) raise :class:`~asyncbyok.errors.EventLoopError`.

Every API call runs inside :meth:`LoopBinding.call`: the binding is checked once per
call, and the call's task is registered for as long as the call lasts (its waits at the
gate, its backoff sleeps and lookups included). :meth:`LoopBinding.aclose` cancels the
calls in flight, and each of them, leaving :meth:`~LoopBinding.call`, raises
:class:`~asyncbyok.errors.ClientClosedError` instead of the ``CancelledError`` the close
caused: the one place where a cancellation is undone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ClientClosedError, EventLoopError

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Call", "LoopBinding", "LoopState"]

# The message of the cancellations that aclose() sends to the calls in flight.
_CLOSING = "asyncbyok: the client was closed"

# States left behind in a loop that is stopped but not closed, held here until that loop
# shuts down and their watcher closes their session. Without this the state, its watcher
# and its session would be garbage, and the collector would finalize the session (and
# warn "Unclosed connector") before the loop could close it.
_PARKED: set[LoopState] = set()


def closed_in_flight() -> ClientClosedError:
    """The error of a call that ``aclose()`` cut short."""
    return ClientClosedError("the client was closed while this call was in flight")


class LoopState:
    """What belongs to one event loop: its session, connection slots and calls in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop, generation: int, slots: int) -> None:
        self.loop = loop
        self.generation = generation
        self.slots = asyncio.Semaphore(slots)
        self.session: aiohttp.ClientSession | None = None
        self.owns_session = True
        # Tasks inside send(), each with how many sends it has open.
        self.calls: dict[asyncio.Task[Any], int] = {}
        # Tasks that aclose() cancelled, whose CancelledError becomes ClientClosedError.
        self.cut: set[asyncio.Task[Any]] = set()
        self.drained: asyncio.Future[None] | None = None  # set when the cut calls left
        self.closer: asyncio.Task[Any] | None = None  # the task running aclose()
        self.ended = False  # the loop is ending or ended: nothing more may run here
        self.watcher: AsyncGenerator[None, None] | None = None

    def watch(self) -> None:
        """Start the generator that closes this state's session when its loop shuts down.

        Called in the loop: the first step of an async generator registers it with the
        running loop, whose ``shutdown_asyncgens()`` will close it.
        """
        watcher = _watch(self)
        step = watcher.__anext__()
        try:
            step.send(None)  # runs to the `yield` without waiting on anything
        except StopIteration:
            self.watcher = watcher

    def unwatch(self) -> None:
        """Close the watcher here and now, without it running anything in the loop."""
        watcher, self.watcher = self.watcher, None
        if watcher is None:
            return
        step = watcher.aclose()
        try:
            step.send(None)  # the generator's `finally` sees `ended` and returns at once
        except StopIteration:
            pass
        else:  # pragma: no cover - the finally never waits once `ended` is set
            step.close()

    async def close(self) -> None:
        """Close the session (if ours) in this state's loop, which is the running one."""
        self.ended = True
        session, self.session = self.session, None
        if session is not None and self.owns_session:
            await session.close()

    def abandon(self) -> None:
        """Let go of a state whose loop was closed without shutting down our watcher.

        Nothing can run in a closed loop any more. Closing the session from here marks
        it (and its connector) closed, so neither warns; aiohttp leaves the sockets to
        the closed loop. ``asyncio.run`` and ``asyncio.Runner`` never get here: they shut
        the watcher down, and the session is closed in its own loop.
        """
        self.ended = True
        self.unwatch()
        session, self.session = self.session, None
        if session is None or not self.owns_session or session.closed:
            return
        closing = session.close()
        try:
            closing.send(None)  # the connector of a closed loop closes without waiting
        except StopIteration:
            pass
        else:  # pragma: no cover - defensive: never wait on a closed loop
            closing.close()


async def _watch(state: LoopState) -> AsyncGenerator[None, None]:
    """Yield once; when the loop shuts its async generators down, close *state*."""
    try:
        yield
    finally:
        _PARKED.discard(state)
        if not state.ended:
            state.ended = True
            with contextlib.suppress(Exception):  # the loop is going away: no one to tell
                await state.close()


class LoopBinding:
    """The loop a client serves now, and what belongs to it (:class:`LoopState`).

    *given*: an aiohttp session made by the caller, used as it is and never closed here;
    it belongs to its event loop, so a binding given one cannot follow its user to
    another loop. *slots*: connections at once.
    """

    def __init__(self, *, slots: int, given: aiohttp.ClientSession | None = None) -> None:
        self._slots = slots
        self._given = given
        self._state: LoopState | None = None
        self._generation = 0
        self.closed = False
        self._listeners: list[Callable[[int], object]] = []

    def add_listener(self, callback: Callable[[int], object]) -> None:
        """Call ``callback(generation)`` each time the binding moves to an event loop.

        It runs inside the new loop, before the call that caused the move goes on, the
        first binding included. An exception it raises propagates to that call.
        """
        self._listeners.append(callback)

    def call(self) -> Call:
        """The context of one API call: see the module docstring."""
        return Call(self)

    def _bind(self) -> LoopState:
        if self.closed:
            raise ClientClosedError("the client is closed")
        loop = asyncio.get_running_loop()
        state = self._state
        if state is not None and state.loop is loop and not state.ended:
            return state
        return self._rebind(loop)

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> LoopState:
        old = self._state
        if old is not None:
            self._release(old, loop)
            if self._given is not None:
                raise EventLoopError(
                    "the aiohttp session given to this client belongs to an event loop "
                    "that has ended; give a session made in the running loop, or let the "
                    "client make its own"
                )
        self._generation += 1
        state = LoopState(loop, self._generation, self._slots)
        if self._given is not None:
            state.session, state.owns_session = self._given, False
        else:
            state.watch()
        self._state = state
        for listener in list(self._listeners):
            listener(state.generation)
        return state

    @staticmethod
    def _release(old: LoopState, loop: asyncio.AbstractEventLoop) -> None:
        """Let go of *old* to move to *loop*; refuse while *old*'s loop still runs."""
        if old.ended or old.loop is loop:
            return
        if old.loop.is_closed():
            old.abandon()
        elif old.loop.is_running():
            raise EventLoopError(
                "this client is in use by another event loop that is still running "
                "(in another thread?): a client serves one event loop at a time; make "
                "one client per loop, or close it in the first loop before using it here"
            )
        elif old.watcher is not None:
            # Stopped but not closed: the watcher closes the old session there when that
            # loop shuts down; this transport moves on.
            _PARKED.add(old)

    async def aclose(self) -> None:
        """Close the session if this binding made it. Safe to call twice.

        Calls in flight raise :class:`~asyncbyok.errors.ClientClosedError` (those that a
        caller had already cancelled keep their ``CancelledError``); every later call
        raises it too. A session given to the binding is left open.
        """
        if self.closed:
            return
        self.closed = True
        state, self._state = self._state, None
        if state is None or state.ended:
            return
        running = asyncio.get_running_loop()
        if state.loop is running:
            await _close_here(state)
        elif state.loop.is_closed():
            state.abandon()
        elif state.loop.is_running():  # closed from another thread's loop: close it there
            done = asyncio.run_coroutine_threadsafe(_close_here(state), state.loop)
            await asyncio.wrap_future(done)
        elif state.watcher is not None:  # stopped: the watcher closes it when the loop ends
            _PARKED.add(state)


class Call:
    """One API call's hold on its loop: bound on entry, released on exit (see
    :class:`LoopBinding`). ``state`` is the loop's state, for sending."""

    __slots__ = ("_binding", "_task", "state")

    def __init__(self, binding: LoopBinding) -> None:
        self._binding = binding
        self._task: asyncio.Task[Any] | None = None
        self.state: LoopState

    async def __aenter__(self) -> Call:
        state = self.state = self._binding._bind()
        task = self._task = asyncio.current_task()
        if task is not None:
            calls = state.calls
            calls[task] = calls.get(task, 0) + 1
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task = self._task
        if task is None:
            return
        state = self.state
        cut = exc_type is not None and issubclass(exc_type, asyncio.CancelledError)
        cut = cut and _cut_by_close(state, task)
        _leave(state, task)
        if cut:
            raise closed_in_flight() from None


async def _close_here(state: LoopState) -> None:
    """Cut the calls in flight short, wait for them to leave, close; in *state*'s loop."""
    current = state.closer = asyncio.current_task()
    for task in state.calls:
        if task is current or task.done():
            continue
        if _being_cancelled(task):
            continue  # by its caller (or by the client): it stays a cancellation
        state.cut.add(task)
        task.cancel(_CLOSING)
    if any(task is not current for task in state.calls):
        state.drained = state.loop.create_future()
        await state.drained
    await state.close()
    state.unwatch()


def _being_cancelled(task: asyncio.Task[Any]) -> bool:
    """Whether someone has asked to cancel *task* and it has not yet seen it."""
    cancelling = getattr(task, "cancelling", None)  # 3.11+
    if cancelling is not None:
        return bool(cancelling())
    # 3.10 has no cancelling(): a request not yet delivered shows as the future the task
    # waits on being cancelled, or as the flag for the task's next step.
    waiter = getattr(task, "_fut_waiter", None)
    if waiter is not None and waiter.cancelled():
        return True
    return bool(getattr(task, "_must_cancel", False))


def _cut_by_close(state: LoopState, task: asyncio.Task[Any]) -> bool:
    """Whether *task*'s CancelledError came from aclose() alone; if so, undo the cancel."""
    if task not in state.cut:
        return False
    state.cut.discard(task)
    uncancel = getattr(task, "uncancel", None)  # 3.11+: TaskGroup and timeout count them
    if uncancel is None:
        return True
    return bool(uncancel() == 0)  # another cancel too: let CancelledError through


def _leave(state: LoopState, task: asyncio.Task[Any]) -> None:
    count = state.calls.pop(task, 1) - 1
    if count:
        state.calls[task] = count
        return
    if task in state.cut:  # it left without seeing our cancel (it finished first)
        state.cut.discard(task)
        uncancel = getattr(task, "uncancel", None)
        if uncancel is not None:
            uncancel()
    drained = state.drained
    if drained is not None and not drained.done() and all(t is state.closer for t in state.calls):
        drained.set_result(None)
