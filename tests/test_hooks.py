"""Event hooks: what each event says, when it comes, and that a hook can't break a call."""

from __future__ import annotations

import logging
import types
import typing

import attrs
import pytest

import asyncbyok
from asyncbyok import ErrorEvent, RequestEvent, ResponseEvent, ValidationError
from asyncbyok.emulator import Emulator, FaultConfig, Faults
from asyncbyok.hooks import CallEvent, CallResult, Hook

from .conftest import RAW, client_for

Event = RequestEvent | ResponseEvent | ErrorEvent


def _recorder() -> tuple[list[Event], dict[str, list[Hook]]]:
    seen: list[Event] = []
    return seen, {"request": [seen.append], "response": [seen.append], "error": [seen.append]}


async def test_every_call_tells_its_attempts_and_answers(emulator: Emulator) -> None:
    seen, hooks = _recorder()
    async with client_for(emulator, event_hooks=hooks) as client:
        key = await client.byok.create(provider="openai", key=RAW, name="hooked")
        await client.byok.get(key.id)
        await client.byok.update(key.id, name="renamed")
        await client.byok.list_page()
        await client.byok.delete(key.id)
    kinds = [(type(e).__name__, e.operation) for e in seen]
    assert kinds == [
        (kind, operation)
        for operation in ("create", "get", "update", "list", "delete")
        for kind in ("RequestEvent", "ResponseEvent")
    ]
    create_request, create_response = seen[0], seen[1]
    assert isinstance(create_request, RequestEvent)
    assert create_request.attempt == 1
    assert create_request.key_id is None  # not known before the answer
    assert create_request.retry_reason is None
    assert create_request.waited >= 0
    assert isinstance(create_response, ResponseEvent)
    assert (create_response.method, create_response.path) == ("POST", "/byok")
    assert create_response.status == 201
    assert create_response.key_id == key.id
    assert create_response.label == key.label
    assert create_response.request_id
    assert create_response.elapsed > 0
    for event in seen[2:]:
        if event.operation != "list":
            assert event.key_id == key.id
            assert event.path == f"/byok/{key.id}"


async def test_a_retry_says_why_and_a_failed_call_says_so_once() -> None:
    seen, hooks = _recorder()
    faults = Faults({"get": FaultConfig(error_rate=1.0, error_statuses=(503,))})
    missing = "00000000-0000-0000-0000-000000000000"
    async with (
        Emulator(seed=3, faults=faults) as emu,
        client_for(emu, event_hooks=hooks, max_retries=2) as client,
    ):
        with pytest.raises(asyncbyok.InternalServerError):
            await client.byok.get(missing)
    requests = [e for e in seen if isinstance(e, RequestEvent)]
    responses = [e for e in seen if isinstance(e, ResponseEvent)]
    errors = [e for e in seen if isinstance(e, ErrorEvent)]
    assert [r.attempt for r in requests] == [1, 2, 3]
    assert [r.retry_reason for r in requests] == [
        None,
        "InternalServerError",
        "InternalServerError",
    ]
    assert [r.status for r in responses] == [503, 503, 503]
    assert len(errors) == 1
    error = errors[0]
    assert (error.error, error.status, error.attempt) == ("InternalServerError", 503, 3)
    assert error.request_id == responses[-1].request_id
    assert error.key_id == "00000000-0000-0000-0000-000000000000"
    assert seen[-1] is error  # after the last answer


async def test_a_call_that_got_no_answer_tells_its_error() -> None:
    seen, hooks = _recorder()
    async with asyncbyok.Client(
        api_key="k",
        base_url="http://127.0.0.1:9/api/v1",  # nothing listens there
        max_retries=0,
        event_hooks=hooks,
    ) as client:
        with pytest.raises(asyncbyok.APIConnectionError):
            await client.byok.list_page()
    assert [type(e).__name__ for e in seen] == ["RequestEvent", "ErrorEvent"]
    error = seen[-1]
    assert isinstance(error, ErrorEvent)
    assert (error.error, error.status, error.request_id) == ("APIConnectionError", None, None)


async def test_async_hooks_are_awaited(emulator: Emulator) -> None:
    statuses: list[int] = []

    async def on_response(event: ResponseEvent) -> None:
        statuses.append(event.status)

    async with client_for(emulator, event_hooks={"response": [on_response]}) as client:
        await client.byok.list_page()
    assert statuses == [200]


async def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("hook bug")

    async def broken_async(event: object) -> None:
        raise KeyError("async hook bug")

    hooks = {"request": [broken], "response": [broken_async, broken]}
    with caplog.at_level(logging.WARNING, logger="asyncbyok"):
        async with client_for(emulator, event_hooks=hooks) as client:
            page = await client.byok.list_page()
    assert page.total_count == 0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("event hook" in m and "raised" in m for m in messages) == 3
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


async def test_with_options_keeps_or_replaces_the_hooks(emulator: Emulator) -> None:
    parents: list[object] = []
    copies: list[object] = []
    async with client_for(emulator, event_hooks={"response": [parents.append]}) as client:
        await client.with_options(timeout=5).byok.list_page()  # kept
        quiet = client.with_options(event_hooks=None)
        await quiet.byok.list_page()
        other = client.with_options(event_hooks={"response": [copies.append]})
        await other.byok.list_page()
    assert len(parents) == 1
    assert len(copies) == 1
    assert quiet.event_hooks is None


@pytest.mark.parametrize(
    ("hooks", "field"),
    [
        ({"responses": []}, "event_hooks['responses']"),
        ({"request": [print, "not callable"]}, "event_hooks['request'][1]"),
        ({"error": print}, "event_hooks['error']"),
        ([print], "event_hooks"),
    ],
)
def test_bad_hooks_are_refused_naming_the_entry(hooks: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        asyncbyok.Client(api_key="k", event_hooks=hooks)  # type: ignore[arg-type]
    assert caught.value.errors[0].path == field


_SAFE_TYPES = {str, int, float, bool, type(None)}


def _leaf_types(annotation: object) -> set[object]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return {t for arg in typing.get_args(annotation) for t in _leaf_types(arg)}
    return {annotation}


@pytest.mark.parametrize("cls", [RequestEvent, ResponseEvent, ErrorEvent, CallEvent, CallResult])
def test_events_hold_only_plain_values_by_construction(cls: type) -> None:
    # No request, response, exception or header can ride along: every field is a plain
    # value (or, for CallResult, the CallEvent it ends), and the classes are slotted.
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        leaves = _leaf_types(hints[field.name])
        assert leaves <= _SAFE_TYPES | {CallEvent}, (cls.__name__, field.name, leaves)
    assert not hasattr(cls, "__dict__") or "__slots__" in vars(cls)
