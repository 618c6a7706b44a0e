"""``asyncbyok.SyncClient``: every call of the async client, blocking, against the emulator
served on loopback from a thread (these tests have no event loop of their own)."""

from __future__ import annotations

import inspect
import logging
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

import asyncbyok
from asyncbyok import (
    APIConnectionError,
    APIResponse,
    AuthenticationError,
    BYOKKey,
    Client,
    CreateBYOKKeyRequest,
    EnsureSpec,
    NotFoundError,
    SyncClient,
    ValidationError,
)
from asyncbyok.emulator import Emulator, FaultConfig, Faults
from asyncbyok.sync import SyncBYOKResource, SyncPage, SyncRawBYOKResource

from .conftest import FAST_RETRY

RAW = "sk-proj-0000000000AbCd"
ABSENT = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(seed=7, shutdown_timeout=0.1).run_in_thread() as emulator:
        yield emulator
    assert emulator.stats.unexpected_errors == 0


@pytest.fixture
def client(emu: Emulator) -> Iterator[SyncClient]:
    with SyncClient(api_key=emu.management_key, base_url=emu.base_url, retry=FAST_RETRY) as c:
        yield c


def test_create_get_update_delete(client: SyncClient, emu: Emulator) -> None:
    key = client.byok.create(provider="openai", key=RAW, name="prod")
    assert isinstance(key, BYOKKey)
    assert (key.name, key.label) == ("prod", "sk-...AbCd")
    assert client.byok.get(key.id) == key
    updated = client.byok.update(key.id, allowed_models=None, disabled=True)
    assert (updated.disabled, updated.allowed_models) == (True, None)
    assert emu.received[-1].body == {"allowed_models": None, "disabled": True}  # null sent
    assert client.byok.delete(key.id) is True
    assert emu.store.live() == []


def test_a_ready_request_object_and_list_page(client: SyncClient) -> None:
    key = client.byok.create(CreateBYOKKeyRequest(provider="anthropic", key=RAW, name="a"))
    body = client.byok.list_page(provider="anthropic")
    assert ([k.id for k in body.data], body.total_count) == ([key.id], 1)


def test_ensure_create_many_and_ensure_many(client: SyncClient, emu: Emulator) -> None:
    made = client.byok.ensure(provider="openai", name="team-a", key=RAW)
    again = client.byok.ensure(provider="openai", name="team-a", key=RAW)
    assert again.key.id == made.key.id
    requests = [CreateBYOKKeyRequest(provider="openai", key=RAW, name=f"n{i}") for i in range(5)]
    results = client.byok.create_many(requests)
    assert [r.ok for r in results] == [True] * 5
    outcomes = client.byok.ensure_many(
        [EnsureSpec(provider="openai", name="n0", key=RAW), {"provider": "openai", "name": "b"}]
    )
    assert outcomes[0].ok
    assert outcomes[0].key is not None
    assert outcomes[0].key.id == results[0].key.id  # type: ignore[union-attr]
    assert not outcomes[1].ok  # a new credential needs a key
    assert len(emu.store.live()) == 6


def test_raw_responses(client: SyncClient) -> None:
    raw = client.byok.with_raw_response
    created = raw.create(provider="openai", key=RAW, name="r")
    assert isinstance(created, APIResponse)
    assert (created.status, created.method, created.attempts) == (201, "POST", 1)
    key_id = created.parsed.id
    assert raw.get(key_id).request_id is not None
    assert raw.update(key_id, name="s").parsed.name == "s"
    assert raw.list_page().parsed.total_count == 1
    assert raw.ensure(provider="openai", name="s").parsed.key.id == key_id
    listed = raw.list(limit=1)
    assert isinstance(listed.parsed, SyncPage)
    assert (listed.status, [k.id for k in listed.parsed]) == (200, [key_id])
    assert raw.delete(key_id).parsed.deleted


def test_names_blocking(client: SyncClient) -> None:
    made = [client.byok.create(provider="openai", key=RAW, name=n) for n in ("a", "b", "a")]
    assert [k.id for k in client.byok.list(name="a", limit=1)] == [made[0].id, made[2].id]
    first = client.byok.list(name="b").first_page()
    assert (first.data, first.filtered_out, first.item_count) == ([made[1]], 2, 3)
    assert client.byok.get_by_name("b") == made[1]
    assert client.byok.with_raw_response.get_by_name("b").parsed == made[1]
    with pytest.raises(asyncbyok.DuplicateNameError):
        client.byok.get_by_name("a")


