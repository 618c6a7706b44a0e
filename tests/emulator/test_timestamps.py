"""The emulator writes created_at in every RFC 3339 form real servers use; the client reads
each one back to the same instant."""

from __future__ import annotations

import re

import pytest

import asyncbyok
from asyncbyok.emulator import Emulator
from asyncbyok.emulator.replies import TIMESTAMP_STYLES, TimestampStyle

_DAY = r"\d{4}-\d\d-\d\d"
_TIME = r"\d\d:\d\d:\d\d"
FORMS: dict[str, str] = {
    "z": rf"{_DAY}T{_TIME}(\.\d{{6}})?Z",
    "utc-offset": rf"{_DAY}T{_TIME}(\.\d{{6}})?\+00:00",
    "offset": rf"{_DAY}T{_TIME}(\.\d{{6}})?-05:30",
    "lower": rf"{_DAY}t{_TIME}(\.\d{{6}})?z",
    "fraction": rf"{_DAY}T{_TIME}\.\d{{9}}Z",
}


def _form(text: str) -> str:
    (form,) = [name for name, pattern in FORMS.items() if re.fullmatch(pattern, text)]
    return form


@pytest.mark.parametrize("style", TIMESTAMP_STYLES)
async def test_the_client_reads_every_timestamp_style(style: TimestampStyle) -> None:
    emu = Emulator(timestamp_style=style, seed=1)
    async with emu, asyncbyok.Client(api_key=emu.management_key, base_url=emu.base_url) as client:
        created = [
            await client.byok.create(provider="openai", key=f"sk-proj-{n:04d}AbCdWxYz")
            for n in range(len(FORMS))
        ]
        listed = [key async for key in client.byok.list()]
        fetched = await client.byok.get(created[0].id)
    stored = {r.id: r.created_at for r in emu.store.records}
    assert sorted(k.id for k in listed) == sorted(stored)
    for key in [*created, *listed, fetched]:
        assert key.created_at == stored[key.id]  # the same instant, to the microsecond
        assert isinstance(key.created_at_raw, str)
    forms = {_form(key.created_at_raw) for key in listed}
    assert forms == (set(FORMS) if style == "mixed" else {style})


def test_the_default_style_is_the_api_example_form() -> None:
    assert Emulator().timestamp_style == "z"
    emu = Emulator(timestamp_style="lower")
    emu.timestamp_style = "offset"
    assert emu.timestamp_style == "offset"
    with pytest.raises(ValueError, match="timestamp_style"):
        Emulator(timestamp_style="unix")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timestamp_style"):
        emu.timestamp_style = "unix"  # type: ignore[assignment]
