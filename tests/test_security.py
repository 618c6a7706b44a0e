"""Secrets: the management key and raw provider keys appear in no log, repr or error."""

from __future__ import annotations

import logging
import traceback

import pytest

import asyncbyok
from asyncbyok import Client, RetryPolicy, Timeout
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

MANAGEMENT_KEY = "sk-or-v1-mgmt-CANARY-0a1b2c3d4e5f"
RAW_KEY = "sk-proj-RAWCANARY-9f8e7d6c5b4a"
ROTATED_KEY = "sk-proj-ROTATEDCANARY-1234abcd"
SECRETS = (MANAGEMENT_KEY, RAW_KEY, ROTATED_KEY, "CANARY")


def _texts(obj: object) -> list[str]:
    texts = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        texts.append("".join(traceback.format_exception(obj)))
        texts.extend(repr(v) for v in vars(obj).values())
    return texts


async def test_canary_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp's, asyncio's
    seen: list[object] = []

    async def attempt(coro: object) -> None:
        try:
            seen.append(await coro)  # type: ignore[misc]
        except Exception as exc:
            seen.append(exc)

    async with Emulator(seed=5, management_keys=[MANAGEMENT_KEY]) as emu:
        async with Client(
            api_key=MANAGEMENT_KEY,
            base_url=emu.base_url,
            retry=RetryPolicy(max_retries=2, wait_scale=0),
            timeout=Timeout(0.3),
            on_retry=seen.append,
        ) as c:
            seen.append(c)
            key = await c.byok.create(provider="openai", key=RAW_KEY, name="canary")
            seen.append(key)
            await attempt(c.byok.create(provider="openai", key=RAW_KEY, name="x" * 300))
            await attempt(c.byok.create(provider="nope", key=RAW_KEY))  # 400 from the server
            await attempt(c.byok.get("00000000-0000-0000-0000-000000000000"))  # 404
            seen.append(asyncbyok.CreateBYOKKeyRequest(provider="openai", key=RAW_KEY))
            seen.append(asyncbyok.UpdateBYOKKeyRequest(key=ROTATED_KEY))
            await attempt(c.byok.update(key.id, key=ROTATED_KEY))
            await attempt(c.byok.with_raw_response.get(key.id))
            for faults in (
                Faults({"create": FaultConfig(commit_then_error_rate=1.0)}),
                Faults({"create": FaultConfig(commit_then_drop_rate=1.0)}),
                Faults({"create": FaultConfig(reset_rate=1.0)}),
                Faults({"create": FaultConfig(slow_rate=1.0, slow_seconds=1.0)}),
                Faults({"update": FaultConfig(conflict_rate=1.0)}),
                Faults.everywhere(error_rate=1.0),
            ):
                emu.faults = faults
                await attempt(c.byok.create(provider="openai", key=RAW_KEY, name="again"))
                await attempt(c.byok.update(key.id, key=ROTATED_KEY))
            emu.faults = None
            emu.rate_limit = RateLimit(rate=0.001, burst=1)
            await attempt(c.byok.list())
            await attempt(c.byok.list())  # 429, Retry-After past the cap
        async with Client(api_key=emu.api_key, base_url=emu.base_url) as other:
            await attempt(other.byok.list())  # 403
    fast = RetryPolicy(wait_scale=0)  # the backoff waits are not what this test is about
    async with Client(
        api_key=MANAGEMENT_KEY, base_url="http://127.0.0.1:9/api/v1", retry=fast
    ) as dead:
        await attempt(dead.byok.create(provider="openai", key=RAW_KEY))  # refused
    await attempt(_insecure())

    kinds = {type(o).__name__ for o in seen}
    for expected in (
        "ValidationError",
        "BadRequestError",
        "NotFoundError",
        "ConflictError",
        "InternalServerError",
        "RateLimitError",
        "PermissionDeniedError",
        "APIConnectionError",
        "APITimeoutError",
        "RetryEvent",
        "InsecureURLError",
    ):
        assert expected in kinds, expected
    haystack = [r.getMessage() for r in caplog.records] + [t for o in seen for t in _texts(o)]
    assert any("retrying" in h for h in haystack)  # DEBUG/INFO logging did capture our lines
    for secret in SECRETS:
        leaks = [h for h in haystack if secret in h]
        assert not leaks, f"{secret!r} leaked: {leaks[0][:300]}"


async def _insecure() -> None:
    Client(api_key=MANAGEMENT_KEY, base_url="http://example.com/api/v1")
