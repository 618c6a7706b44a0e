"""``python -m asyncbyok.emulator`` and the pieces it is made of."""

from __future__ import annotations

import argparse
import asyncio
import http.client
import io
import json
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from asyncbyok.emulator import FaultConfig, Faults, RateLimit
from asyncbyok.emulator.__main__ import add_arguments, emulator_from_args, serve


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_options_make_the_emulator() -> None:
    emu = emulator_from_args(
        parse(
            "--port", "0", "--rate", "50", "--burst", "5", "--fail-rate", "0.1",
            "--latency", "0.02", "--seed", "9", "--management-key", "m1",
            "--management-key", "m2", "--api-version", "excerpt",
        )
    )  # fmt: skip
    assert emu.management_keys == ("m1", "m2")
    assert emu.rate_limit == RateLimit(rate=50.0, burst=5)
    assert emu.faults == Faults({"*": FaultConfig(latency=0.02, error_rate=0.1)})
    assert (emu.seed, emu.api_version) == (9, "excerpt")


def test_no_fault_options_means_no_faults() -> None:
    emu = emulator_from_args(parse())
    assert emu.faults == Faults()
    assert emu.rate_limit is None


async def test_serve_prints_where_it_is_and_stops_on_request() -> None:
    out = io.StringIO()
    stop = asyncio.Event()
    emu = emulator_from_args(parse("--port", "0", "--management-key", "mk"))
    task = asyncio.create_task(serve(emu, out=out, stop=stop))
    # serve() has no "ready" hook: what it prints is the signal, as for a user.
    while "default_workspace_id" not in out.getvalue():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert lines["base_url"] == emu.base_url
    assert lines["management_key"] == "mk"
    stop.set()
    await task


def test_command_in_a_subprocess() -> None:
    command = [sys.executable, "-m", "asyncbyok.emulator", "--port", "0", "--seed", "1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = dict(proc.stdout.readline().rstrip().split(": ", 1) for _ in range(4))
            url = urlsplit(lines["base_url"])
            assert url.path == "/api/v1"
            assert url.port
            connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
            try:
                headers = {"Authorization": f"Bearer {lines['management_key']}"}
                connection.request("GET", "/api/v1/byok", headers=headers)
                response = connection.getresponse()
                assert (response.status, json.loads(response.read())) == (
                    200,
                    {"data": [], "total_count": 0},
                )
            finally:
                connection.close()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_bad_option_values_exit_with_usage() -> None:
    from asyncbyok.emulator.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--fail-rate", "2"])
    assert exc.value.code == 2
