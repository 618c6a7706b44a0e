"""A server that does almost nothing per request, for measuring what a client costs.

Against the emulator (about 230 µs of server CPU a request) a client's own cost hides
behind the server's. This server answers every request with the same prepared bytes,
straight from an ``asyncio.Protocol``, HTTP/1.1 keep-alive, no framework: ``POST`` gets a
201 with a credential in ``{"data": ...}``, anything else a 200 with an empty page. It
checks nothing (no auth, no body): it exists only to be fast.

``python -m benchmarks.lean_server --port 0`` prints ``base_url: http://127.0.0.1:PORT/api/v1``
and serves until SIGTERM; :class:`LeanServerProcess` runs it in another process for the
benchmarks, so its CPU is never counted as the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
from types import TracebackType

from .emulator_process import ROOT, process_cpu_seconds, subprocess_env

__all__ = ["LeanServerProcess"]

_KEY = {
    "id": "c431f831-9778-4b51-837c-6799975b4416",
    "provider": "openai",
    "label": "sk-...5678",
    "created_at": "2026-11-28T08:43:14.819085Z",
    "workspace_id": "e12a8eab-cc79-4530-8a7f-090f7534f9b8",
    "name": "x",
    "disabled": False,
    "is_fallback": False,
    "allowed_models": None,
    "allowed_user_ids": None,
    "allowed_api_key_hashes": None,
    "sort_order": 0,
    "declared_region": None,
    "declared_zdr": None,
    "is_byok_only": False,
    "is_required": False,
}


def _response(status: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-Id: req_lean\r\n\r\n"
    )
    return head.encode() + body


_CREATED = _response("201 Created", json.dumps({"data": _KEY}).encode())
_PAGE = _response("200 OK", b'{"data":[],"total_count":0}')


class _Lean(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            marker = head.lower().find(b"content-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker)
                value = head[marker + 15 : line_end if line_end >= 0 else len(head)]
                length = int(value.strip() or 0)
            total = end + 4 + length
            if len(buffer) < total:
                break
            assert self._transport is not None
            self._transport.write(_CREATED if head.startswith(b"POST") else _PAGE)
            buffer = buffer[total:]
        self._buffer = buffer


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Lean, "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    print(f"base_url: http://127.0.0.1:{bound}/api/v1", flush=True)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with server:
        await stop


class LeanServerProcess:
    """The lean server in another process: ``with LeanServerProcess() as lean: lean.base_url``."""

    def __init__(self) -> None:
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> LeanServerProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.lean_server", "--port", "0"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("base_url: "):
            raise RuntimeError(f"the lean server did not start: {line!r}")
        self.base_url = line.strip().partition(": ")[2]
        return self

    management_key = "sk-lean"  # never checked

    def reset(self) -> None:
        """Nothing to forget: the lean server keeps no state."""

    def cpu_seconds(self) -> float | None:
        """CPU seconds (user + system) the server process has used; ``None`` off Linux."""
        return None if self._proc is None else process_cpu_seconds(self._proc.pid)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lean_server")
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(_serve(parser.parse_args(argv).port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
