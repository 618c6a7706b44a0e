"""Test-wide settings: the emulator fixture, and Hypothesis tuned for a shared 2-core machine."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# This machine is shared and noisy: no per-example deadline, and no health check on how
# fast inputs are generated (timing is for benchmarks, never for tests).
settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# --- the emulator on loopback, and a client pointed at it --------------------------------

from collections.abc import AsyncIterator  # noqa: E402

import pytest  # noqa: E402

import asyncbyok  # noqa: E402
from asyncbyok.emulator import Emulator  # noqa: E402

# Retry at once in tests (Retry-After is still obeyed): the tests are about behaviour.
FAST_RETRY = asyncbyok.RetryPolicy(wait_scale=0.0)
# A provider key the tests create credentials with.
RAW = "sk-proj-engine-0123456789-AbCd"


def client_for(emu: Emulator, **kwargs: object) -> asyncbyok.Client:
    """A client of *emu* that retries at once (unless *kwargs* say otherwise)."""
    kwargs.setdefault("retry", FAST_RETRY)
    return asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url, **kwargs)  # type: ignore[arg-type]


def create_requests(n: int, tag: str = "e") -> list[asyncbyok.CreateBYOKKeyRequest]:
    """*n* create requests, named ``{tag}0``, ``{tag}1``..."""
    return [
        asyncbyok.CreateBYOKKeyRequest(
            provider="openai", key=f"sk-proj-{i:06d}-{tag}AbCdEf", name=f"{tag}{i}"
        )
        for i in range(n)
    ]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    # A request still being served when the test ends (a slow-answer fault the client gave
    # up on) is cut after 0.1 s, not the default 1 s: nothing waits for its answer.
    async with Emulator(seed=1234, shutdown_timeout=0.1) as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[asyncbyok.Client]:
    async with asyncbyok.Client(
        api_key=emulator.management_key, base_url=emulator.base_url, retry=FAST_RETRY
    ) as c:
        yield c
