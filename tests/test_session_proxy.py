"""Client(proxy=...) and Client(trust_env=True) through a real forward proxy: tinyproxy
(tests/proxies.py) on loopback, in front of the emulator.

The proxy demands a user and password; its log shows each request it forwarded and the
emulator's counters that it arrived. The password is a canary: it never shows in a
``repr``, a log record or an error, whatever goes wrong.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trustme

from asyncbyok import (
    APIConnectionError,
    APIStatusError,
    BadRequestError,
    Client,
    RetryPolicy,
    SyncClient,
)
from asyncbyok.emulator import Emulator

from .canary import exception_leaks
from .proxies import Tinyproxy, free_port

USER = "alice"
PASSWORD = "pr0xy-CANARY-s3cret"
WRONG = "wr0ng-CANARY-guess"
CANARIES = (PASSWORD, WRONG, "CANARY")
ONCE = RetryPolicy(max_retries=0)  # a failure shows at once: retries are not the subject
# tinyproxy closes its client's connection after each answer, without saying so: a request
# sent on it right after finds it closed (aiohttp's ServerDisconnectedError) before the
# proxy reads a byte. aiohttp's own silent resend is off (asyncbyok._session): the retry
# policy resends, at once here. The proxy's log shows each request once either way.
RESEND = RetryPolicy(wait_scale=0)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tinyproxy]:
    with Tinyproxy(tmp_path_factory.mktemp("tinyproxy"), auth=(USER, PASSWORD)) as running:
        yield running


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=13).run_in_thread() as emulator:
        yield emulator


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variables from the machine: each test sets those it means."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp's, asyncio's
    return caplog


def client_of(emu: Emulator, **options: Any) -> Client:
    options.setdefault("retry", RESEND)
    return Client(api_key=emu.management_key, base_url=emu.base_url, **options)


def new_lines(proxy: Tinyproxy, before: int) -> list[str]:
    return proxy.requests()[before:]


def assert_no_canary(logs: pytest.LogCaptureFixture, *things: object) -> None:
    """No canary in the log records (messages and tracebacks) nor in *things*: their
    ``repr``, and for exceptions every text a reporter records (tests/canary.py)."""
    texts = [r.getMessage() for r in logs.records] + [logs.text]
    texts += [repr(t) for t in things]
    for thing in things:
        if isinstance(thing, BaseException):
            assert exception_leaks(thing, CANARIES) == []
    assert [t for t in texts if any(c in t for c in CANARIES)] == []


async def test_every_call_goes_through_the_proxy(
    proxy: Tinyproxy, emu: Emulator, logs: pytest.LogCaptureFixture
) -> None:
    before, created = len(proxy.requests()), emu.stats.requests["create"]
    async with client_of(emu, proxy=proxy.url_with(USER, PASSWORD)) as client:
        key = await client.byok.create(provider="openai", key="sk-proj-0000AbCd", name="p")
        await client.byok.get(key.id)
        await client.byok.list()
        await client.byok.delete(key.id)
        assert_no_canary(logs, client, client.with_options(timeout=5))
    api = emu.base_url
    assert new_lines(proxy, before) == [
        f"POST {api}/byok",
        f"GET {api}/byok/{key.id}",
        f"GET {api}/byok?offset=0&limit=100",
        f"DELETE {api}/byok/{key.id}",
    ]
    assert emu.stats.requests["create"] == created + 1  # the emulator got it, by the proxy


async def test_trust_env_sends_through_http_proxy(
    proxy: Tinyproxy, emu: Emulator, env: pytest.MonkeyPatch, logs: pytest.LogCaptureFixture
) -> None:
    env.setenv("HTTP_PROXY", proxy.url_with(USER, PASSWORD))
    before = len(proxy.requests())
    async with client_of(emu, trust_env=True) as client:
        await client.byok.list()
        assert_no_canary(logs, client)
    assert new_lines(proxy, before) == [f"GET {emu.base_url}/byok?offset=0&limit=100"]


async def test_no_proxy_sends_its_hosts_direct(
    proxy: Tinyproxy, emu: Emulator, env: pytest.MonkeyPatch
) -> None:
    env.setenv("HTTP_PROXY", proxy.url_with(USER, PASSWORD))
    env.setenv("NO_PROXY", "localhost,127.0.0.1")
    before, listed = len(proxy.requests()), emu.stats.requests["list"]
    async with client_of(emu, trust_env=True) as client:
        await client.byok.list()
    assert new_lines(proxy, before) == []
    assert emu.stats.requests["list"] == listed + 1  # it went straight to the emulator


def test_a_sync_client_goes_through_the_proxy(proxy: Tinyproxy, emu: Emulator) -> None:
    before = len(proxy.requests())
    with SyncClient(
        api_key=emu.management_key, base_url=emu.base_url, proxy=proxy.url_with(USER, PASSWORD)
    ) as client:
        client.byok.list().first_page()
        assert PASSWORD not in repr(client)
    assert new_lines(proxy, before) == [f"GET {emu.base_url}/byok?offset=0&limit=100"]


async def test_a_dead_proxy_is_a_clear_connection_error(
    emu: Emulator, logs: pytest.LogCaptureFixture
) -> None:
    dead = f"http://{USER}:{PASSWORD}@127.0.0.1:{free_port()}"
    async with client_of(emu, proxy=dead, retry=ONCE) as client:
        with pytest.raises(APIConnectionError, match="Cannot connect to the proxy") as caught:
            await client.byok.list()
    assert caught.value.request_sent is False  # never reached the server: safe to resend
    assert_no_canary(logs, caught.value)


async def test_wrong_proxy_credentials_leak_nowhere(
    proxy: Tinyproxy, emu: Emulator, logs: pytest.LogCaptureFixture
) -> None:
    # tinyproxy refuses a plain-http request with a 401 page of its own: a status error.
    async with client_of(emu, proxy=proxy.url_with(USER, WRONG), retry=ONCE) as client:
        with pytest.raises(APIStatusError) as caught:
            await client.byok.list()
    assert caught.value.status_code in (401, 407)
    assert_no_canary(logs, caught.value)


# -- https through the proxy: a CONNECT tunnel, TLS from the client to the server ----------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_emu(ca: trustme.CA) -> AsyncIterator[Emulator]:
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(served)
    async with Emulator(seed=17, ssl_context=served) as emulator:
        yield emulator
        # A tunnel's far end closes when tinyproxy passes the client's close on. An HTTPS
        # server stopped with a connection still open waits for the peer's TLS goodbye,
        # past the end of the test's loop, and leaves the socket to the garbage collector.
        deadline = time.monotonic() + 10
        while emulator.connections and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        assert emulator.connections == 0, "the tunnel through tinyproxy was not closed"


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_https_goes_through_the_proxy_in_a_tunnel(
    proxy: Tinyproxy, https_emu: Emulator, ca: trustme.CA
) -> None:
    before = len(proxy.requests())
    url = proxy.url_with(USER, PASSWORD)
    async with client_of(https_emu, proxy=url, ssl=trusting(ca), retry=ONCE) as client:
        for _ in range(3):  # one tunnel, kept open between them (no resend needed)
            await client.byok.list()
    assert new_lines(proxy, before) == [f"CONNECT 127.0.0.1:{https_emu.port}"]
    assert https_emu.stats.requests["list"] == 3


async def test_a_tunnel_refused_for_wrong_credentials_leaks_nothing(
    proxy: Tinyproxy, https_emu: Emulator, ca: trustme.CA, logs: pytest.LogCaptureFixture
) -> None:
    # aiohttp raises ClientHttpProxyError, whose request_info holds the proxy's URL (with
    # its password) and the Proxy-Authorization header: the chained cause is scrubbed.
    url = proxy.url_with(USER, WRONG)
    async with client_of(https_emu, proxy=url, ssl=trusting(ca), retry=ONCE) as client:
        with pytest.raises(APIConnectionError, match="ClientHttpProxyError") as caught:
            await client.byok.list()
    assert caught.value.__cause__ is not None
    assert_no_canary(logs, caught.value)


# -- a proxy that repeats the credentials it was sent --------------------------------------


def _echo_answer(head: str) -> str:
    """The answer to a request whose head is *head*, quoting its Proxy-Authorization,
    decoded too: in a 400 error's message and a header, or (for a path with
    ``status-line``) in a broken status line."""
    line, *fields = head.split("\r\n")
    sent = dict(f.split(": ", 1) for f in fields if ": " in f).get("Proxy-Authorization", "")
    plain = base64.b64decode(sent.partition(" ")[2]).decode()
    echo = f"{sent} {plain}"
    if "status-line" in line:
        return f"HTTP/1.1 4x0 {echo}\x01\r\n\r\n"
    body = f'{{"error": {{"code": 400, "message": "{echo}"}}}}'
    return (
        f"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Echo: {echo}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
    )


class EchoProxy:
    """A proxy on loopback that answers every request itself, repeating its credentials
    (:func:`_echo_answer`). Leaving it waits for each exchange to end, its socket closed."""

    def __init__(self) -> None:
        self.exchanges: list[asyncio.Task[None]] = []
        self.port = 0

    async def __aenter__(self) -> EchoProxy:
        self._server = await asyncio.start_server(self._exchange, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.gather(*self.exchanges, return_exceptions=True)
        self._server.close()
        await self._server.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.exchanges.append(task)
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            writer.write(_echo_answer(head).encode())
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@pytest.mark.parametrize("where", ["error", "status-line"])
async def test_credentials_a_proxy_repeats_are_redacted(
    where: str, logs: pytest.LogCaptureFixture
) -> None:
    base = f"http://127.0.0.1:9/{where}/api/v1"  # never reached: the proxy answers
    async with EchoProxy() as echo:
        url = f"http://{USER}:{PASSWORD}@127.0.0.1:{echo.port}"
        async with Client(api_key="k", base_url=base, proxy=url, retry=ONCE) as client:
            with pytest.raises((BadRequestError, APIConnectionError)) as caught:
                await client.byok.list()
    error = caught.value
    if isinstance(error, BadRequestError):
        assert error.message == "Basic <redacted> <redacted>"
        assert error.headers["X-Echo"] == "Basic <redacted> <redacted>"
    else:
        assert "<redacted>" in str(error)
    assert_no_canary(logs, error)
