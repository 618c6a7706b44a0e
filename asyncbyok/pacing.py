"""Client-wide flow control: the backoff gate and the adaptive rate limiter.

Both are shared by every request of a client (and of its ``with_options`` copies), so a
thousand tasks behave as one polite caller:

- :class:`BackoffGate`: when the server says "wait" (``Retry-After`` on a 429 or 503),
  every request of the client waits for that same moment, instead of each task
  discovering the limit for itself.
- :class:`AdaptiveRateLimiter`: off until the first 429; then a token bucket whose rate
  follows the AWS SDKs' adaptive retry mode (CUBIC: cut to 70% of the measured rate on a
  429, grow back along a cubic curve while none come), so a bulk run settles just under
  the server's limit instead of bursting into 429s and sleeping.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Callable

__all__ = ["AdaptiveRateLimiter", "BackoffGate"]

Clock = Callable[[], float]


class BackoffGate:
    """A moment before which no request of the client starts."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0

    @property
    def remaining(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self._until - self._clock())

    def defer(self, seconds: float) -> None:
        """Keep the gate shut for *seconds* from now (never shortens an earlier wait)."""
        self._until = max(self._until, self._clock() + seconds)

    async def wait(self) -> float:
        """Sleep until the gate opens; return how long that took."""
        waited = 0.0
        while (remaining := self.remaining) > 0:
            await asyncio.sleep(remaining)
            waited += remaining
        return waited


class _RateClock:
    """Successful responses per second over the last *window* seconds (a sliding window).

    Until a whole window has passed, the rate is taken over the time since the first
    success: a burst early in a fixed bucket would otherwise read as a slow server, and
    an underestimate is slow to undo (the rate then climbs back over seconds), while an
    overestimate is corrected by the very next 429.
    """

    def __init__(self, clock: Clock, window: float = 1.0) -> None:
        self._clock = clock
        self._window = window
        self._times: collections.deque[float] = collections.deque()
        self._first: float | None = None

    def record(self) -> None:
        now = self._clock()
        if self._first is None:
            self._first = now
        times = self._times
        times.append(now)
        if times[0] < now - self._window:  # drop one stale entry a call: keeps it bounded
            times.popleft()

    def rate(self, now: float | None = None) -> float:
        now = self._clock() if now is None else now
        times = self._times
        while times and times[0] < now - self._window:
            times.popleft()
        if self._first is None:
            return 0.0
        span = min(self._window, max(0.05, now - self._first))
        return len(times) / span


class AdaptiveRateLimiter:
    """A token bucket whose rate adapts to 429s (CUBIC, as in botocore's adaptive mode).

    ``acquire()`` is free until the first throttle; after that it paces requests at
    :attr:`rate` per second.
    """

    MIN_RATE = 0.5

    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        beta: float = 0.7,
        scale: float = 0.4,
    ) -> None:
        self._clock = clock
        self._beta = beta
        self._scale = scale
        self._measured = _RateClock(clock)
        self.enabled = False
        """Whether requests are paced (from the first 429 on)."""
        self.rate = math.inf
        """The pace, in requests per second (infinite while not enabled)."""
        self._w_max = 0.0
        self._k = 0.0
        self._last_throttle = clock()
        self._tokens = 0.0
        self._last_refill = clock()
        self._lock = asyncio.Lock()
        self.throttles = 0
        """How many 429s were fed back."""

    async def acquire(self) -> None:
        """Wait for a token (no wait while the limiter is off)."""
        if not self.enabled:
            return
        async with self._lock:  # first come, first served
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)

    def _refill(self) -> None:
        now = self._clock()
        # A tenth of a second of requests at most: a long idle spell (a backoff) must not
        # bank a burst that the server would answer with 429s.
        capacity = max(1.0, self.rate / 10)
        self._tokens = min(capacity, self._tokens + (now - self._last_refill) * self.rate)
        self._last_refill = now

    def on_success(self) -> None:
        """Feed back a response that was not throttled."""
        self._measured.record()
        if not self.enabled:
            return
        measured = self._measured.rate()
        elapsed = self._clock() - self._last_throttle
        cubic = self._scale * (elapsed - self._k) ** 3 + self._w_max
        self._set_rate(min(cubic, 2 * measured) if measured > 0 else cubic)

    def on_throttle(self) -> None:
        """Feed back a 429: cut the rate to ``beta`` times what the server sustained."""
        self.throttles += 1
        measured = self._measured.rate()
        now = self._clock()
        if measured <= 0:
            measured = self.rate if self.enabled else self.MIN_RATE
        base = min(measured, self.rate) if self.enabled else measured
        if self.enabled and now - self._last_throttle < 0.1:
            return  # one burst of 429s is one signal, not many
        self._w_max = base
        self._k = (base * (1 - self._beta) / self._scale) ** (1 / 3)
        self._last_throttle = now
        if self.enabled:
            self._set_rate(base * self._beta)
        else:  # switch on with an empty bucket (refilling at an infinite rate is no rate)
            self.enabled = True
            self._last_refill = now
            self._tokens = 0.0
            self.rate = max(self.MIN_RATE, base * self._beta)

    def _set_rate(self, rate: float) -> None:
        self._refill()
        self.rate = max(self.MIN_RATE, rate)
