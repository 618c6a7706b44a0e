"""How the client's sessions are made (asyncbyok._session): Client's session arguments
checked together, a proxy read from the environment, and ``session_factory`` called once
per event loop, against the emulator on loopback.

The proxies themselves are tested through a real one (test_session_proxy.py), TLS against
the emulator serving HTTPS (test_session_tls.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from asyncbyok import Client, InsecureURLError, SyncClient, ValidationError
from asyncbyok._session import parse_proxy, proxy_from_environment
from asyncbyok.emulator import Emulator

from .canary import exception_leaks

PASSWORD = "pr0xy-CANARY-pw"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=11).run_in_thread() as emulator:
        yield emulator


def client_of(emu: Emulator, **options: Any) -> Client:
    return Client(api_key=emu.management_key, base_url=emu.base_url, **options)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variables from the machine: each test sets those it means."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


# -- Client's arguments, checked before anything is sent ----------------------------------


def _paths(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return exc.value.paths


async def test_what_goes_with_the_clients_own_session_is_refused_with_session() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValidationError) as refused:
            Client(
                api_key="k",
                session=session,
                session_factory=aiohttp.ClientSession,
                proxy="http://127.0.0.1:3128",
                trust_env=True,
                ssl=ssl.create_default_context(),
            )
    names = ["session_factory", "proxy", "trust_env", "ssl"]
    assert _paths(refused) == names
    assert "not with session=" in str(refused.value)


def test_proxy_and_trust_env_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="trust_env") as refused:
        Client(api_key="k", proxy="http://127.0.0.1:3128", trust_env=True)
    assert _paths(refused) == ["proxy"]


@pytest.mark.parametrize(
    ("proxy", "says"),
    [
        ("socks5://u:" + PASSWORD + "@127.0.0.1:1080", "http:// proxy URL, not socks5://"),
        ("https://127.0.0.1:3128", "http:// proxy URL, not https://"),
        ("http://u:" + PASSWORD + "@:3128", "must name a host"),
        ("http://u:" + PASSWORD + "@127.0.0.1:99999", "not a valid URL"),
        ("http://u:" + PASSWORD + "@127.0.0.1:3128/path", "no path"),
        (3128, "must be a URL string, not int"),
        (f"u:{PASSWORD}@127.0.0.1:3128", "must be an http:// proxy URL"),  # no scheme
    ],
)
def test_a_bad_proxy_is_refused_without_quoting_its_password(proxy: object, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Client(api_key="k", proxy=proxy)  # type: ignore[arg-type]
    assert _paths(refused) == ["proxy"]
    assert says in str(refused.value)
    # The URL is an argument, and like any argument a local of the calls it went through
    # (as a raw provider key is: tests/canary.py); the error itself never shows it.
    assert exception_leaks(refused.value, [PASSWORD], frame_locals=False) == []


def test_ssl_false_needs_allow_insecure_tls_and_allow_insecure_tls_needs_it() -> None:
    with pytest.raises(ValidationError, match="allow_insecure_tls=True") as refused:
        Client(api_key="k", ssl=False)
    assert _paths(refused) == ["ssl"]
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValidationError, match="does not verify"):
        Client(api_key="k", ssl=unverified)
    with pytest.raises(ValidationError) as refused:
        Client(api_key="k", allow_insecure_tls=True)
    assert _paths(refused) == ["allow_insecure_tls"]
    with pytest.raises(ValidationError, match="server's context"):
        Client(api_key="k", ssl=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    with pytest.raises(ValidationError, match="not str"):
        Client(api_key="k", ssl="/etc/ssl/certs/ca.pem")  # type: ignore[arg-type]
    Client(api_key="k", ssl=False, allow_insecure_tls=True)  # the explicit opt-in
    Client(api_key="k", ssl=unverified, allow_insecure_tls=True)


def test_session_factory_must_be_callable() -> None:
    with pytest.raises(ValidationError) as refused:
        Client(api_key="k", session_factory="aiohttp")  # type: ignore[arg-type]
    assert _paths(refused) == ["session_factory"]


def test_plain_http_through_a_remote_proxy_needs_allow_insecure_http() -> None:
    # The base URL is loopback, but the request (the management key in it) would travel
    # in clear text to the proxy: that is the host that counts.
    remote = "http://proxy.example:3128"
    with pytest.raises(InsecureURLError, match=r"proxy\.example"):
        Client(api_key="k", base_url="http://127.0.0.1:8080/api/v1", proxy=remote)
    Client(
        api_key="k", base_url="http://127.0.0.1:8080/api/v1", proxy=remote, allow_insecure_http=True
    )
    Client(api_key="k", base_url="https://openrouter.ai/api/v1", proxy=remote)


def test_the_repr_shows_the_proxy_without_its_credentials() -> None:
    client = Client(api_key="k", proxy=f"http://alice:{PASSWORD}@proxy.example:3128")
    assert repr(client) == (
        "Client(base_url='https://openrouter.ai/api/v1', api_key='<redacted>', "
        "proxy='http://<redacted>@proxy.example:3128')"
    )
    assert repr(client.with_options(timeout=5)) == repr(client)
    assert PASSWORD not in repr(client._shared.transport.options)


def test_a_proxys_secrets_are_each_form_its_credentials_take() -> None:
    proxy = parse_proxy("http://al%40ice:p%3Ass@proxy.example:3128")
    # Percent-encoded and plain; the pair; the Basic token aiohttp sends.
    assert {"p%3Ass", "p:ss", "al@ice:p:ss", "YWxAaWNlOnA6c3M="} <= set(proxy.secrets)
    token_only = parse_proxy("http://tok3n@proxy.example:3128")
    assert "tok3n" in token_only.secrets
    assert parse_proxy("http://proxy.example:3128").secrets == ()


# -- trust_env: HTTP_PROXY, HTTPS_PROXY, NO_PROXY -------------------------------------------


def test_trust_env_takes_the_proxy_for_the_base_urls_scheme(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", f"http://bob:{PASSWORD}@secure.proxy:3128")
    no_proxy_env.setenv("HTTP_PROXY", "plain.proxy:8080")  # no scheme: http://
    secure = proxy_from_environment("https://openrouter.ai/api/v1")
    assert secure is not None
    assert secure.shown == "http://<redacted>@secure.proxy:3128"
    plain = proxy_from_environment("http://127.0.0.1:9/api/v1")
    assert plain is not None
    assert plain.url == "http://plain.proxy:8080"
    client = Client(api_key="k", trust_env=True)
    assert "secure.proxy" in repr(client)
    assert PASSWORD not in repr(client)


def test_no_proxy_leaves_its_hosts_direct(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", "http://secure.proxy:3128")
    no_proxy_env.setenv("NO_PROXY", "localhost,.openrouter.ai")
    assert proxy_from_environment("https://openrouter.ai/api/v1") is None
    assert proxy_from_environment("https://api.openrouter.ai/api/v1") is None
    assert proxy_from_environment("https://example.com/api/v1") is not None
    assert "proxy=" not in repr(Client(api_key="k", trust_env=True))


def test_without_trust_env_the_environment_is_not_read(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", "http://secure.proxy:3128")
    assert "proxy=" not in repr(Client(api_key="k"))


def test_a_bad_proxy_in_the_environment_names_trust_env_and_the_variable(
    no_proxy_env: pytest.MonkeyPatch,
) -> None:
    no_proxy_env.setenv("HTTPS_PROXY", f"https://bob:{PASSWORD}@secure.proxy:3128")
    with pytest.raises(ValidationError, match="HTTPS_PROXY must be an http:// proxy") as refused:
        Client(api_key="k", trust_env=True)
    assert _paths(refused) == ["trust_env"]
    assert exception_leaks(refused.value, [PASSWORD], frame_locals=False) == []


# -- session_factory ----------------------------------------------------------------------


class Recorder:
    """A factory adding a trace_config that records each request it sees, as
    OpenTelemetry's aiohttp instrumentation does through the same hook."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.calls: list[dict[str, Any]] = []
        self.loops: list[asyncio.AbstractEventLoop] = []

    def __call__(self, **settings: Any) -> aiohttp.ClientSession:
        self.calls.append(settings)
        self.loops.append(asyncio.get_running_loop())
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(self._started)
        return aiohttp.ClientSession(**settings, trace_configs=[trace])

    async def _started(
        self, session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        self.seen.append((params.method, params.url.path))


def test_the_factory_is_called_once_per_event_loop_with_the_clients_settings(
    emu: Emulator,
) -> None:
    factory = Recorder()
    client = client_of(emu, session_factory=factory)

    async def use() -> int:
        await client.byok.list()
        await client.with_options(timeout=30).byok.list()  # the same session
        return len(factory.calls)

    assert asyncio.run(use()) == 1
    assert asyncio.run(use()) == 2  # the client followed to a new loop: a new session
    asyncio.run(client.aclose())
    assert factory.seen == [("GET", "/api/v1/byok")] * 4
    assert factory.loops[0] is not factory.loops[1]
    settings = factory.calls[0]
    assert sorted(settings) == ["connector", "cookie_jar", "proxy", "raise_for_status"]
    assert isinstance(settings["connector"], aiohttp.TCPConnector)
    assert settings["connector"].limit == client._shared.transport.limits.max_connections
    assert isinstance(settings["cookie_jar"], aiohttp.DummyCookieJar)
    assert settings["raise_for_status"] is False
    assert settings["proxy"] is None
    gc.collect()  # an unclosed session of either loop would warn here (an error in pytest)


def test_the_factorys_session_does_not_resend_on_its_own(emu: Emulator) -> None:
    made: list[aiohttp.ClientSession] = []

    def factory(**settings: Any) -> aiohttp.ClientSession:
        made.append(aiohttp.ClientSession(**settings))
        return made[-1]

    async def use() -> None:
        async with client_of(emu, session_factory=factory) as client:
            await client.byok.list()

    asyncio.run(use())
    assert made[0]._retry_connection is False
    assert made[0].closed  # the client closes the sessions its factory made


def test_a_sync_client_calls_the_factory_in_its_own_loop(emu: Emulator) -> None:
    factory = Recorder()
    with SyncClient(
        api_key=emu.management_key, base_url=emu.base_url, session_factory=factory
    ) as client:
        client.byok.list().first_page()
    assert factory.seen == [("GET", "/api/v1/byok")]


async def _async_factory(**settings: Any) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(**settings)  # pragma: no cover - never awaited


@pytest.mark.parametrize(
    ("factory", "says"),
    [
        (lambda **s: object(), "must return an aiohttp.ClientSession, not object"),
        (_async_factory, "returned a coroutine"),
        (
            lambda **s: aiohttp.ClientSession(**{**s, "raise_for_status": True}),
            "raise_for_status",
        ),
        (lambda **s: aiohttp.ClientSession(**s, auto_decompress=False), "auto_decompress"),
        (lambda **s: aiohttp.ClientSession(**s, trust_env=True), r"Client\(trust_env=True\)"),
        (lambda **s: aiohttp.ClientSession(**s, connector_owner=False), "connector_owner"),
    ],
)
def test_a_session_the_client_cannot_use_is_refused_and_closed(
    emu: Emulator, factory: Any, says: str
) -> None:
    async def use() -> None:
        async with client_of(emu, session_factory=factory) as client:
            with pytest.raises(ValidationError, match=says) as refused:
                await client.byok.list()
            assert refused.value.paths == ["session_factory"]

    before = emu.stats.requests["list"]
    asyncio.run(use())
    assert emu.stats.requests["list"] == before  # refused before anything was sent
    gc.collect()  # the refused session and the unused connector were closed: no warning


def test_a_closed_session_is_refused(emu: Emulator) -> None:
    async def use() -> None:
        closed = aiohttp.ClientSession()
        await closed.close()
        async with client_of(emu, session_factory=lambda **s: closed) as client:
            with pytest.raises(ValidationError, match="returned a closed session"):
                await client.byok.list()

    asyncio.run(use())
    gc.collect()  # the connector made for it was closed


def test_a_session_of_another_loop_is_refused(emu: Emulator) -> None:
    async def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    other_loop = asyncio.new_event_loop()
    try:
        stale = other_loop.run_until_complete(make())

        async def use() -> None:
            async with client_of(emu, session_factory=lambda **s: stale) as client:
                with pytest.raises(ValidationError, match="another event loop"):
                    await client.byok.list()

        asyncio.run(use())
        assert not stale.closed  # not the client's to close: it belongs to its own loop
        other_loop.run_until_complete(stale.close())
    finally:
        other_loop.close()


def test_a_factory_that_raises_raises_its_error(emu: Emulator) -> None:
    def broken(**settings: Any) -> aiohttp.ClientSession:
        raise LookupError("no tracer configured")

    async def use() -> None:
        async with client_of(emu, session_factory=broken) as client:
            with pytest.raises(LookupError, match="no tracer"):
                await client.byok.list()

    asyncio.run(use())
    gc.collect()  # the connector made for it was closed


def test_a_connector_of_the_factorys_own_is_used_with_a_warning(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    def own_connector(**settings: Any) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(**{**settings, "connector": aiohttp.TCPConnector(limit=3)})

    async def use() -> int:
        async with client_of(emu, session_factory=own_connector) as client:
            await client.byok.list()
            session = client._shared.transport._loops._state.session  # type: ignore[union-attr]
            return session.connector.limit  # type: ignore[union-attr]

    with caplog.at_level(logging.WARNING, logger="asyncbyok"):
        assert asyncio.run(use()) == 3
    assert "connector of its own" in caplog.text
    gc.collect()  # the client's unused connector was closed
