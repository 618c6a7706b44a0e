"""Where a create's client CPU goes: a ladder from raw aiohttp to ``client.byok.create``.

``python -m benchmarks.ladder [--creates N] [--rounds R] [--concurrency C]`` runs creates
against :mod:`benchmarks.lean_server` (in another process, a few µs of server CPU per
request, so nothing hides the client's cost), one rung at a time, each rung adding one
layer to the one before. The rungs alternate within each round (ABC..., ...CBA), and
the median of the rounds is printed with each rung's step from the one above::

    aiohttp           raw aiohttp: session-level headers, a str body, read(), json.loads
    aiohttp+options   per-request headers, timeout and allow_redirects=False, bytes
    aiohttp+read      + a connection slot (semaphore) and asyncbyok's bounded read_body
    floor             not a layer: the work a create must do besides aiohttp, written
                      flat in one function (session-level headers, the request model
                      and its checks, encoding, the bounded read, redaction, decoding a
                      BYOKKey), no pacing, no retry loop, no layers. What the SDK could
                      cost with no structure at all
    transport         asyncbyok's Transport: the call's loop binding, redaction, RawResponse
    decode            + decode_response: JSON, the envelope, cattrs into a BYOKKey
    client.request    Client.request with a dict body: build, encode, pacing, the retry
                      loop's first attempt, APIResponse
    raw create        client.byok.with_raw_response.create(...): the request model and
                      its checks, the safe-create bookkeeping, the provider key's redaction
    create            client.byok.create(...): what users call

The steps are what each layer costs on its own (``floor`` aside: the step after it is
from ``aiohttp+read``'s flat work to the first layered rung); the first rung is what the
benchmark's ``aiohttp`` contender measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp

import asyncbyok
from asyncbyok import CreateBYOKKeyRequest, Timeout, codec, sansio
from asyncbyok._body import read_body
from asyncbyok._scrub import redact_response
from asyncbyok.models import BYOKKey
from asyncbyok.response import decode_response
from asyncbyok.transport import Transport

from .lean_server import LeanServerProcess

__all__ = ["RUNGS", "main"]

RUNGS = (
    "aiohttp",
    "aiohttp+options",
    "aiohttp+read",
    "floor",
    "transport",
    "decode",
    "client.request",
    "raw create",
    "create",
)
_KEY = "sk-lean"  # the lean server checks nothing
_FIELDS = {"provider": "openai", "key": "sk-proj-ladder-abcdefgh1234", "name": "x"}
_BODY = json.dumps(_FIELDS).encode()
_HEADERS = {
    "Authorization": f"Bearer {_KEY}",
    "User-Agent": "asyncbyok-ladder",
    "Accept": "application/json",
    "Content-Type": "application/json",
}

One = Callable[[], Awaitable[Any]]


async def _aiohttp_rung(rung: str, url: str, concurrency: int) -> tuple[One, Callable[[], Any]]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    plain = rung in ("aiohttp", "floor")
    session = aiohttp.ClientSession(connector=connector, headers=_HEADERS if plain else None)
    timeout = aiohttp.ClientTimeout(total=60, sock_connect=10)
    slots = asyncio.Semaphore(concurrency)
    text = _BODY.decode()

    async def raw() -> None:
        async with session.post(url, data=text) as response:
            body = await response.read()
        json.loads(body)

    async def options() -> None:
        async with session.request(
            "POST", url, data=_BODY, headers=_HEADERS, timeout=timeout, allow_redirects=False
        ) as response:
            body = await response.read()
        json.loads(body)

    async def bounded() -> None:
        async with (
            slots,
            session.request(
                "POST", url, data=_BODY, headers=_HEADERS, timeout=timeout, allow_redirects=False
            ) as response,
        ):
            body = await read_body(response, 16 << 20, method="POST", url=url)
        json.loads(body)

    async def floor() -> None:
        # What a create must do besides aiohttp, flattened: check the request, encode it,
        # send it with session-level headers, read it bounded, redact, decode the model.
        request = CreateBYOKKeyRequest(provider="openai", key=_FIELDS["key"], name="x")
        body = codec.dumps(request)
        async with (
            slots,
            session.request(
                "POST", url, data=body, timeout=timeout, allow_redirects=False
            ) as response,
        ):
            data = await read_body(response, 16 << 20, method="POST", url=url)
            _, data = redact_response(response.headers, data, (_KEY, request.key))
            status = response.status
        if status != 201:
            raise RuntimeError(status)
        codec.structure(json.loads(data)["data"], BYOKKey)

    chosen: One = {
        "aiohttp": raw,
        "aiohttp+options": options,
        "aiohttp+read": bounded,
        "floor": floor,
    }[rung]
    return chosen, session.close


async def _asyncbyok_rung(rung: str, base_url: str, concurrency: int) -> tuple[One, Any]:
    if rung in ("transport", "decode"):
        transport = Transport(limits=asyncbyok.Limits(max_connections=concurrency))
        request = sansio.HTTPRequest("POST", base_url + "/byok", _HEADERS, _BODY)
        timeout = Timeout()
        decode = rung == "decode"

        async def send() -> None:
            async with transport.call() as call:
                raw = await transport.send(call, request, timeout)
            if decode:
                decode_response(raw.status, raw.headers, raw.body, BYOKKey, envelope=True)
            else:
                json.loads(raw.body)

        return send, transport.aclose
    limits = asyncbyok.Limits(max_connections=concurrency)
    client = asyncbyok.Client(api_key=_KEY, base_url=base_url, limits=limits)

    provider, key, name = _FIELDS["provider"], _FIELDS["key"], _FIELDS["name"]

    async def call() -> None:
        await client.request("POST", "/byok", BYOKKey, json_body=_FIELDS, envelope=True)

    async def raw_create() -> None:
        await client.byok.with_raw_response.create(provider=provider, key=key, name=name)

    async def create() -> None:
        await client.byok.create(provider=provider, key=key, name=name)

    chosen: One = {"client.request": call, "raw create": raw_create, "create": create}[rung]
    return chosen, client.aclose


async def measure(rung: str, base_url: str, *, creates: int, concurrency: int) -> float:
    """Client CPU µs per create at *rung*, after a warm-up of 300 creates."""
    if rung.startswith("aiohttp") or rung == "floor":
        one, close = await _aiohttp_rung(rung, base_url + "/byok", concurrency)
    else:
        one, close = await _asyncbyok_rung(rung, base_url, concurrency)
    try:
        for _ in range(300):
            await one()
        pending = iter(range(creates))

        async def worker() -> None:
            for _ in pending:
                await one()

        cpu = time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return (time.process_time() - cpu) / creates * 1e6
    finally:
        await close()


def run(rungs: Sequence[str], *, creates: int, rounds: int, concurrency: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {r: [] for r in rungs}
    with LeanServerProcess() as lean:
        for rnd in range(rounds):
            for rung in rungs if rnd % 2 == 0 else rungs[::-1]:
                us = asyncio.run(
                    measure(rung, lean.base_url, creates=creates, concurrency=concurrency)
                )
                samples[rung].append(us)
    return {r: {"median": statistics.median(s), "samples": s} for r, s in samples.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ladder", description=__doc__)
    parser.add_argument("--creates", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rungs", default=",".join(RUNGS), help="comma-separated rungs")
    args = parser.parse_args(argv)
    rungs = [r.strip() for r in args.rungs.split(",") if r.strip()]
    unknown = sorted(set(rungs) - set(RUNGS))
    if unknown:
        parser.error(f"unknown rungs {unknown}; choose from {list(RUNGS)}")
    results = run(rungs, creates=args.creates, rounds=args.rounds, concurrency=args.concurrency)
    print(
        f"client CPU µs per create against the lean server, concurrency {args.concurrency}, "
        f"{args.creates} creates, median of {args.rounds} alternating rounds"
    )
    print(f"{'rung':<16} {'µs':>7} {'step':>7} {'vs first':>9}")
    first = previous = None
    for rung in rungs:
        us = results[rung]["median"]
        first = us if first is None else first
        step = "" if previous is None else f"{us - previous:+7.1f}"
        print(f"{rung:<16} {us:7.1f} {step:>7} {us / first:8.2f}x")
        previous = us
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
