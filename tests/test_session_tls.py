"""Client(ssl=...) against the emulator serving HTTPS on loopback, with a certificate
signed by a CA the test makes (``trustme``): unknown to the system, as a company's
private CA is.

- the default verification refuses that server, with an error that says what to do;
- ``ssl=`` a context trusting the CA works, through a ``session_factory`` too;
- mutual TLS: a server that demands a client certificate serves a client holding one,
  and refuses one without;
- ``ssl=False`` works only with ``allow_insecure_tls=True``, and warns each time a
  session is made (once per event loop).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import aiohttp
import pytest
import trustme

from asyncbyok import APIConnectionError, Client, RetryPolicy, SyncClient
from asyncbyok.emulator import Emulator

ONCE = RetryPolicy(max_retries=0)  # a failure shows at once: retries are not the subject

Test = TypeVar("Test", bound=Callable[..., Any])


def tolerating_python310s_tls_leak(test: Test) -> Test:
    """On Python 3.10, a TLS connection the server aborts after the handshake leaves its
    transport unclosed, and the transport's finalizer warns (``ResourceWarning``, an
    error here). aiohttp alone does it too; Python 3.11's rewritten TLS layer
    (``asyncio.sslproto``) closes it. Only that warning is let through, and only there."""
    if sys.version_info >= (3, 11):
        return test
    leak = "ignore:unclosed transport <asyncio.sslproto._SSLProtocolTransport:ResourceWarning"
    return cast(Test, pytest.mark.filterwarnings(leak)(test))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def served_by(ca: trustme.CA, *, clients_need_a_certificate: bool = False) -> ssl.SSLContext:
    """The emulator's server context: a certificate for 127.0.0.1 signed by *ca*; with
    *clients_need_a_certificate*, only clients holding one *ca* signed get an answer."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    if clients_need_a_certificate:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts *ca*, as ``ssl.create_default_context(cafile=...)``
    with the CA's bundle would."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="module")
def emu(ca: trustme.CA) -> Iterator[Emulator]:
    with Emulator(seed=19, ssl_context=served_by(ca)).run_in_thread() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def mtls_emu(ca: trustme.CA) -> Iterator[Emulator]:
    served = served_by(ca, clients_need_a_certificate=True)
    with Emulator(seed=23, ssl_context=served).run_in_thread() as emulator:
        yield emulator


def client_of(emu: Emulator, **options: Any) -> Client:
    options.setdefault("retry", ONCE)
    return Client(api_key=emu.management_key, base_url=emu.base_url, **options)


async def list_total(client: Client) -> int:
    async with client:
        page = await client.byok.list()
        return page.total_count


async def test_the_default_verification_refuses_a_private_cas_server(emu: Emulator) -> None:
    assert emu.base_url.startswith("https://127.0.0.1:")
    with pytest.raises(APIConnectionError) as caught:
        await list_total(client_of(emu))
    message = str(caught.value)
    assert "TLS certificate verification failed" in message
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert "ssl=ssl.create_default_context(cafile=...)" in message  # what to do about it
    assert caught.value.request_sent is False  # nothing was sent: safe to resend
    assert emu.stats.requests["list"] == 0


async def test_a_context_trusting_the_ca_is_served(emu: Emulator, ca: trustme.CA) -> None:
    assert await list_total(client_of(emu, ssl=trusting(ca))) == 0


async def test_the_factorys_session_verifies_with_the_context_given(
    emu: Emulator, ca: trustme.CA
) -> None:
    made: list[aiohttp.ClientSession] = []

    def factory(**settings: Any) -> aiohttp.ClientSession:
        made.append(aiohttp.ClientSession(**settings))
        return made[-1]

    assert await list_total(client_of(emu, ssl=trusting(ca), session_factory=factory)) == 0
    assert len(made) == 1


def test_a_sync_client_takes_the_context_too(emu: Emulator, ca: trustme.CA) -> None:
    with SyncClient(api_key=emu.management_key, base_url=emu.base_url, ssl=trusting(ca)) as client:
        assert client.byok.list().first_page().total_count == 0


async def test_mutual_tls_serves_a_client_with_a_certificate(
    mtls_emu: Emulator, ca: trustme.CA
) -> None:
    context = trusting(ca)
    ca.issue_cert("client.example").configure_cert(context)  # the client's certificate
    assert await list_total(client_of(mtls_emu, ssl=context)) == 0


@tolerating_python310s_tls_leak
async def test_mutual_tls_refuses_a_client_without_a_certificate(
    mtls_emu: Emulator, ca: trustme.CA
) -> None:
    before = mtls_emu.stats.requests["list"]
    with pytest.raises(APIConnectionError):
        await list_total(client_of(mtls_emu, ssl=trusting(ca)))
    assert mtls_emu.stats.requests["list"] == before  # the server answered nothing


def test_no_verification_warns_each_time_a_session_is_made(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_of(emu, ssl=False, allow_insecure_tls=True)

    async def use() -> None:
        await client.byok.list()
        await client.byok.list()  # the same session: no second warning

    with caplog.at_level(logging.WARNING, logger="asyncbyok"):
        asyncio.run(use())
        asyncio.run(use())  # a new loop, a new session: warned again
        asyncio.run(client.aclose())
    warnings = [r for r in caplog.records if "verification is off" in r.getMessage()]
    assert len(warnings) == 2
    assert all(r.levelno == logging.WARNING for r in warnings)
