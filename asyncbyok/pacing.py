"""Client-wide flow control: the backoff gate and the adaptive rate limiter.

Both are shared by every request of a client (and of its ``with_options`` copies), so a
thousand tasks behave as one polite caller:

- :class:`BackoffGate`: when the server says "wait" (``Retry-After`` on a 429 or 503),
  every request of the client waits for that same moment, instead of each task
  discovering the limit for itself.
- :class:`AdaptiveRateLimiter`: off until the first 429; then a token bucket whose rate
  follows CUBIC (as in the AWS SDKs' adaptive retry mode): cut to ``beta`` of the rate the
  server was measured to sustain on a 429, grown back along a cubic curve while none
  come, so a bulk run settles just under the server's limit instead of bursting into
  429s and sleeping. Once 429s stop and nobody is held back, it switches itself off.

**Whole-second hints.** Most servers send ``Retry-After`` in whole seconds (RFC 9110's
delta-seconds). ``Retry-After: 1`` from a token bucket that refills every 5 ms means "some
time in the next second", not "a second": shutting the whole client for the full second
on every 429 would halve a bulk run's speed. So the gate takes a whole-second hint ``n``
for what it is, a wait somewhere in ``(n - 1, n]``: from ``n - 1`` seconds on it lets one
request through at a time as a *probe* (at growing intervals, at most
``PROBE_MAX_INTERVAL`` apart). A probe that succeeds opens the gate for everyone; one
that is refused keeps it shut. Precise hints (fractional seconds, ``retry-after-ms``) are
obeyed as they are, with no probing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from collections.abc import Callable

from ._headers import LimitState

__all__ = ["PROBE_FIRST_INTERVAL", "PROBE_MAX_INTERVAL", "AdaptiveRateLimiter", "BackoffGate"]

Clock = Callable[[], float]

#: Seconds after the earliest moment a whole-second hint allows before the first probe.
PROBE_FIRST_INTERVAL = 0.02
#: The longest interval between two probes of a shut gate (they double up to this).
PROBE_MAX_INTERVAL = 0.1
#: The longest a paced caller sleeps before it looks at the rate again.
_LONGEST_SLEEP = 0.05
#: A caller held back by the pacer this recently means requests go out at its pace.
_HELD_RECENTLY = 0.25
#: Seconds without a 429 after which the pace counts as one the server sustained.
_SUSTAINED = 1.0


class BackoffGate:
    """A moment before which no request of the client starts (bar one probe at a time).

    ``defer(seconds)`` shuts it; :meth:`wait` holds callers until it opens; the caller
    that :meth:`wait` lets through early as a probe must report back with
    :meth:`probe_done`.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0
        self._named = 0.0  # the latest moment a server named, whether or not probes opened it
        self._probe_at = math.inf  # no probing unless a coarse hint allowed it
        self._probe_interval = PROBE_FIRST_INTERVAL
        self._probing = False
        self._opened: asyncio.Event | None = None
        self.probes = 0
        """How many probes were let through early (for tests and benchmarks)."""

    @property
    def remaining(self) -> float:
        """Seconds until the gate opens (0 when open)."""
        return max(0.0, self._until - self._clock())

    def defer(self, seconds: float, *, coarse: bool = False) -> None:
        """Keep the gate shut for *seconds* from now (never shortens an earlier wait).

        *coarse*: the wait came as whole seconds, so the true wait may be up to one
        second shorter; probes are let through from then on.
        """
        now = self._clock()
        until = now + seconds
        self._named = max(self._named, until)
        if until <= self._until:
            return
        self._until = until
        if coarse:
            earliest = now + max(0.0, seconds - 1.0) + self._probe_interval
            self._probe_at = max(earliest, self._probe_at) if self._probing else earliest
        else:
            self._probe_at = math.inf

    def early(self) -> bool:
        """Whether a request sent now goes before the moment the server last named."""
        return self._named > self._clock()

    def open(self) -> None:
        """Open the gate now: a probe proved the server takes requests again."""
        self._until = 0.0
        self._probe_at = math.inf
        self._probe_interval = PROBE_FIRST_INTERVAL
        self._wake()

    def probe_done(self, *, accepted: bool) -> None:
        """Report the outcome of a probe that :meth:`wait` let through."""
        self._probing = False
        if accepted:
            self.open()
            return
        self._probe_interval = min(2 * self._probe_interval, PROBE_MAX_INTERVAL)
        if self.remaining > 0:
            self._probe_at = min(self._until, self._clock() + self._probe_interval)
        self._wake()  # the waiters sleep until the next probe is due, not the first

    def _wake(self) -> None:
        if self._opened is not None:
            self._opened.set()
            self._opened = None

    def reset(self) -> None:
        """Forget every wait and waiter (the client moved to another event loop)."""
        self._until = self._named = 0.0
        self._probe_at = math.inf
        self._probing = False
        self._opened = None

    async def wait(self) -> bool:
        """Sleep until the gate opens. True when this caller goes early, as a probe."""
        while True:
            now = self._clock()
            if now >= self._until:
                return False
            if now >= self._probe_at and not self._probing:
                self._probing = True
                self.probes += 1
                return True
            if self._opened is None:
                self._opened = asyncio.Event()
            opened = self._opened
            pause = min(self._until, self._probe_at if not self._probing else self._until) - now
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(opened.wait(), timeout=max(pause, 0.001))


