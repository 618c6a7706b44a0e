"""Fixtures for the apply tests: an emulator served in the test's event loop, a client on
it, and manifests written from text."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable, Mapping

import pytest

import asyncbyok
from asyncbyok.apply import Manifest, parse_manifest
from asyncbyok.emulator import Emulator

WS_A = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a000a"
WS_B = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a000b"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(seed=1) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[asyncbyok.Client]:
    async with asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as c:
        yield c


ManifestFactory = Callable[..., Manifest]


def versioned(text: str) -> str:
    """*text* (dedented) with ``version: 1`` added at the end when it has no version, so
    the line numbers the tests check stay those of the text as written."""
    text = textwrap.dedent(text)
    if "version:" in text or not text.strip() or text.lstrip()[0] in "[{-":
        return text
    return text.rstrip("\n") + "\nversion: 1\n"


@pytest.fixture
def manifest() -> ManifestFactory:
    """``manifest(yaml_text, env={...}, **options)``: a checked manifest from dedented text."""

    def make(text: str, env: Mapping[str, str] | None = None, **options: object) -> Manifest:
        return parse_manifest(versioned(text), env=env or {}, **options)  # type: ignore[arg-type]

    return make
