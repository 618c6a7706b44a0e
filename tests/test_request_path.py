"""The success path of one create reads downward: each layer calls only the ones below
it, none is entered twice, and the internals reference page lists it as it is.

A profiler hook records, for every function of the package that starts or resumes
during one create against the emulator, the module of the frame that called it. A call
from a lower layer into a higher one (a callback up) would show as an edge against the
order of the page's table.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from asyncbyok.emulator import Emulator

from .conftest import RAW, client_for

PAGE = Path(__file__).parent.parent / "docs" / "reference" / "internals.md"


def _documented_path() -> list[tuple[str, str]]:
    """(module, function) per row of the page's success-path table, top to bottom."""
    text = PAGE.read_text(encoding="utf-8")
    table = text.split("<!-- success-path: start -->")[1].split("<!-- success-path: end -->")[0]
    return re.findall(r"^\| \d+ \| `([\w.]+):([\w.]+)` \|", table, flags=re.MULTILINE)


def _module(frame: FrameType | None) -> str | None:
    name = str(frame.f_globals.get("__name__", "")) if frame is not None else ""
    if name.startswith("asyncbyok.resources._"):  # the resource's own private modules
        return "asyncbyok.resources.byok"
    if name.startswith("asyncbyok.") and not name.startswith("asyncbyok.emulator"):
        return name
    return None  # outside the client: the event loop, aiohttp, the emulator serving


async def _trace_create(emulator: Emulator) -> tuple[set[tuple[str, str]], list[str]]:
    """The (caller, callee) module pairs of one create, and the functions it entered."""
    edges: set[tuple[str, str]] = set()
    entered: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        callee = _module(frame) if event == "call" else None
        if callee is None:
            return
        entered.append(f"{callee}:{frame.f_code.co_name}")
        caller = _module(frame.f_back)
        if caller is not None and caller != callee:
            edges.add((caller, callee))

    async with client_for(emulator) as client:
        await client.byok.create(provider="openai", key=RAW, name="warm-up")  # session open
        sys.setprofile(profile)
        try:
            await client.byok.create(provider="openai", key=RAW + "x", name="traced")
        finally:
            sys.setprofile(None)
    return edges, entered


def test_the_page_lists_seven_layers_each_module_once() -> None:
    path = _documented_path()
    modules = [module for module, _ in path]
    assert len(path) == 7
    assert len(set(modules)) == len(modules), modules


async def test_one_create_goes_down_the_documented_layers(emulator: Emulator) -> None:
    path = _documented_path()
    layers = [module for module, _ in path]
    edges, entered = await _trace_create(emulator)

    for module, function in path:  # each row is a function the create really ran
        assert f"{module}:{function.rsplit('.', 1)[-1]}" in entered, (module, function)
    # Between layers, calls go down only (a row may skip those under it: the attempt
    # calls the flow, then the transport, then the decoder).
    upward = [
        (caller, callee)
        for caller, callee in edges
        if caller in layers and callee in layers and layers.index(callee) < layers.index(caller)
    ]
    assert not upward, upward
    # The leaves the layers use call no layer back.
    leaves_calling_up = [
        (caller, callee) for caller, callee in edges if caller not in layers and callee in layers
    ]
    assert not leaves_calling_up, leaves_calling_up
    # And every layer is reached from the one above it on the page, or from one higher.
    for below in layers[1:]:
        callers = {caller for caller, callee in edges if callee == below}
        assert callers, below
        assert all(layers.index(c) < layers.index(below) for c in callers), below