class _RateClock:
    """Successful responses per second over the last *window* seconds (a sliding window).

    Until a whole window has passed, the rate is taken over the time since the first
    success: a burst early in a fixed bucket would otherwise read as a slow server.
    """

    #: A busy spell is read on its own once it lasted this long and had this many.
    BUSY_SPAN = 0.1
    BUSY_COUNT = 10

    def __init__(self, clock: Clock, window: float = 1.0) -> None:
        self._clock = clock
        self._window = window
        self._times: collections.deque[float] = collections.deque()
        self._first: float | None = None
        self._busy: float | None = None
        self._busy_count = 0

    def busy_again(self) -> None:
        """Callers want to send again after a spell with nothing to send.

        The window then holds that idle spell, and would read the server as slower than
        it is (say, the lull between a bulk run's last create and the listing that
        settles its failures): until a window has passed, the rate is the larger of the
        window's and that of the busy spell alone.
        """
        self._busy = self._clock()
        self._busy_count = 0

    def restart(self, now: float) -> None:
        """Count from *now* only (see ``AdaptiveRateLimiter.on_throttle``)."""
        self._times.clear()
        self._first = now
        self._busy = None

    def record(self) -> None:
        now = self._clock()
        self._busy_count += 1
        if self._first is None:
            self._first = now
        times = self._times
        times.append(now)
        if times[0] < now - self._window:  # drop one stale entry a call: keeps it bounded
            times.popleft()

    def rate(self) -> float:
        now = self._clock()
        times = self._times
        while times and times[0] < now - self._window:
            times.popleft()
        if self._first is None:
            return 0.0
        span = min(self._window, max(0.05, now - self._first))
        rate = len(times) / span
        busy = self._busy
        if busy is not None:
            lasted = now - busy
            if lasted >= self._window:
                self._busy = None  # the window holds nothing but the busy spell now
            elif lasted >= self.BUSY_SPAN and self._busy_count >= self.BUSY_COUNT:
                rate = max(rate, self._busy_count / lasted)
        return rate

    def reset(self) -> None:
        self._times.clear()
        self._first = self._busy = None


