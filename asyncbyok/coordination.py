"""Replicas that share one limit, paced as one client: :class:`RedisLimit`.

Several processes on one management key share the server's rate limit. When the server
sends the limit's state (``RateLimit`` or ``X-RateLimit-*`` headers) it coordinates them
itself (:mod:`asyncbyok.pacing`); when it sends only 429s, each process sees only its
own 429s, and independent clients divide the limit unevenly and waste part of it. With
``Client(shared_limit=RedisLimit("redis://..."))`` in every replica, they keep one pacer
and one backoff gate in Redis instead, and behave as one polite client: one token bucket
that every request takes from, one adaptive rate, one moment the server named, one probe
at a time.

Every operation is one Lua script run in Redis (atomic; Redis's clock, so the replicas'
clocks never disagree): ``acquire`` before a request (it answers "go", "probe" or "wait
this long"), ``report`` after it. The state is a small hash under a key derived from the
base URL and a digest of the management key (never the key itself), which expires an
hour after its last use.

A fresh shared limit starts paced, at ``start_rate`` requests a second, doubling every
``DOUBLING`` seconds until the first 429: replicas that start together then share the
first tokens instead of one of them taking the whole first window. On a 429 the pace is
set just under what the server accepted in the last half second, all replicas together
(counted in Redis), then grows by a fifth of that each second until the next 429; a gate
with probes answers whole-second ``Retry-After``. Pacing switches off after two seconds
with no 429 and nobody held back, like the client's own.

Needs the ``redis`` package (``pip install 'asyncbyok[redis]'``): Redis 6.2 or newer.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["DOUBLING", "RedisLimit"]

#: Seconds for a fresh shared limit's pace to double, until the first 429.
DOUBLING = 0.15
#: The longest a caller sleeps before it asks again (a rate raised meanwhile shows).
_LONGEST_WAIT = 0.05

_SCRIPT = """
local key = KEYS[1]
local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local raw = redis.call('HGETALL', key)
local s = {}
for i = 1, #raw, 2 do s[raw[i]] = tonumber(raw[i + 1]) end
local function g(name, default)
  local v = s[name]
  if v == nil then return default end
  return v
end
local INF = 1e18
local BETA, GROWTH, RELAX, MIN_RATE = 0.95, 0.2, 2.0, 0.5
local FIRST_PROBE, MAX_PROBE, LEASE, SLOT = 0.02, 0.1, 2.0, 0.1
local start_rate, doubling = tonumber(ARGV[2]), tonumber(ARGV[3])
local mode, rate, base = g('mode', -1), g('rate', INF), g('base', 0)
local lt, lh = g('lt', -INF), g('lh', -INF)
local tok, rf = g('tok', 0), g('rf', now)
local gu, gn, pa, pl, pi = g('gu', 0), g('gn', 0), g('pa', INF), g('pl', 0), g('pi', FIRST_PROBE)
local dg = g('dg', now)
-- Successes in the last second, in ten slots of 0.1 s.
local slot = math.floor(now / SLOT)
local last = g('se', slot)
local counts = {}
for i = 0, 9 do counts[i] = g('s' .. i, 0) end
for n = last + 1, math.min(slot, last + 10) do counts[n % 10] = 0 end
local result = {'0', '0'}

if mode == -1 then  -- a fresh fleet: paced from the first request, doubling
  mode, rate, dg, tok, rf, lt = 1, start_rate, now, 0, now, now
end
if mode > 0 and now - math.max(lt, lh) >= RELAX then mode, rate = 0, INF end

if op == 'acquire' then
  if now < gu then
    if now >= pa and now >= pl then
      pl = now + LEASE
      result = {'0', '1'}
    else
      local wake = gu
      if pa < wake then wake = pa end
      result = {tostring(math.min(math.max(wake - now, 0.001), 0.05)), '0'}
    end
  elseif mode > 0 then
    if mode == 1 then
      rate = rate * 2 ^ ((now - dg) / doubling)
      dg = now
    else
      rate = math.max(MIN_RATE, base * (1 + GROWTH * (now - lt)))
    end
    local cap = math.max(1, rate / 10)
    tok = math.min(cap, tok + (now - rf) * rate)
    rf = now
    if tok >= 1 then
      tok = tok - 1
    else
      lh = now
      result = {tostring(math.min((1 - tok) / rate, 0.05)), '0'}
    end
  end
