"""``python -m asyncbyok.emulator`` / ``asyncbyok emulator``: options checked by click, one-line
errors, the rate-limit modes, and :func:`serve`."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from asyncbyok.cli import emulator as cli_emulator
from asyncbyok.cli.app import invoke
from asyncbyok.cli.emulator import emulator_command, emulator_from_options
from asyncbyok.emulator import FaultConfig, Faults, RateLimit
from asyncbyok.emulator import __main__ as emulator_main
from asyncbyok.emulator.context import API_VERSIONS
from asyncbyok.emulator.printed import shell_lines
from asyncbyok.emulator.ratelimit import RATE_LIMIT_KINDS, RETRY_AFTER_FORMS, STATE_HEADER_FORMS
from asyncbyok.emulator.replies import TIMESTAMP_STYLES
from asyncbyok.emulator.serve import serve


def run(*args: str) -> tuple[int, str, str]:
    """``python -m asyncbyok.emulator ARGS`` in this process: (status, stdout, stderr)."""
    with CliRunner().isolation() as (stdout, stderr, _):
        code = emulator_main.main(list(args))
        return code, stdout.getvalue().decode(), stderr.getvalue().decode()


def test_the_choices_are_the_emulators_own() -> None:
    # Written out in the CLI so that --help does not import the emulator; kept equal here.
    assert set(cli_emulator.API_VERSIONS) == set(API_VERSIONS)
    assert cli_emulator.RATE_LIMIT_KINDS == RATE_LIMIT_KINDS
    assert cli_emulator.RETRY_AFTER_FORMS == RETRY_AFTER_FORMS
    assert cli_emulator.STATE_HEADER_FORMS == STATE_HEADER_FORMS
    assert cli_emulator.TIMESTAMP_STYLES == TIMESTAMP_STYLES


def test_options_make_the_emulator() -> None:
    emu = emulator_from_options(
        port=0,
        rate=50,
        burst=5,
        limit_kind="window",
        retry_after="both",
        limit_headers="ietf",
        fail_rate=0.1,
        latency=0.02,
        seed=9,
        management_keys=("m1", "m2"),
        api_version="excerpt",
        timestamp_style="mixed",
        seed_keys=120,
    )
    assert emu.timestamp_style == "mixed"
    assert len(emu.store.live()) == 120
    assert emu.management_keys == ("m1", "m2")
    assert emu.rate_limit == RateLimit(
        rate=50.0, burst=5, kind="window", retry_after="both", state_headers="ietf"
    )
    assert emu.faults == Faults({"*": FaultConfig(latency=0.02, error_rate=0.1)})
    assert (emu.seed, emu.api_version) == (9, "excerpt")


def test_no_fault_options_means_no_faults() -> None:
    emu = emulator_from_options()
    assert emu.faults == Faults()
    assert emu.rate_limit is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "Invalid value for '--port': 99999 is not in the range 0<=x<=65535."),
        (["--port", "-1"], "Invalid value for '--port': -1 is not in the range 0<=x<=65535."),
        (["--rate", "0"], "Invalid value for '--rate': 0.0 is not in the range x>0."),
        (["--rate", "-5"], "Invalid value for '--rate': -5.0 is not in the range x>0."),
        (["--fail-rate", "2"], "Invalid value for '--fail-rate': 2.0 is not in the range 0<=x<=1."),
        (["--burst", "0"], "Invalid value for '--burst': 0 is not in the range x>=1."),
        (["--limit-kind", "window"], "--limit-kind needs --rate"),
        (["--retry-after", "ms"], "--retry-after needs --rate"),
        (["--rate", "5", "--limit-kind", "leaky"],
         "Invalid value for '--limit-kind': 'leaky' is not one of 'bucket', 'window'."),
        (["--fail-rate", "0.6", "--drop-rate", "0.6"],
         "the exclusive fault rates add up to 1.200, more than 1"),
    ],
)  # fmt: skip
def test_bad_option_values_exit_2_with_one_error_line(args: list[str], message: str) -> None:
    code, stdout, stderr = run(*args)
    assert code == 2
    assert stdout == ""
    assert stderr.splitlines()[-1] == f"Error: {message}"
    assert "Traceback" not in stderr


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_port_in_use_is_one_line_and_exit_2(busy_port: int) -> None:
    code, stdout, stderr = run("--port", str(busy_port))
    assert code == 2
    assert stdout == ""
    assert stderr == (
        f"Error: cannot serve on 127.0.0.1:{busy_port}: address already in use "
        "(choose another --port, or 0 for any free one)\n"
    )
    with CliRunner().isolation() as (out, _, _):
        assert invoke(emulator_command, ["--port", str(busy_port), "--json"]) == 2
        error = json.loads(out.getvalue())["error"]
    assert error["exit_code"] == 2
    assert error["message"].startswith(f"cannot serve on 127.0.0.1:{busy_port}: address")


async def test_serve_prints_where_it_is_and_stops_on_request() -> None:
    out = io.StringIO()
    stop = asyncio.Event()
    emu = emulator_from_options(port=0, management_keys=("mk",))
    task = asyncio.create_task(serve(emu, out=out, stop=stop))
    # serve() has no "ready" hook: what it prints is the signal, as for a user.
    while "default_workspace_id" not in out.getvalue():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert out.getvalue().splitlines() == [
        f"export OPENROUTER_BASE_URL={emu.base_url} OPENROUTER_API_KEY=mk",
        f"# api_key (not a management key: answered 403): {emu.api_key}",
        f"# default_workspace_id: {emu.default_workspace_id}",
    ]
    stop.set()
    await task


def test_what_serve_prints_can_be_pasted_into_a_shell() -> None:
    """Was: ``base_url: ...`` lines, to be copied by hand into two exports."""
    info = {
        "base_url": "http://127.0.0.1:8080/api/v1",
        "management_key": "a key; rm -rf ~",  # a --management-key of any shape
        "default_workspace_id": "550e8400-e29b-41d4-a716-446655440000",
    }
    script = "\n".join(
        [
            *shell_lines(info),
            'printf "%s|%s" "$OPENROUTER_BASE_URL" "$OPENROUTER_API_KEY"',
        ]
    )
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "http://127.0.0.1:8080/api/v1|a key; rm -rf ~"


async def test_serve_prints_one_json_document_with_json_output() -> None:
    out = io.StringIO()
    stop = asyncio.Event()
    emu = emulator_from_options(port=0, management_keys=("mk",))
    task = asyncio.create_task(serve(emu, out=out, stop=stop, json_output=True))
    while not out.getvalue().rstrip().endswith("}"):  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    info = json.loads(out.getvalue())
    assert info["base_url"] == emu.base_url
    assert set(info) == {"base_url", "management_key", "api_key", "default_workspace_id"}
    stop.set()
    await task


def test_python_m_serves_a_window_limit_with_retry_after_ms_until_sigterm() -> None:
    command = [
        sys.executable, "-m", "asyncbyok.emulator", "--port", "0", "--seed", "1",
        "--rate", "1", "--limit-kind", "window", "--retry-after", "ms",
    ]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            words = proc.stdout.readline().split()
            assert words[0] == "export"
            exported = dict(word.split("=", 1) for word in words[1:])
            url = urlsplit(exported["OPENROUTER_BASE_URL"])
            assert url.path == "/api/v1"
            assert url.port
            connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
            headers = {"Authorization": f"Bearer {exported['OPENROUTER_API_KEY']}"}
            try:
                connection.request("GET", "/api/v1/byok", headers=headers)
                response = connection.getresponse()
                assert (response.status, json.loads(response.read())) == (
                    200,
                    {"data": [], "total_count": 0},
                )
                # One request a one-second window: the next is refused, with only the
                # millisecond header (never a whole-second Retry-After).
                connection.request("GET", "/api/v1/byok", headers=headers)
                refused = connection.getresponse()
                refused.read()
                assert refused.status == 429
                assert refused.getheader("Retry-After") is None
                assert 0 < int(refused.getheader("retry-after-ms") or "0") <= 1000
            finally:
                connection.close()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com"])
def test_a_host_beyond_loopback_needs_allow_remote(host: str) -> None:
    """Was: accepted silently, serving the keys it prints to the whole network."""
    code, stdout, stderr = run("--host", host, "--port", "0")
    assert code == 2
    assert stdout == ""
    assert stderr.splitlines()[-1] == (
        f"Error: --host {host} is beyond loopback: anyone who can reach it can use the "
        "emulator, over plain http; pass --allow-remote to serve there anyway"
    )


def test_allow_remote_serves_with_a_warning() -> None:
    # 192.0.2.1 (TEST-NET-1) is nobody's address: binding fails right after the warning,
    # so nothing is ever served beyond loopback here.
    code, _stdout, stderr = run("--host", "192.0.2.1", "--port", "0", "--allow-remote")
    assert stderr.splitlines()[0] == (
        "Warning: --host 192.0.2.1 is beyond loopback: anyone who can reach it can use the "
        "emulator, over plain http."
    )
    assert stderr.splitlines()[-1].startswith("Error: cannot serve on 192.0.2.1:0: ")
    assert code == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_nothing(host: str) -> None:
    cli_emulator._check_host(host, allow_remote=False)


def test_log_requests_writes_a_line_per_request_to_stderr() -> None:
    command = [sys.executable, "-m", "asyncbyok.emulator", "--port", "0", "--log-requests"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stderr is not None
            words = proc.stdout.readline().split()
            exported = dict(word.split("=", 1) for word in words[1:])
            url = urlsplit(exported["OPENROUTER_BASE_URL"])
            connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
            key = exported["OPENROUTER_API_KEY"]
            try:
                connection.request(
                    "GET", "/api/v1/byok", headers={"Authorization": f"Bearer {key}"}
                )
                connection.getresponse().read()
            finally:
                connection.close()
            line = proc.stderr.readline()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert " GET /api/v1/byok -> 200 in " in line
    assert key not in line
