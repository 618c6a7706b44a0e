"""``python -m asyncbyok.emulator``: serve the emulator until SIGINT or SIGTERM.

::

    $ python -m asyncbyok.emulator --port 8080 --rate 200 --burst 20 --fail-rate 0.1 --seed 1
    base_url: http://127.0.0.1:8080/api/v1
    management_key: sk-or-v1-mgmt-...
    api_key: sk-or-v1-...
    default_workspace_id: 4e1c...

It is the ``asyncbyok emulator`` command (``asyncbyok.cli.emulator``, which needs the
``cli`` extra for click), with the same options: ``--port 0`` takes a free port (the
printed ``base_url`` has the real one), ``--rate``/``--burst``/``--limit-kind``/
``--retry-after`` set a rate limit, ``--fail-rate`` and friends inject faults.
:func:`serve` is the part that runs an :class:`~asyncbyok.emulator.Emulator` in the
foreground, for programs that build their own.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from .server import Emulator

__all__ = ["main", "serve"]


def _describe(emulator: Emulator) -> dict[str, str]:
    info = {"base_url": emulator.base_url, "management_key": emulator.management_key}
    if emulator.api_keys:
        info["api_key"] = emulator.api_key
    info["default_workspace_id"] = emulator.default_workspace_id
    return info


async def serve(
    emulator: Emulator,
    *,
    out: TextIO | None = None,
    stop: asyncio.Event | None = None,
    json_output: bool = False,
) -> None:
    """Run *emulator*, print where it is, and serve until *stop* is set or SIGINT/SIGTERM.

    What it prints is ``name: value`` lines (``base_url``, ``management_key``, ``api_key``,
    ``default_workspace_id``), or one JSON object of them with *json_output*.
    """
    out = out or sys.stdout
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    async with emulator:
        info = _describe(emulator)
        if json_output:
            print(json.dumps(info, indent=2), file=out)
        else:
            for name, value in info.items():
                print(f"{name}: {value}", file=out)
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


def main(argv: Sequence[str] | None = None) -> int:
    """The command line entry point; returns the exit status."""
    try:
        from ..cli.app import invoke
        from ..cli.emulator import emulator_command
    except ImportError as exc:  # the core install has no click
        print(
            f"python -m asyncbyok.emulator needs the cli extra ({exc.name} is missing): "
            "pip install 'asyncbyok[cli]'",
            file=sys.stderr,
        )
        return 2
    return invoke(emulator_command, argv, prog_name="python -m asyncbyok.emulator")


if __name__ == "__main__":
    sys.exit(main())
