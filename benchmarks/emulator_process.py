"""The emulator in its own process, with a control port the benchmark drives it through.

Client CPU must be measured apart from server CPU, so the emulator never shares the
benchmark's process. This module is both sides:

- ``python -m benchmarks.emulator_process --port 0 --control-port 0 --seed 1`` serves the
  same :class:`asyncbyok.emulator.Emulator` as ``python -m asyncbyok.emulator`` (same
  application, same printed ``base_url``/``management_key`` lines), plus a second, tiny
  aiohttp application on its own port (no auth, no rate limit, no faults, never measured):

  ``GET /state``
      live records, duplicate names, and the emulator's counters (requests per operation,
      responses per status, faults fired, 429s sent);
  ``POST /reset``
      :meth:`Emulator.reset` (records, counters, rate-limit buckets, fault sequence; the
      ``seed_keys`` credentials the process was started with come back);
  ``POST /reset-stats``
      zero the counters only (keep the records);
  ``POST /preload``
      ``{"count": N, "prefix": "preload", "provider": "openai"}``: store N records directly
      (:meth:`asyncbyok.emulator.Store.seed`: 100,000 in about a second, no HTTP);
  ``POST /configure``
      ``{"rate": R, "burst": B, "kind": "bucket"|"window", "retry_after": FORM,
      "state_headers": "none"|"ietf"|"x-ratelimit"}``
      (a fresh :class:`asyncbyok.emulator.RateLimit`: ``burst``, ``kind``, ``retry_after``
      and ``window`` optional, with its defaults; ``rate: null`` lifts the limit) and/or
      ``{"faults": {"create": {...FaultConfig fields...}}}`` (``null`` for none).

- :class:`EmulatorProcess` (the benchmark's side) starts that process, reads the printed
  lines, and calls the control port with ``urllib`` (synchronously, between measurements).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "EmulatorProcess", "process_cpu_seconds", "subprocess_env"]


def subprocess_env() -> dict[str, str]:
    """The environment for child processes: this checkout first on ``PYTHONPATH``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