else  -- report: ARGV[4] throttled, ARGV[5] probe, ARGV[6] hint (-1: none), ARGV[7] coarse
  local throttled, probe = ARGV[4] == '1', ARGV[5] == '1'
  local hint, coarse = tonumber(ARGV[6]), ARGV[7] == '1'
  if probe then pl = 0 end
  if not throttled then
    counts[slot % 10] = counts[slot % 10] + 1
    if probe then gu, pa, pi = 0, INF, FIRST_PROBE end
  elseif probe then
    pi = math.min(2 * pi, MAX_PROBE)
    if gu > now then pa = math.min(gu, now + pi) end
  elseif not (mode > 0 and now - lt < 0.1) then
    -- Just under what the server accepted in the last second (all replicas together).
    local measured = 0  -- the last half second (the current slot in part), per second
    for n = slot - 4, slot do measured = measured + counts[n % 10] end
    measured = measured / (4 * SLOT + (now - slot * SLOT))
    if mode == 0 then tok, rf = 0, now end
    if measured <= 0 then measured = math.min(rate, start_rate) end
    if mode > 0 then measured = math.min(measured, rate) end
    base = math.max(MIN_RATE, BETA * measured)
    rate, lt, mode = base, now, 2
  end
  if throttled and hint >= 0 then
    local untl = now + hint
    if untl > gn then gn = untl end
    if untl > gu then
      gu = untl
      if coarse then pa = now + math.max(0, hint - 1) + pi else pa = INF end
    end
  end
end

redis.call('HSET', key, 'mode', mode, 'rate', rate, 'base', base, 'lt', lt, 'lh', lh,
  'tok', tok, 'rf', rf, 'gu', gu, 'gn', gn, 'pa', pa, 'pl', pl, 'pi', pi, 'dg', dg,
  'se', slot, 's0', counts[0], 's1', counts[1], 's2', counts[2], 's3', counts[3],
  's4', counts[4], 's5', counts[5], 's6', counts[6], 's7', counts[7], 's8', counts[8],
  's9', counts[9])
redis.call('EXPIRE', key, 3600)
return result
"""


class RedisLimit:
    """One pacer and backoff gate for every replica that uses the same Redis and the
    same management key: see the module docstring.

    *server* is a URL (``"redis://127.0.0.1:6379/0"``; the connections are made per event
    loop and closed with the client) or a ``redis.asyncio.Redis`` you own. *prefix*
    separates applications sharing one Redis. *start_rate* is the pace a fresh fleet
    starts from (requests a second, doubling until the first 429).
    """

    def __init__(
        self, server: str | Redis, *, prefix: str = "asyncbyok", start_rate: float = 10.0
    ) -> None:
        import importlib.util

        if importlib.util.find_spec("redis") is None:  # a clear error now, not at first use
            raise ImportError("RedisLimit needs the redis package: pip install 'asyncbyok[redis]'")
        if not start_rate > 0:
            raise ValueError(f"start_rate must be more than 0, not {start_rate!r}")
        self._url = server if isinstance(server, str) else None
        self._given = None if isinstance(server, str) else server
        self._prefix = prefix
        self._start_rate = float(start_rate)
        self._key = ""
        self._clients: dict[asyncio.AbstractEventLoop, Redis] = {}
        self._scripts: dict[asyncio.AbstractEventLoop, Any] = {}
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def __repr__(self) -> str:
        where = "a given client" if self._url is None else _without_password(self._url)
        return f"RedisLimit({where}, prefix={self._prefix!r})"

    def bind(self, base_url: str, api_key: str | None) -> None:
        """Name the shared state after the API and the management key (a digest of it).

        A rotating key (``api_key`` a callable, passed here as ``None``) names no
        account: the state is named after the API and the *prefix* alone, so give each
        account its own prefix.
        """
        digest = hashlib.sha256(f"{base_url}\n{api_key or ''}".encode()).hexdigest()[:32]
        self._key = f"{self._prefix}:limit:{digest}"

    def _script(self) -> Any:
        loop = asyncio.get_running_loop()
        script = self._scripts.get(loop)
        if script is None:
            client = self._given
            if client is None:
                from redis.asyncio import Redis

                assert self._url is not None
                client = self._clients[loop] = Redis.from_url(self._url)
            script = self._scripts[loop] = client.register_script(_SCRIPT)
        return script

    async def _run(self, *args: object) -> list[float]:
        base = [self._start_rate, DOUBLING]
        answer = await self._script()(keys=[self._key], args=[args[0], *base, *args[1:]])
        return [float(v) for v in answer]

    async def acquire(self) -> bool:
        """Wait for the fleet's turn; True when this request goes as the gate's probe.

        One request of this process asks Redis at a time (the others wait here, first
        come first served): k replicas poll as k callers, not as all their tasks.
        """
        lock = self._locks.get(asyncio.get_running_loop())
        if lock is None:
            lock = self._locks[asyncio.get_running_loop()] = asyncio.Lock()
        async with lock:
            while True:
                wait, probe = await self._run("acquire")
                if wait <= 0:
                    return probe == 1
                await asyncio.sleep(min(wait, _LONGEST_WAIT))

    async def report(
        self, *, throttled: bool, probe: bool, hint: float | None, coarse: bool
    ) -> None:
        """What the server answered to a request :meth:`acquire` let through."""
        await self._run(
            "report",
            int(throttled),
            int(probe),
            -1 if hint is None else hint,
            int(coarse),
        )

    async def aclose(self) -> None:
        """Close the connections this object made (a client you gave stays open)."""
        clients, self._clients = self._clients, {}
        self._scripts.clear()
        self._locks.clear()
        for loop, client in clients.items():
            if loop is asyncio.get_running_loop():
                await client.aclose()


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{parts.username or ''}:<redacted>@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))
