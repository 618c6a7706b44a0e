"""Client-wide flow control, around each attempt: ``async with flow.attempt() as a``.

One :class:`Flow` per client (shared by its ``with_options`` copies) holds what every
request of the client shares:

- the **ramp**: until the server first shows a limit, at most a window of requests is in
  flight, one more for each success (TCP's slow start). On a fast server the window is
  the whole pool within a few round trips; against a limit shared by several replicas
  that start together, they neither blast it with their whole pools at once nor split
  its first tokens by luck;
- the **pacer** (:class:`~asyncbyok.pacing.AdaptiveRateLimiter`), on from the first sign
  of a limit;
- the **backoff gate** (:class:`~asyncbyok.pacing.BackoffGate`), shut by the retry loop
  when the server names a moment;
- the count of 429s.

An attempt waits its turn (ramp, pacer, then gate: a request paced into the moment the
gate shut still waits), is sent, and reports its status and headers with
``Attempt.report()``. Leaving the ``async with`` settles everything the attempt held
(its ramp slot, a probe of the gate) on every exit, errors and cancellation included.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from ._headers import find_retry_after, parse_rate_limit
from .pacing import AdaptiveRateLimiter, BackoffGate

if TYPE_CHECKING:
    from .coordination import RedisLimit

__all__ = ["RAMP_START", "Attempt", "Flow", "SharedAttempt"]

#: Requests in flight at first, before any success (TCP's initial window is about as many).
RAMP_START = 4
#: The ramp ends once this many requests may be in flight (beyond any pool's size).
_RAMP_END = 256
#: Seconds with no attempt waiting or in flight that make an idle spell (see _want).
_IDLE = 0.1


class Flow:
    """The flow control one client and its copies share: see the module docstring."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, shared: RedisLimit | None = None
    ) -> None:
        self.shared = shared
        """A pacer and gate shared with other processes (:mod:`asyncbyok.coordination`)."""
        self.gate = BackoffGate(clock)
        self.pacer = AdaptiveRateLimiter(clock)
        self.rate_limited = 0
        """429s received, all calls together."""
        self.ramping = True
        self._window = RAMP_START
        self._in_flight = 0
        self._slot_free: asyncio.Event | None = None
        self._clock = clock
        self._wanting = 0  # attempts entered and not yet left: waiting or in flight
        self._idle_at = -_IDLE

    def reset(self) -> None:
        """Forget every wait and measure (the client moved to another event loop)."""
        self.gate.reset()
        self.pacer.reset()
        self._in_flight = 0
        self._slot_free = None
        self._wanting = 0
        self._idle_at = -_IDLE

    def _want(self) -> None:
        """An attempt wants its turn; after an idle spell, the pacer is told."""
        if not self._wanting and self._clock() - self._idle_at > _IDLE:
            self.pacer.busy_again()
        self._wanting += 1

    def _unwant(self) -> None:
        self._wanting -= 1
        if not self._wanting:
            self._idle_at = self._clock()

    def attempt(self, *, adaptive: bool = True) -> Attempt | SharedAttempt:
        """The context of one attempt. *adaptive*: the caller retries 429s, so what the
        server says of its limit may shape the pace of every caller (a caller with
        retries off handles 429s itself: nothing else waits on its behalf)."""
        if self.shared is not None:
            return SharedAttempt(self, self.shared, adaptive)
        return Attempt(self, adaptive)

    # -- the ramp ---------------------------------------------------------------------------

    async def _take_slot(self) -> bool:
        while self._in_flight >= self._window:
            if self._slot_free is None:
                self._slot_free = asyncio.Event()
            await self._slot_free.wait()
            if not self.ramping:
                return False
        self._in_flight += 1
        return True

    def _give_slot(self, *, success: bool) -> None:
        self._in_flight -= 1
        if success and self.ramping:
            self._window += 1
            if self._window >= _RAMP_END:
                self._end_ramp()
        self._free()

    def _end_ramp(self) -> None:
        self.ramping = False
        self._free()

    def _free(self) -> None:
        if self._slot_free is not None:
            self._slot_free.set()
            self._slot_free = None


class Attempt:
    """One attempt's turn: taken on entry, given back on exit. See :class:`Flow`."""

    __slots__ = ("_adaptive", "_flow", "_probe", "_reported", "_slot", "early")

    def __init__(self, flow: Flow, adaptive: bool) -> None:
        self._flow = flow
        self._adaptive = adaptive
        self._slot = False
        self._probe = False
        self._reported = False
        self.early = False
        """Whether it was sent before the moment the server last named (a 429 to it is
        the client's guess proved early, not the server's verdict on the call)."""

    async def __aenter__(self) -> Attempt:
        flow = self._flow
        flow._want()
        try:
            if flow.ramping:
                self._slot = await flow._take_slot()
            pacer = flow.pacer
            if pacer.enabled:
                await pacer.acquire()
            gate = flow.gate
            if gate.remaining:  # checked first: most of the time there is nothing to await
                self._probe = await gate.wait()
        except BaseException:  # cancelled while waiting: no __aexit__ will give back
            self._leave()
            raise
        if flow.rate_limited:
            self.early = gate.early()
        return self

    def report(self, status: int, headers: Mapping[str, str]) -> None:
        """What the server answered (called once, before the response is decoded)."""
        flow = self._flow
        self._reported = True
        success = status != 429
        probe = self._probe
        if self._slot:
            self._slot = False
            flow._give_slot(success=success)
        if probe:
            self._probe = False
            flow.gate.probe_done(accepted=success)
        pacer = flow.pacer
        if success:
            pacer.on_success()
        else:
            flow.rate_limited += 1
        if not self._adaptive:
            return
        count = parse_rate_limit(headers)
        if count is not None:  # first: it tells how to read a 429
            pacer.on_count(count, throttled=not success)
        if not success:
            pacer.on_throttle(probe=probe)
        if pacer.enabled and flow.ramping:
            flow._end_ramp()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave()

    def _leave(self) -> None:
        flow = self._flow
        flow._unwant()
        if self._slot:  # no answer (an error, a cancellation): the slot goes back
            self._slot = False
            flow._give_slot(success=False)
        if self._probe:
            self._probe = False
            flow.gate.probe_done(accepted=False)


class SharedAttempt:
    """One attempt's turn from a pacer and gate shared with other processes."""

    __slots__ = ("_adaptive", "_flow", "_outcome", "_shared", "early")

    def __init__(self, flow: Flow, shared: RedisLimit, adaptive: bool) -> None:
        self._flow = flow
        self._shared = shared
        self._adaptive = adaptive
        self._outcome: tuple[bool, float | None, bool] | None = None
        self.early = False
        """Whether it went as the shared gate's probe (see :class:`Attempt`)."""

    async def __aenter__(self) -> SharedAttempt:
        self.early = await self._shared.acquire()
        return self

    def report(self, status: int, headers: Mapping[str, str]) -> None:
        """What the server answered (passed on to the shared state on exit)."""
        throttled = status == 429
        if throttled:
            self._flow.rate_limited += 1
        hint, coarse = find_retry_after(headers) if throttled else (None, False)
        self._outcome = (throttled, hint, coarse)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        outcome = self._outcome
        if outcome is None:
            if not self.early:
                return  # no answer, and no probe to hand back
            outcome = (True, None, False)  # a probe with no answer: probe again later
        throttled, hint, coarse = outcome
        if throttled and not self._adaptive and not self.early:
            return  # a caller that handles 429s itself shapes nobody's pace
        await self._shared.report(throttled=throttled, probe=self.early, hint=hint, coarse=coarse)