def test_iterating_walks_every_page_once() -> None:
    with (
        Emulator(seed=3, seed_keys=1000).run_in_thread() as emu,
        SyncClient(api_key=emu.management_key, base_url=emu.base_url) as client,
    ):
        ids = [key.id for key in client.byok.list(limit=37, concurrency=4)]
        assert len(ids) == 1000
        assert set(ids) == {r.id for r in emu.store.live()}
        pages = list(client.byok.list(limit=100).pages())
        assert sum(len(p) for p in pages) == 1000

        page: SyncPage | None = client.byok.list(limit=60).first_page()
        walked: list[str] = []
        while page is not None:
            assert page.total_count == 1000
            assert page.limit == 60
            walked += [k.id for k in page]
            page = page.next_page()
        assert walked == ids


def test_leaving_an_iteration_early_cancels_its_fetches(
    emu: Emulator, client: SyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    emu.store.seed(500, provider="openai")
    for key in client.byok.list(limit=10, concurrency=8):
        assert key.name
        break
    # Nothing was left behind in the loop to be destroyed pending, or fail unheard.
    assert client.byok.list_page(limit=1).total_count == 500
    client.close()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_eight_threads_at_once(client: SyncClient, emu: Emulator) -> None:
    start = threading.Barrier(8)
    found: dict[int, set[str]] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            keys = [
                client.byok.create(provider="openai", key=RAW, name=f"w{worker}-{n}")
                for n in range(4)
            ]
            assert [client.byok.get(k.id).name for k in keys] == [k.name for k in keys]
            found[worker] = {k.name or "" for k in client.byok.list(limit=7)}
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = {f"w{w}-{n}" for w in range(8) for n in range(4)}
    assert {r.name for r in emu.store.live()} == names
    for worker in range(8):  # each saw at least its own keys (others may still be coming)
        assert {f"w{worker}-{n}" for n in range(4)} <= found[worker] <= names


def test_with_options_shares_the_thread_and_the_pool(client: SyncClient, emu: Emulator) -> None:
    emu.faults = Faults({"get": FaultConfig(error_rate=1.0)})
    patient = client.with_options(max_retries=4)
    impatient = client.with_options(max_retries=0)
    with pytest.raises(asyncbyok.InternalServerError):
        impatient.byok.get(ABSENT)
    assert emu.stats.requests["get"] == 1
    with pytest.raises(asyncbyok.InternalServerError):
        patient.byok.get(ABSENT)
    assert emu.stats.requests["get"] == 1 + 5
    patient.close()  # a copy does not close what it shares
    assert not client.is_closed
    assert client.byok.list_page().total_count == 0


def test_errors_keep_their_type_and_traceback(client: SyncClient, emu: Emulator) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.byok.get(ABSENT)
    frames = traceback.extract_tb(caught.value.__traceback__)
    here = [f for f in frames if f.name == "test_errors_keep_their_type_and_traceback"]
    in_the_loop = [f for f in frames if Path(f.filename).name == "client.py"]
    assert here
    assert in_the_loop
    assert caught.value.status_code == 404

    with pytest.raises(ValidationError) as bad:
        client.byok.create(provider="openai", key=RAW, name="x" * 1000)
    assert [e.path for e in bad.value.errors] == ["name"]
    with pytest.raises(TypeError, match="unexpected keyword"):
        client.byok.create(provider="openai", key=RAW, nmae="typo")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="concurrency"):
        client.byok.list(concurrency=0)  # checked at once, before anything is sent
    assert emu.stats.requests == {"get": 1}  # the 404 alone

    with (
        SyncClient(api_key="sk-or-v1-wrong", base_url=emu.base_url) as wrong,
        pytest.raises(AuthenticationError),
    ):
        wrong.byok.list_page()
    dead_url = "http://127.0.0.1:9/api/v1"
    with (
        SyncClient(api_key="k", base_url=dead_url, retry=FAST_RETRY) as dead,
        pytest.raises(APIConnectionError),
    ):
        dead.byok.list_page()


