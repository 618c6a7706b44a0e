"""Serving an :class:`~asyncbyok.emulator.Emulator` in the foreground until SIGINT or
SIGTERM: what ``python -m asyncbyok.emulator`` and ``asyncbyok emulator`` run, for programs
that build their own emulator."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import TextIO

from .printed import describe, shell_lines
from .server import Emulator

__all__ = ["serve"]


async def serve(
    emulator: Emulator,
    *,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
    json_output: bool = False,
) -> None:
    """Run *emulator*, print where it is, and serve until *stop* is set or SIGINT/SIGTERM.

    What it prints is ``shell_lines()`` of ``asyncbyok.emulator.printed``: ``export
    OPENROUTER_BASE_URL=... OPENROUTER_API_KEY=...``, then ``api_key`` and
    ``default_workspace_id`` as comments; or with *json_output*, one JSON object of
    ``base_url``, ``management_key``, ``api_key`` and ``default_workspace_id``.
    """
    out = out or sys.stdout
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    async with emulator:
        info = describe(emulator)
        if json_output:
            print(json.dumps(info, indent=2), file=out)
        else:
            for line in shell_lines(info):
                print(line, file=out)
        out.flush()
        installed = []
        for sig in signals:
            try:
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
            except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
                pass
        try:
            await stop.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