# ---------------------------------------------------------------------------- client side


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) process *pid* has used; ``None`` off Linux."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the ")" that closes the command name: state is field 0, utime 11, stime 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class EmulatorProcess:
    """A running emulator process: ``base_url``, ``management_key``, and its control calls.

    ::

        with EmulatorProcess(seed=1) as emu:
            emu.configure(rate=200, burst=20)
            ...  # clients on emu.base_url with emu.management_key
            print(emu.state()["duplicate_names"])
    """

    def __init__(self, *, seed: int = 1, seed_keys: int = 0, start_timeout: float = 30.0) -> None:
        self.seed = seed
        self.seed_keys = seed_keys
        self.start_timeout = start_timeout
        self.base_url = ""
        self.management_key = ""
        self.control_url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: Any = None

    def start(self) -> EmulatorProcess:
        """Start the process and wait until it has printed where it listens."""
        command = [
            sys.executable,
            "-m",
            "benchmarks.emulator_process",
            "--port",
            "0",
            "--control-port",
            "0",
            "--seed",
            str(self.seed),
            "--seed-keys",
            str(self.seed_keys),
        ]
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        self._proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=subprocess_env(),
        )
        assert self._proc.stdout is not None
        from asyncbyok.emulator.printed import printed_values

        printed: dict[str, str] = {}
        wanted = {"base_url", "management_key", "control_url"}
        while not wanted <= printed.keys():
            line = self._proc.stdout.readline()
            if not line:
                status = self._proc.wait(timeout=self.start_timeout)
                raise RuntimeError(f"the emulator exited with status {status}: {self.stderr()}")
            printed.update(printed_values(line))
        self.base_url = printed["base_url"]
        self.management_key = printed["management_key"]
        self.control_url = printed["control_url"]
        return self

    def stderr(self) -> str:
        """What the emulator wrote to stderr (the last 2,000 characters)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text: str = self._stderr.read()
        return text[-2000:]

    def cpu_seconds(self) -> float | None:
        """CPU seconds (user + system) the emulator process has used; ``None`` off Linux."""
        return None if self._proc is None else process_cpu_seconds(self._proc.pid)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 seconds."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- control calls (synchronous: made between measurements, never during one) --

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 120.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.control_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # say what the control port refused, and why
            detail = exc.read().decode(errors="replace")[:500]
            raise RuntimeError(f"{method} {path}: HTTP {exc.code}: {detail}") from None

    def state(self) -> dict[str, Any]:
        """Records and counters: see :func:`_state`."""
        result: dict[str, Any] = self._call("GET", "/state")
        return result

    def reset(self) -> None:
        """Forget every record and counter; fresh rate-limit buckets and fault sequence."""
        self._call("POST", "/reset", {})

    def reset_stats(self) -> None:
        """Zero the counters, keep the records."""
        self._call("POST", "/reset-stats", {})

    def preload(self, count: int, *, prefix: str = "preload", provider: str = "openai") -> int:
        """Store *count* records directly; returns the number of live records."""
        result = self._call(
            "POST", "/preload", {"count": count, "prefix": prefix, "provider": provider}
        )
        return int(result["live"])

    def configure(self, **settings: Any) -> None:
        """``rate=`` (``None``: no limit) with ``burst=``, ``kind=``, ``retry_after=``,
        ``window=``; and/or ``faults={"create": {...}}``: see the module doc.

        ``configure(rate=200, kind="window", retry_after="none")``: 200 requests in each
        one-second window, refused with no hint. Every rate limit set starts afresh.
        """
        self._call("POST", "/configure", settings)


# ---------------------------------------------------------------------------- server side


def _state(emulator: Any) -> dict[str, Any]:
    """What ``GET /state`` answers."""
    live = emulator.store.live()
    names = Counter(r.name for r in live if r.name is not None)
    stats = emulator.stats
    return {
        "live": len(live),
        "records": len(emulator.store.records),
        "distinct_names": len(names),
        "duplicate_names": sum(1 for n in names.values() if n > 1),
        "extra_copies": sum(n - 1 for n in names.values() if n > 1),
        "unnamed": sum(1 for r in live if r.name is None),
        "requests": dict(stats.requests),
        "responses": {str(k): v for k, v in stats.responses.items()},
        "faults": {f"{op}/{kind}": n for (op, kind), n in stats.faults.items()},
        "rate_limited": stats.rate_limited,
        "unexpected_errors": stats.unexpected_errors,
    }


def _rate_limit(body: dict[str, Any]) -> Any:
    """The :class:`RateLimit` a ``/configure`` body asks for (``None``: no limit)."""
    from asyncbyok.emulator import RateLimit

    if body["rate"] is None:
        return None
    options: dict[str, Any] = {"rate": float(body["rate"])}
    if body.get("burst") is not None:
        options["burst"] = int(body["burst"])
    if body.get("window") is not None:
        options["window"] = float(body["window"])
    for name in ("kind", "retry_after", "state_headers"):
        if body.get(name) is not None:
            options[name] = str(body[name])
    return RateLimit(**options)


def _control_app(emulator: Any) -> Any:
    from aiohttp import web

    from asyncbyok.emulator import FaultConfig, Faults

    async def state(request: web.Request) -> web.Response:
        return web.json_response(_state(emulator))

    async def reset(request: web.Request) -> web.Response:
        emulator.reset()
        return web.json_response({"ok": True})

    async def reset_stats(request: web.Request) -> web.Response:
        emulator.stats.clear()
        return web.json_response({"ok": True})

    async def preload(request: web.Request) -> web.Response:
        body = await request.json()
        prefix, provider = body.get("prefix", "preload"), body.get("provider", "openai")
        store = emulator.store
        store.seed(int(body["count"]), provider=provider, prefix=prefix)
        return web.json_response({"live": len(store.live())})

    async def configure(request: web.Request) -> web.Response:
        body = await request.json()
        try:  # everything checked before anything is changed
            limit = _rate_limit(body) if "rate" in body else None
            faults = body.get("faults")
            if faults is not None:
                faults = Faults({op: FaultConfig(**config) for op, config in faults.items()})
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
        if "rate" in body:
            emulator.rate_limit = limit
        if "faults" in body:
            emulator.faults = faults
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/state", state)
    app.router.add_post("/reset", reset)
    app.router.add_post("/reset-stats", reset_stats)
    app.router.add_post("/preload", preload)
    app.router.add_post("/configure", configure)
    return app


async def _serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    from asyncbyok.emulator import Emulator
    from asyncbyok.emulator.serve import serve

    emulator = Emulator(
        host="127.0.0.1",
        port=args.port,
        seed=args.seed,
        api_version="newest",
        seed_keys=args.seed_keys,
    )
    runner = web.AppRunner(_control_app(emulator), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", args.control_port)
        await site.start()
        port = int(runner.addresses[0][1])
        print(f"control_url: http://127.0.0.1:{port}", flush=True)
        await serve(emulator)  # prints base_url and management_key, serves until SIGTERM
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.emulator_process",
        description="The emulator, plus a control port for the benchmark harness.",
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seed-keys", type=int, default=0)
    asyncio.run(_serve(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