def test_bad_arguments_raise_before_a_thread_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    before = set(threading.enumerate())
    with pytest.raises(asyncbyok.AsyncBYOKError, match="no API key"):
        SyncClient()
    with pytest.raises(asyncbyok.InsecureURLError):
        SyncClient(api_key="k", base_url="http://example.com/api/v1")
    with pytest.raises(ValidationError, match="session"):
        SyncClient(api_key="k", session=object())  # type: ignore[arg-type]
    assert set(threading.enumerate()) == before


def test_the_facade_has_every_method_with_its_signature(client: SyncClient) -> None:
    def public(resource: object) -> set[str]:
        return {n for n in dir(resource) if not n.startswith("_")}

    async_client = Client(api_key="k", base_url="http://127.0.0.1:1/api/v1")
    pairs = [
        (async_client.byok, client.byok),
        (async_client.byok.with_raw_response, client.byok.with_raw_response),
    ]
    assert isinstance(client.byok, SyncBYOKResource)
    assert isinstance(client.byok.with_raw_response, SyncRawBYOKResource)
    for async_resource, sync_resource in pairs:
        assert public(sync_resource) == public(async_resource)
        for name in public(async_resource) - {"with_raw_response"}:
            mine = inspect.signature(getattr(sync_resource, name))
            theirs = inspect.signature(getattr(async_resource, name))
            assert mine.parameters == theirs.parameters, name
    assert "key_id" in inspect.signature(client.byok.get).parameters  # help() shows them
    made = inspect.signature(SyncClient).parameters
    assert list(made) == [n for n in inspect.signature(Client).parameters if n[0] != "_"]
    copied = inspect.signature(client.with_options).parameters
    assert copied == inspect.signature(async_client.with_options).parameters


MANAGEMENT_CANARY = "sk-or-v1-mgmt-SYNCCANARY-0a1b2c3d"
RAW_CANARY = "sk-proj-SYNCRAWCANARY-9f8e7d6c"


def _texts(obj: object) -> list[str]:
    texts = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        texts.append("".join(traceback.format_exception(obj)))  # __cause__, __context__
        texts.extend(repr(v) for v in vars(obj).values())
    return texts


def test_secret_canary(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[object] = []

    def attempt(call: object, *args: object, **kwargs: object) -> None:
        try:
            seen.append(call(*args, **kwargs))  # type: ignore[operator]
        except Exception as exc:
            seen.append(exc)

    with Emulator(seed=2, management_keys=[MANAGEMENT_CANARY]).run_in_thread() as emu:
        c = SyncClient(api_key=MANAGEMENT_CANARY, base_url=emu.base_url, retry=FAST_RETRY)
        seen += [c, c.with_options(max_retries=1), c.byok.list()]
        key = c.byok.create(provider="openai", key=RAW_CANARY, name="canary")
        seen += [key, c.byok.with_raw_response.get(key.id), c.byok.list().first_page()]
        attempt(c.byok.create, provider="openai", key=RAW_CANARY, name="x" * 300)
        attempt(c.byok.create, provider="nope", key=RAW_CANARY)
        attempt(c.byok.update, key.id, key=RAW_CANARY + "-rotated")
        attempt(c.byok.get, ABSENT)
        emu.faults = Faults.everywhere(error_rate=1.0)
        attempt(c.byok.create, provider="openai", key=RAW_CANARY, name="again")
        emu.faults = None
        c.close()
        attempt(c.byok.create, provider="openai", key=RAW_CANARY)
    with SyncClient(api_key=MANAGEMENT_CANARY, base_url="http://127.0.0.1:9/api/v1") as dead:
        attempt(dead.with_options(max_retries=0).byok.create, provider="openai", key=RAW_CANARY)

    kinds = {type(o).__name__ for o in seen}
    assert {"ValidationError", "BadRequestError", "NotFoundError", "ClientClosedError"} <= kinds
    assert {"InternalServerError", "APIConnectionError", "SyncClient", "SyncPage"} <= kinds
    texts = [t for o in seen for t in _texts(o)] + [r.getMessage() for r in caplog.records]
    for text in texts:
        assert MANAGEMENT_CANARY not in text
        assert "SYNCRAWCANARY" not in text