class _WindowPhase:
    """When a fixed window turns over, learned from the server's count alone.

    A count whose reset is in whole seconds (the IETF draft's ``t``) for a window of a
    second or two does not say when in the second the quota refills. The quota left
    does: it only rises when the window turns. A rise of more than half the quota
    between two counts puts a turn between them; the moment of the turn, modulo the
    window, lies in each such span. ``TURNS`` spans that share a moment, known to within
    ``SPAN`` of the window, make it the window's phase; the reset is then the time to the
    next turn. A token bucket refills all the time: its rises share no moment, and its
    coarse counts stay unused.
    """

    TURNS = 2
    BINS = 100
    SPAN = 0.25

    def __init__(self) -> None:
        self._last: tuple[float, int] | None = None
        self._turns: collections.deque[tuple[float, float]] = collections.deque(maxlen=self.TURNS)
        self._window = 0.0
        self._phase: float | None = None

    def precise(self, state: LimitState, now: float) -> LimitState | None:
        """*state* with its reset made precise, or ``None`` while the phase is unknown."""
        window = state.window or max(state.reset, 1.0)
        last, self._last = self._last, (now, state.remaining)
        risen = last is not None and state.remaining - last[1] > state.limit / 2
        if risen and last is not None and now - last[0] <= window / 2:  # wider: too vague
            self._turns.append((last[0], now))
            # Turns that disagree (an answer late behind a later one, on a busy loop)
            # leave the phase found before as it was, until two agree again.
            known = self._phase if window == self._window else None
            located = self._locate(window)
            self._phase = known if located is None else located
        if self._phase is None or window != self._window:
            return None
        reset = window - (now - self._phase) % window
        # The server's whole seconds bound it: in (t - 1, t].
        reset = min(max(reset, state.reset - 1.0), state.reset)
        return LimitState(state.limit, state.remaining, reset, window)

    def _locate(self, window: float) -> float | None:
        """The moment (modulo *window*) every span holds, if they pin it down."""
        self._window = window
        if len(self._turns) < self.TURNS:
            return None
        width = window / self.BINS
        fits = [
            b
            for b in range(self.BINS)
            if all(((b + 0.5) * width - after) % window <= by - after for after, by in self._turns)
        ]
        if not fits:
            return None
        # The fitting bins form one arc of the circle: find it past the widest gap.
        gaps = [
            (fits[(n + 1) % len(fits)] - b) % self.BINS or self.BINS for n, b in enumerate(fits)
        ]
        widest = max(range(len(fits)), key=gaps.__getitem__)
        span = self.BINS - gaps[widest] + 1
        if span > self.SPAN * self.BINS:
            return None
        start = fits[(widest + 1) % len(fits)]
        return ((start + span / 2) * width) % window


