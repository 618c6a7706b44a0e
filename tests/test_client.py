"""The client against the emulator on loopback: every operation, every error status."""

from __future__ import annotations

import asyncio
import time
import warnings

import aiohttp
import pytest

import asyncbyok
from asyncbyok import (
    UNSET,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    Timeout,
    UpdateBYOKKeyRequest,
    ValidationError,
)
from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

from .conftest import FAST_RETRY

RAW = "sk-proj-abcdefgh12345678"


async def test_crud_round_trip(client: Client, emulator: Emulator) -> None:
    key = await client.byok.create(provider="openai", key=RAW, name="prod")
    assert key.provider == "openai"
    assert key.name == "prod"
    assert key.label == "sk-...5678"
    assert key.workspace_id == emulator.default_workspace_id
    assert key.created_at.tzinfo is not None
    assert key.is_byok_only is False
    assert (await client.byok.get(key.id)) == key
    updated = await client.byok.update(key.id, name=None, disabled=True)
    assert updated.name is None
    assert updated.disabled is True
    assert await client.byok.delete(key.id) is True
    with pytest.raises(NotFoundError):
        await client.byok.get(key.id)
    assert emulator.store.live() == []


async def test_create_accepts_a_request_object(client: Client) -> None:
    req = asyncbyok.CreateBYOKKeyRequest(provider="anthropic", key=RAW, allowed_models=["a/b"])
    key = await client.byok.create(req)
    assert key.allowed_models == ["a/b"]
    with pytest.raises(ValidationError, match="given twice"):
        await client.byok.create(req, name="x")


async def test_rotation_changes_the_label(client: Client, emulator: Emulator) -> None:
    key = await client.byok.create(provider="openai", key=RAW, name="rot")
    before = emulator.store.get(key.id)
    assert before is not None
    digest = before.key_digest
    rotated = await client.byok.update(key.id, key="sk-new-key-material-WXYZ")
    assert rotated.label == "sk-...WXYZ"
    after = emulator.store.get(key.id)
    assert after is not None
    assert after.key_digest != digest


async def test_raw_response_gives_status_request_id_and_attempts(client: Client) -> None:
    raw = await client.byok.with_raw_response.create(
        asyncbyok.CreateBYOKKeyRequest(provider="openai", key=RAW)
    )
    assert raw.status == 201
    assert raw.request_id
    assert raw.request_id.startswith("req_")
    assert raw.attempts == 1
    assert raw.elapsed > 0
    assert raw.parsed.name is None
    page = await client.byok.with_raw_response.list_page(limit=1)
    assert page.parsed.total_count == 1


async def test_invalid_input_sends_nothing(client: Client, emulator: Emulator) -> None:
    with pytest.raises(ValidationError) as info:
        await client.byok.create(provider="openai", key="", name="x" * 256)
    assert sorted(info.value.paths) == ["key", "name"]
    with pytest.raises(ValidationError, match="provider: is required"):
        await client.byok.create(key=RAW)
    with pytest.raises(ValidationError) as info:
        await client.byok.update(
            "11111111-2222-4333-8444-555555555555",
            is_fallback=None,  # type: ignore[arg-type]
        )
    assert info.value.paths == ["is_fallback"]
    with pytest.raises(ValidationError) as info:
        await client.byok.update("id", disabled=True)
    assert info.value.paths == ["key_id"]
    with pytest.raises(ValidationError):
        client.byok.list(limit=500)
    assert sum(emulator.stats.requests.values()) == 0


