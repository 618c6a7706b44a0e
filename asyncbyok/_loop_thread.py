"""A private event loop on a thread of its own, and the one way to run a call on it.

:class:`LoopThread` is what :class:`~asyncbyok.sync.SyncClient` stands on: one
:class:`~asyncbyok.client.Client` lives in this loop, and every blocking call is a
coroutine sent here, its caller waiting for the outcome. The rules it keeps:

- Calls from any number of threads at once: each is a task in the loop; the thread that
  asked waits on a :class:`concurrent.futures.Future` of its own.
- A call's exception is raised in the caller's thread as it was raised in the loop: the
  same object, so the same type, and a traceback that runs from the caller's frame down
  through the loop's.
- Ctrl-C (:exc:`KeyboardInterrupt`) in a waiting thread cancels that call's task, waits
  for it to unwind (its connection released, its retries stopped), then propagates.
- Nothing blocks inside a running event loop: a call from one (an ``async def``, or a
  callback running in this very loop, which would wait for itself forever) raises
  :class:`~asyncbyok.errors.EventLoopError`.
- :meth:`close` runs the client's ``aclose()`` in the loop, lets the calls it cut short
  finish (as :class:`~asyncbyok.errors.ClientClosedError`), stops the loop and joins the
  thread. Later calls raise ``ClientClosedError`` without reaching the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from .errors import ClientClosedError, EventLoopError

__all__ = ["LoopThread", "refuse_in_event_loop"]

P = ParamSpec("P")
R = TypeVar("R")

_IN_A_LOOP = (
    "asyncbyok.SyncClient blocks the thread that calls it, and this code runs in an event "
    "loop (an async def, or a callback of the SyncClient's own loop): use asyncbyok.Client "
    "there (`async with asyncbyok.Client() as client: await client.byok.create(...)`)"
)


def refuse_in_event_loop() -> None:
    """Raise :class:`~asyncbyok.errors.EventLoopError` if an event loop runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise EventLoopError(_IN_A_LOOP)


async def _run(function: Callable[..., Awaitable[R]], args: Any, kwargs: Any) -> R:
    # Called here, not by the caller: whatever the call does before its first await (the
    # checks of its arguments, say) runs in the loop too, and raises through the outcome.
    return await function(*args, **kwargs)


class LoopThread:
    """An event loop running in a daemon thread named *name*, until :meth:`close`."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        # The loop's own executor (aiohttp resolves host names in it), so the thread can
        # shut it down without starting another thread, which Python 3.12+ forbids at
        # interpreter exit, when the fallback close may run.
        self._executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix=name)
        self._loop.set_default_executor(self._executor)
        self._lock = threading.Lock()  # orders "is it closing?" against new calls
        self._closing = False
        # Loop-thread only: the task of each call that has started, by its outcome.
        self._tasks: dict[concurrent.futures.Future[Any], asyncio.Task[Any]] = {}
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` has begun (or the loop ended): no call starts any more."""
        return self._closing

    def call(self, function: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """``await function(*args, **kwargs)`` in the loop; block until it is done."""
        refuse_in_event_loop()
        outcome: concurrent.futures.Future[R] = concurrent.futures.Future()
        with self._lock:
            if self._closing:
                raise ClientClosedError("the client is closed")
            # The handle runs _start in a copy of this thread's context, and the task
            # copies it in turn: the caller's context variables (a tracer's current
            # span, say) go with the call, as into a task of the caller's own loop.
            self._loop.call_soon_threadsafe(self._start, outcome, function, args, kwargs)
        try:
            return outcome.result()
        except KeyboardInterrupt:
            self._interrupt(outcome)
            raise
        finally:
            del outcome  # the exception's traceback holds this frame: no cycle through it

    def _start(
        self,
        outcome: concurrent.futures.Future[R],
        function: Callable[..., Awaitable[R]],
        args: Any,
        kwargs: Any,
    ) -> None:
        if not outcome.set_running_or_notify_cancel():
            return  # interrupted before it started: there is nothing to unwind
        if self._closing:  # close() began after this call was sent here
            outcome.set_exception(ClientClosedError("the client is closed"))
            return
        task = self._loop.create_task(_run(function, args, kwargs))
        self._tasks[outcome] = task
        task.add_done_callback(functools.partial(self._settle, outcome))

    def _settle(self, outcome: concurrent.futures.Future[R], task: asyncio.Task[R]) -> None:
        del self._tasks[outcome]
        if task.cancelled():
            # By the loop's shutdown, or by Ctrl-C in the caller (which raises its
            # KeyboardInterrupt, not this).
            if self._closing:
                outcome.set_exception(ClientClosedError("the client was closed during this call"))
            else:
                outcome.set_exception(asyncio.CancelledError())
            return
        exc = task.exception()
        if exc is None:
            outcome.set_result(task.result())
        else:
            outcome.set_exception(exc)

    def _interrupt(self, outcome: concurrent.futures.Future[Any]) -> None:
        """Cancel the call of *outcome* and wait until its task has unwound."""
        if outcome.cancel():
            return  # it had not started
        with self._lock:
            if not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._cancel, outcome)
        concurrent.futures.wait([outcome])  # a second Ctrl-C stops this wait

    def _cancel(self, outcome: concurrent.futures.Future[Any]) -> None:
        task = self._tasks.get(outcome)
        if task is not None:
            task.cancel()

    def close_generator(self, generator: AsyncGenerator[Any, None]) -> None:
        """Close an async generator that was stepped in this loop, from any thread.

        It waits (the fetches a pager had in flight are cancelled when it returns) unless
        that would block an event loop: then the close is only started.
        """
        with self._lock:
            if self._closing:
                return  # the loop's shutdown closes it (shutdown_asyncgens)
            if threading.current_thread() is self._thread:
                self._loop.create_task(generator.aclose())
                return
            closed = asyncio.run_coroutine_threadsafe(generator.aclose(), self._loop)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            closed.result()

    # -- closing ---------------------------------------------------------------------

    def close(self, shutdown: Callable[[], Awaitable[object]]) -> None:
        """Run ``await shutdown()`` in the loop (once), stop the loop and join the thread.

        From the loop's own thread (a callback, or the garbage collector running there)
        it cannot wait for itself: it starts the shutdown and returns.
        """
        with self._lock:
            first = not self._closing
            self._closing = True
            if first and threading.current_thread() is self._thread:
                task = self._loop.create_task(self._shut_down(shutdown))
                task.add_done_callback(lambda _: self._loop.stop())
                return
            future = None
            if first and not self._loop.is_closed():
                future = asyncio.run_coroutine_threadsafe(self._shut_down(shutdown), self._loop)
        if threading.current_thread() is self._thread:
            return
        if future is None:  # another thread closes it (or the loop ended): wait for that
            self._thread.join()
            return
        try:
            future.result()
        except concurrent.futures.CancelledError:
            pass  # the loop ended on its own meanwhile, and cancelled what was left
        finally:
            with self._lock:
                if not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    async def _shut_down(self, shutdown: Callable[[], Awaitable[object]]) -> None:
        await shutdown()
        # The calls that shutdown cut short end with ClientClosedError; let them.
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _serve(self) -> None:
        """The thread: run the loop until stopped, then finish and close everything."""
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            with self._lock:
                self._closing = True  # also when the loop ended on its own (SystemExit)
            try:
                # Whatever is left (and whatever that starts on its way out) is cancelled.
                while left := asyncio.all_tasks(loop):
                    for task in left:
                        task.cancel()
                    loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                self._executor.shutdown(wait=True)
                asyncio.set_event_loop(None)
                with self._lock:
                    loop.close()