class AdaptiveRateLimiter:
    """A token bucket whose rate adapts to the server's limit.

    ``acquire()`` is free until the first sign of a limit; after that it paces requests
    at :attr:`rate` per second. Three signs, three ways of finding the pace:

    - **429s** (a server that says nothing more): CUBIC, as in the AWS SDKs' adaptive
      mode. On a 429 the rate is cut to ``beta`` of what the server was measured to
      sustain, then grown back along a cubic curve while none come. A 429 to a probe of
      the backoff gate says nothing about the pace and is not counted. What "sustained"
      means: the responses of the last second, or of the busy spell since a lull with
      nothing to send; but a pace held for ``_SUSTAINED`` seconds with callers waiting on
      it is itself what the server sustained (TCP's window at the loss), however few
      responses a stall let through in the last second.
    - **The server's own count** (``RateLimit``/``X-RateLimit-*`` headers on every
      answer, ``asyncbyok._headers.parse_rate_limit``): the server is then the
      coordinator of every client that shares the limit. The limiter compares what is
      left of the quota with how much of its period is left; while the quota drains
      faster than the period (clients are ahead of the pace the limit allows) it cuts the
      rate to ``HEADER_BETA`` of itself, at most once per ``HEADER_GAP``; otherwise it
      grows by the same number of requests a second as every other client of the limit
      (a share of the limit's own rate). Every client sees the same count at the same
      time, so they cut together and grow alike: additive increase and multiplicative
      decrease in step, which converges to equal shares (Chiu and Jain, 1989), mostly
      before the server refuses anything.
    - **A count in whole seconds** of a limit that refills within two (the IETF draft's
      ``t=1``): when the quota refills is unknown (until a fixed window's turns show
      it, ``_WindowPhase``), and a bucket's quota is its burst, not its rate, so there
      is no common share to grow by. What is left of the quota is still common: each
      answer with under ``COARSE_LOW`` of it left cuts the pace by ``COARSE_MARK``,
      and it doubles every ``COARSE_DOUBLING`` seconds otherwise. A client twice as
      fast meets twice those answers, so shares meet (proportional fairness).

    It switches itself off again (:attr:`enabled` false) once ``relax_after`` seconds
    have passed with no sign of the limit and no caller held back: a long-lived client
    is never slower than a fresh one once the limit is gone.
    """

    MIN_RATE = 0.5
    #: The cut while the server's count shows the quota draining too fast.
    HEADER_BETA = 0.8
    #: Growth each second, as a share of the limit's own rate (the same for every client).
    HEADER_GROWTH = 0.1
    #: At most one cut per this many seconds (time for the count to show the last one).
    HEADER_GAP = 0.2
    #: How far the quota left may trail the period left before the pace is too fast.
    HEADER_MARGIN = 0.1
    #: Seconds to double the first pace, until the quota first drains too fast.
    HEADER_DOUBLING = 0.15
    #: With no moment of refill known (whole seconds), the share of the quota left
    #: below which the clients go too fast...
    COARSE_LOW = 0.25
    #: ...the cut of the pace at each answer that says so...
    COARSE_MARK = 0.2
    #: ...and the seconds to double it otherwise.
    COARSE_DOUBLING = 0.5

    def __init__(
        self,
        clock: Clock = time.monotonic,
        *,
        beta: float = 0.9,
        scale: float = 0.4,
        relax_after: float = 2.0,
    ) -> None:
        self._clock = clock
        self._beta = beta
        self._scale = scale
        self._relax_after = relax_after
        self._measured = _RateClock(clock)
        self.enabled = False
        """Whether requests are paced (from a 429 until the limit is relaxed)."""
        self.rate = math.inf
        """The pace, in requests per second (infinite while not enabled)."""
        self._w_max = 0.0
        self._k = 0.0
        self._last_throttle = -math.inf
        self._last_held = -math.inf
        self._tokens = 0.0
        self._last_refill = clock()
        self._lock: asyncio.Lock | None = None
        # The server's count: the period in which its quota refills, and when it was seen.
        self._period = 0.0
        self._counted = -math.inf
        self._grown = clock()
        self._growth = 0.0  # requests a second added each second, while the count allows
        self._doubling = False
        self._doubling_time = self.HEADER_DOUBLING
        self._started = self._exact = -math.inf
        self._coarse = False
        self._limit = 0
        self._phase = _WindowPhase()
        self.throttles = 0
        """How many 429s were fed back."""
        self.relaxed = 0
        """How many times the limiter switched itself off after 429s stopped."""

    @property
    def coordinated(self) -> bool:
        """Whether the server's count of the limit drives the pace (recently seen)."""
        recent = self._clock() - self._counted < self._relax_after
        return recent and self._period > 0 and self._limit > 0

    async def acquire(self) -> None:
        """Wait for a token (no wait while the limiter is off)."""
        if not self.enabled or self._relax():
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # first come, first served
            while self.enabled:
                if self._growth:
                    self._grow()
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                self._last_held = self._clock()
                # Briefly at most: a rate raised meanwhile must shorten the wait.
                await asyncio.sleep(min((1 - self._tokens) / self.rate, _LONGEST_SLEEP))

    def _relax(self) -> bool:
        """Switch off when neither 429s nor held callers were seen for ``relax_after``."""
        now = self._clock()
        if now - max(self._last_throttle, self._last_held) < self._relax_after:
            return False
        self.enabled = False
        self.rate = math.inf
        self.relaxed += 1
        return True

    def _refill(self) -> None:
        now = self._clock()
        # A tenth of a second of requests at most: a long idle spell (a backoff) must not
        # bank a burst that the server would answer with 429s.
        capacity = max(1.0, self.rate / 10)
        self._tokens = min(capacity, self._tokens + (now - self._last_refill) * self.rate)
        self._last_refill = now

    def busy_again(self) -> None:
        """Callers want to send again after a spell with nothing to send (see
        ``_RateClock.busy_again``)."""
        self._measured.busy_again()

    def on_success(self) -> None:
        """Feed back a response that was not throttled."""
        self._measured.record()
        if not self.enabled or self.coordinated:
            return
        elapsed = self._clock() - self._last_throttle
        self._set_rate(self._scale * (elapsed - self._k) ** 3 + self._w_max)

    def on_throttle(self, *, probe: bool = False) -> None:
        """Feed back a 429: cut the rate to ``beta`` times what the server sustained.

        *probe*: the request went early, as a probe of the backoff gate; its refusal
        says the server's wait is not over, nothing about the pace.
        """
        self.throttles += 1
        now = self._clock()
        if probe and self.enabled:
            return
        if self.enabled and now - self._last_throttle < 0.1:
            return  # one burst of 429s is one signal, not many
        if self.coordinated:
            if self.enabled:
                self._slow_down(now)
            else:
                self._start_shared(now)
            return
        measured = self._measured.rate()
        if measured <= 0:
            measured = self.rate if self.enabled else self.MIN_RATE
        if not self.enabled:
            base = measured
        elif now - self._last_held < _HELD_RECENTLY and now - self._last_throttle > _SUSTAINED:
            # The pace held for a while, callers waiting on it: requests went out at the
            # pace, and it is the pace that met the limit (TCP's window at the loss). The
            # responses counted over the last second can read far lower after a stall (of
            # the server, or of this process: a full garbage collection of a large
            # listing), and a cut to them would leave the limit unused for seconds.
            base = self.rate
        else:
            base = min(measured, self.rate)
        self._w_max = base
        self._k = (base * (1 - self._beta) / self._scale) ** (1 / 3)
        self._last_throttle = now
        self._switch_on(now)
        self._set_rate(base * self._beta)
        # What the server serves from now on is measured afresh: the last second still
        # holds the burst that met the limit (a bucket's stored tokens, an unpaced
        # start), and read at the next 429 it would cut from a rate the server never
        # sustained, one 0.1 s step after another.
        self._measured.restart(now)

    def on_count(self, state: LimitState, *, throttled: bool = False) -> None:
        """Feed back the server's count of the limit (its ``RateLimit`` headers), from a
        429 when *throttled*."""
        now = self._clock()
        coarse = False
        if state.reset != int(state.reset):
            self._exact = now
        elif max(state.reset, state.window or 0) <= 2:
            if now - self._exact < self._relax_after:
                return  # a server that counts in fractions, at a whole second by chance
            # Whole seconds of a limit that refills in a second or two say nothing about
            # when it refills, unless the quota's own jumps show a fixed window's phase.
            precise = self._phase.precise(state, now)
            coarse = precise is None
            state = precise or state
        # Paced by its own 429s until now (its count was unusable, or stopped coming):
        # every other client of the limit paced itself differently, so all start over
        # from the same share, or they keep unequal shares for most of a run.
        joining = self.enabled and not self.coordinated
        self._coarse = coarse
        self._counted = now
        self._limit = state.limit
        self._period = max(self._period * 0.999, state.reset, state.window or 0.0)
        if self._period <= 0 or state.limit <= 0:
            return
        if joining:
            self._start_shared(now)
            return
        if coarse:
            self._on_coarse(state, now, throttled)
            return
        share = self.HEADER_GROWTH * state.limit / self._period
        ahead = state.remaining / state.limit < state.reset / self._period - self.HEADER_MARGIN
        if ahead:
            if not self.enabled:
                self._start_shared(now)
            elif now - self._last_throttle >= self.HEADER_GAP:
                self._slow_down(now)
            self._growth = 0.0  # no growth while the quota drains too fast
        elif self.enabled:
            self._grow()
            self._growth = share
        self._grown = now

    def _on_coarse(self, state: LimitState, now: float, throttled: bool) -> None:
        """A count with no moment of refill known: what is left of the quota still is.

        Nearly none left says the clients together go too fast, whatever the moment.
        With no common rate to grow by (a bucket's quota is its burst, not its rate),
        each such answer cuts the pace by ``COARSE_MARK`` and the pace otherwise
        doubles every ``COARSE_DOUBLING`` seconds: a client twice as fast meets twice
        the marks, so the faster lose more and the shares meet (proportional fairness).
        """
        low = state.remaining <= state.limit * self.COARSE_LOW
        if not self.enabled:
            # Switch on as the exact count would if the quota had just refilled (the
            # latest the whole seconds allow): a start unpaced into a window lets the
            # first client out take most of it, and keep that lead to the end.
            if state.remaining / state.limit < state.reset / self._period - self.HEADER_MARGIN:
                self._start_shared(now)
            return
        if throttled:  # no growth while refused; the 429 cuts on its own, once a burst
            self._grown = now
            return
        self._grow()
        self._doubling = True
        self._growth = 0.0
        if not low or now - self._started < self.HEADER_GAP:
            return  # (the answers to what was sent before the start mark no pace)
        self._last_throttle = now
        self._set_rate(self.rate * (1 - self.COARSE_MARK))
        self._doubling_time = self.COARSE_DOUBLING

    def _slow_down(self, now: float) -> None:
        """The count (or a 429) says the clients go too fast: cut by ``HEADER_BETA``."""
        self._grow()
        self._cut(now, self.HEADER_BETA)
        self._doubling = False
        if self._coarse:
            self._doubling_time = self.COARSE_DOUBLING

    def _start_shared(self, now: float) -> None:
        """Switch on at the same share of the limit as every other client of it, and
        double it alike until the quota drains too fast again: equal from the start."""
        self._last_throttle = now
        self._switch_on(now)
        # The period seen so far may be short of the true one (a bucket not yet empty): a
        # second at least, so that every client starts from the same low pace.
        self._set_rate(self.HEADER_GROWTH * self._limit / max(self._period, 1.0))
        self._doubling = True
        self._doubling_time = self.HEADER_DOUBLING
        self._started = now
        self._grown = now

    def _grow(self) -> None:
        """Add the growth since it was last added (the server's count says there is room)."""
        now = self._clock()
        # Growth while the pace is in use: a spell with no answers (a closed gate) adds
        # at most two requests' time, or a pace unused would come back many times over.
        elapsed = min(max(0.0, now - self._grown), max(self.HEADER_GAP, 2 / self.rate))
        if self._doubling:
            self._set_rate(self.rate * 2 ** (elapsed / self._doubling_time))
        else:
            self._set_rate(self.rate + self._growth * elapsed)
        self._grown = now

    def _cut(self, now: float, beta: float) -> None:
        self._last_throttle = now
        self._set_rate(self.rate * beta)

    def _switch_on(self, now: float) -> None:
        if not self.enabled:  # switch on with an empty bucket: an infinite rate is no rate
            self.enabled = True
            self._last_refill = now
            self._tokens = 0.0
            self.rate = math.inf

    def reset(self) -> None:
        """Switch off and forget everything measured (the client moved to another loop)."""
        self.enabled = False
        self.rate = math.inf
        self._lock = None
        self._last_throttle = self._last_held = self._counted = -math.inf
        self._started = self._exact = -math.inf
        self._period = 0.0
        self._growth = 0.0
        self._doubling = self._coarse = False
        self._doubling_time = self.HEADER_DOUBLING
        self._measured.reset()
        self._phase = _WindowPhase()

    def _set_rate(self, rate: float) -> None:
        if math.isfinite(self.rate):
            self._refill()
        self.rate = max(self.MIN_RATE, rate)