async def test_a_lone_surrogate_is_refused_naming_the_field_and_sends_nothing(
    client: Client, emulator: Emulator
) -> None:
    # A model may hold "\ud800" (a server may send one back), but it is not UTF-8.
    with pytest.raises(ValidationError) as info:
        await client.byok.create(
            provider="openai",
            key="sk-CANARY\udc80-0123456789",
            name="a\ud800",
            allowed_models=["m", "\udfff"],
        )
    assert info.value.paths == ["key", "name", "allowed_models[1]"]
    assert "name: holds a lone surrogate (character 1)" in str(info.value)
    assert "CANARY" not in str(info.value)
    assert "CANARY" not in repr(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    with pytest.raises(ValidationError) as info:
        await client.byok.update("11111111-2222-4333-8444-555555555555", name="\udfff")
    assert info.value.paths == ["name"]
    assert sum(emulator.stats.requests.values()) == 0
    key = await client.byok.create(provider="openai", key=RAW, name="prod \U0001f511 é")
    assert (await client.byok.get(key.id)).name == "prod \U0001f511 é"


@pytest.mark.parametrize(
    ("make_client", "exc"),
    [
        (lambda emu: dict(api_key="sk-or-v1-unknown"), AuthenticationError),
        (lambda emu: dict(api_key=emu.api_key), PermissionDeniedError),
    ],
)
async def test_auth_errors(emulator: Emulator, make_client: object, exc: type[Exception]) -> None:
    kwargs = make_client(emulator)  # type: ignore[operator]
    async with Client(base_url=emulator.base_url, **kwargs) as c:
        with pytest.raises(exc) as info:
            await c.byok.create(provider="openai", key=RAW)
    err = info.value
    assert err.status_code in (401, 403)  # type: ignore[attr-defined]
    assert err.code == err.status_code  # type: ignore[attr-defined]
    assert err.request_id.startswith("req_")  # type: ignore[attr-defined]
    assert err.attempts == 1  # type: ignore[attr-defined]


async def test_server_side_validation_is_a_bad_request(client: Client) -> None:
    with pytest.raises(BadRequestError) as info:
        await client.byok.create(provider="not-a-provider", key=RAW)  # open enum: server says no
    assert info.value.code == 400
    assert "provider" in info.value.message
    key = await client.byok.create(provider="openai", key=RAW, is_fallback=True)
    with pytest.raises(BadRequestError, match="is_fallback"):
        await client.byok.update(key.id, is_byok_only=True)


async def test_conflict_on_update(client: Client, emulator: Emulator) -> None:
    key = await client.byok.create(provider="openai", key=RAW)
    emulator.faults = Faults({"update": FaultConfig(conflict_rate=1.0)})
    with pytest.raises(ConflictError) as info:
        await client.byok.update(key.id, disabled=True)
    assert info.value.status == 409
    assert info.value.attempts == 1  # 409 is not retried


async def test_5xx_are_retried_then_raised(client: Client, emulator: Emulator) -> None:
    emulator.faults = Faults.everywhere(error_rate=1.0, error_statuses=(503,))
    with pytest.raises(InternalServerError) as info:
        await client.byok.get("11111111-2222-3333-4444-555555555555")
    assert info.value.status == 503
    assert info.value.attempts == 4  # 1 + max_retries
    assert emulator.stats.requests["get"] == 4


async def test_retries_are_visible(emulator: Emulator) -> None:
    emulator.faults = Faults({"list": FaultConfig(error_rate=0.5)})
    events: list[asyncbyok.RetryEvent] = []
    policy = RetryPolicy(max_retries=10, wait_scale=0)
    async with Client(
        api_key=emulator.management_key,
        base_url=emulator.base_url,
        retry=policy,
        on_retry=events.append,
    ) as c:
        raw = await c.byok.with_raw_response.list_page()
    assert raw.attempts == len(events) + 1
    assert all(e.method == "GET" and e.error is not None for e in events)


async def test_429_honours_retry_after_and_shuts_the_gate(emulator: Emulator) -> None:
    emulator.rate_limit = RateLimit(rate=20, burst=2)
    async with Client(
        api_key=emulator.management_key,
        base_url=emulator.base_url,
        retry=RetryPolicy(max_retries=5),
    ) as c:
        start = time.monotonic()
        results = await asyncio.gather(*(c.byok.list() for _ in range(6)))
        elapsed = time.monotonic() - start
        assert all(p.total_count == 0 for p in results)
        assert c.rate_limited >= 1
        assert elapsed >= 0.15  # 4 requests beyond the burst at 20/s
    assert emulator.stats.rate_limited == c.rate_limited


async def test_retry_after_past_the_cap_fails_fast(emulator: Emulator) -> None:
    emulator.rate_limit = RateLimit(rate=0.01, burst=1)  # the next token in 100 s
    async with Client(
        api_key=emulator.management_key,
        base_url=emulator.base_url,
        retry=RetryPolicy(max_retry_after=5),
    ) as c:
        await c.byok.list()
        start = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await c.byok.list()
    assert time.monotonic() - start < 10  # the server asked for 100 s: not waited for
    assert info.value.retry_after is not None
    assert info.value.retry_after > 5
    assert info.value.attempts == 1


async def test_timeouts_become_api_timeout_errors(emulator: Emulator) -> None:
    emulator.faults = Faults({"get": FaultConfig(slow_rate=1.0, slow_seconds=2.0)})
    async with Client(
        api_key=emulator.management_key,
        base_url=emulator.base_url,
        timeout=Timeout(0.2),
        retry=RetryPolicy(max_retries=1, wait_scale=0),
    ) as c:
        with pytest.raises(APITimeoutError) as info:
            await c.byok.get("11111111-2222-3333-4444-555555555555")
    assert info.value.attempts == 2


async def test_connection_refused_is_a_connection_error() -> None:
    async with Client(
        api_key="k", base_url="http://127.0.0.1:9/api/v1", retry=RetryPolicy(max_retries=0)
    ) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.byok.list()
    assert info.value.request_sent is False


async def test_retry_budget_stops_a_herd_hammering_a_dead_server(emulator: Emulator) -> None:
    emulator.faults = Faults.everywhere(error_rate=1.0)
    async with Client(
        api_key=emulator.management_key,
        base_url=emulator.base_url,
        retry=RetryPolicy(max_retries=3, wait_scale=0),
    ) as c:
        c.retry_budget.tokens = c.retry_budget.capacity = 10  # 10 retries for everyone
        results = await asyncio.gather(*(c.byok.list() for _ in range(40)), return_exceptions=True)
    assert all(isinstance(r, InternalServerError) for r in results)
    assert emulator.stats.requests["list"] == 40 + 10  # not 40 x 4
    assert c.retry_budget.exhausted >= 30


async def test_env_fallbacks(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", emulator.management_key)
    monkeypatch.setenv("OPENROUTER_BASE_URL", emulator.base_url)
    async with Client() as c:
        assert (await c.byok.list()).total_count == 0
    monkeypatch.delenv("OPENROUTER_API_KEY")
    with pytest.raises(asyncbyok.AsyncBYOKError, match="OPENROUTER_API_KEY"):
        Client()
    monkeypatch.delenv("OPENROUTER_BASE_URL")
    assert Client(api_key="k").base_url == "https://openrouter.ai/api/v1"


async def test_with_options_shares_the_session(client: Client, emulator: Emulator) -> None:
    quick = client.with_options(timeout=5, max_retries=0)
    assert quick.retry.max_retries == 0
    assert quick.timeout == Timeout(5)
    assert quick.gate is client.gate  # one gate, budget and limiter for the two
    assert quick.retry_budget is client.retry_budget
    assert quick.rate_limiter is client.rate_limiter
    await quick.byok.create(provider="openai", key=RAW)
    assert len(emulator.store.live()) == 1


async def test_callers_session_is_used_and_left_open(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with Client(
            api_key=emulator.management_key, base_url=emulator.base_url, session=session
        ) as c:
            await c.byok.list()
        assert not session.closed


async def test_no_unclosed_session_warnings(emulator: Emulator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = Client(api_key=emulator.management_key, base_url=emulator.base_url, retry=FAST_RETRY)
        await c.byok.list()
        await c.aclose()
        await c.aclose()  # twice is fine
        Client(api_key="k")  # never used: no session was made


async def test_servers_of_every_age_decode() -> None:
    for version in ("oldest", "excerpt", "newest"):
        async with (
            Emulator(api_version=version) as emu,
            Client(api_key=emu.management_key, base_url=emu.base_url) as c,
        ):
            key = await c.byok.create(provider="openai", key=RAW, name=version)
            fetched = await c.byok.get(key.id)
            assert fetched.name == version
            if version == "oldest":
                assert fetched.allowed_api_key_hashes is UNSET
            if version != "newest":
                assert fetched.declared_zdr is UNSET
            else:
                assert fetched.declared_zdr is None


async def test_identifying_headers_are_sent(emulator: Emulator) -> None:
    async with Client(
        api_key=emulator.management_key,
        base_url=emulator.base_url,
        app_url="https://fleet.example",
        app_title="Fleet Manager",
    ) as c:
        await c.byok.list()
        await c.with_options(max_retries=0).byok.list()  # copies keep the settings
    seen = emulator.stats.client_headers
    assert seen[("User-Agent", f"asyncbyok/{asyncbyok.__version__}")] == 2
    assert seen[("HTTP-Referer", "https://fleet.example")] == 2
    assert seen[("X-OpenRouter-Title", "Fleet Manager")] == 2


async def test_a_delete_dropped_after_commit_is_not_reported_as_404(emulator: Emulator) -> None:
    async with Client(
        api_key=emulator.management_key, base_url=emulator.base_url, retry=FAST_RETRY
    ) as c:
        keys = [await c.byok.create(provider="openai", key=RAW, name=f"d{i}") for i in range(5)]
        emulator.faults = Faults({"delete": FaultConfig(commit_then_drop_rate=1.0)})
        for key in keys:
            raw = await c.byok.with_raw_response.delete(key.id)
            assert raw.parsed.deleted
            assert raw.recovered
            assert (raw.attempts, raw.status) == (2, 404)  # resent; its 404: already deleted
    assert emulator.store.live() == []
    assert emulator.stats.requests["delete"] == 10
    assert emulator.stats.requests["get"] == 0  # a DELETE is idempotent: no lookup


async def test_the_deadline_bounds_retries_in_time(emulator: Emulator) -> None:
    emulator.faults = Faults.everywhere(error_rate=1.0, latency=0.05)
    policy = RetryPolicy(max_retries=100, deadline=0.4, initial_backoff=0.05, max_backoff=0.05)
    async with Client(
        api_key=emulator.management_key, base_url=emulator.base_url, retry=policy
    ) as c:
        start = time.monotonic()
        with pytest.raises((InternalServerError, APITimeoutError)) as info:
            await c.byok.list()
        elapsed = time.monotonic() - start
    # each attempt takes >= 50 ms, so a 0.4 s deadline allows at most 8 of the 101 attempts;
    # the last one is cut at the deadline rather than allowed to run past it
    assert 2 <= info.value.attempts <= 8
    assert elapsed < 0.4 + 0.15


async def test_an_update_that_changes_nothing_is_refused_before_it_is_sent(
    emulator: Emulator,
) -> None:
    async with Client(api_key=emulator.management_key, base_url=emulator.base_url) as c:
        key = await c.byok.create(provider="openai", key=RAW, name="same")
        with pytest.raises(ValidationError, match="no field to change"):
            await c.byok.update(key.id)
        with pytest.raises(ValidationError, match="no field to change"):
            await c.byok.update(key.id, UpdateBYOKKeyRequest())
        assert (await c.byok.update(key.id, allowed_models=None)).allowed_models is None
    assert emulator.stats.requests["update"] == 1
