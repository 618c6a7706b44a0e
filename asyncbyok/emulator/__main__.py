"""``python -m asyncbyok.emulator``: serve the emulator until SIGINT or SIGTERM.

::

    $ python -m asyncbyok.emulator --port 8080 --rate 200 --burst 20 --fail-rate 0.1 --seed 1
    base_url: http://127.0.0.1:8080/api/v1
    management_key: sk-or-v1-mgmt-...
    api_key: sk-or-v1-...
    default_workspace_id: 4e1c...

``--port 0`` takes a free port; the printed ``base_url`` has the real one. The pieces are
public (:func:`add_arguments`, :func:`emulator_from_args`, :func:`serve`) so the
``asyncbyok emulator`` command reuses them instead of repeating them.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from .context import API_VERSIONS
from .faults import FaultConfig, Faults
from .ratelimit import RateLimit
from .server import Emulator

__all__ = ["add_arguments", "emulator_from_args", "main", "serve"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to *parser*."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    parser.add_argument(
        "--management-key",
        action="append",
        dest="management_keys",
        metavar="KEY",
        help="accepted management key (repeatable; one is generated if none)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accepted non-management key, answered 403 (repeatable)",
    )
    parser.add_argument("--rate", type=float, help="rate limit: requests per second per key")
    parser.add_argument("--burst", type=int, default=20, help="rate limit: burst size")
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, help="fraction answered 500/502/503"
    )
    parser.add_argument(
        "--commit-fail-rate",
        type=float,
        default=0.0,
        help="fraction that store the change, then answer 500",
    )
    parser.add_argument(
        "--drop-rate",
        type=float,
        default=0.0,
        help="fraction that store the change, then drop the connection",
    )
    parser.add_argument(
        "--reset-rate", type=float, default=0.0, help="fraction reset before the body is read"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--seed", type=int, help="seed of the fault sequence")
    parser.add_argument(
        "--api-version", choices=API_VERSIONS, default="newest", help="server age to play"
    )
    parser.add_argument("--state-file", help="JSON file keeping the state across restarts")
    parser.add_argument("--default-workspace-id", help="workspace of requests that name none")


def emulator_from_args(args: argparse.Namespace) -> Emulator:
    """An :class:`Emulator` configured from parsed :func:`add_arguments` options."""
    config = FaultConfig(
        latency=args.latency,
        error_rate=args.fail_rate,
        commit_then_error_rate=args.commit_fail_rate,
        commit_then_drop_rate=args.drop_rate,
        reset_rate=args.reset_rate,
    )
    return Emulator(
        host=args.host,
        port=args.port,
        management_keys=args.management_keys,
        api_keys=args.api_keys,
        rate_limit=RateLimit(rate=args.rate, burst=args.burst) if args.rate else None,
        faults=None if config == FaultConfig() else Faults({"*": config}),
        seed=args.seed,
        api_version=args.api_version,
        state_file=args.state_file,
        default_workspace_id=args.default_workspace_id,
    )


async def serve(
    emulator: Emulator, *, out: TextIO | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run *emulator*, print where it is, and serve until *stop* is set or SIGINT/SIGTERM."""
    out = out or sys.stdout
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    async with emulator:
        print(f"base_url: {emulator.base_url}", file=out)
        print(f"management_key: {emulator.management_key}", file=out)
        if emulator.api_keys:
            print(f"api_key: {emulator.api_key}", file=out)
        print(f"default_workspace_id: {emulator.default_workspace_id}", file=out)
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
    parser = argparse.ArgumentParser(
        prog="python -m asyncbyok.emulator", description="Serve a local BYOK API emulator."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        emulator = emulator_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    asyncio.run(serve(emulator))
    return 0


if __name__ == "__main__":
    sys.exit(main())
