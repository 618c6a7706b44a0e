"""Generated malformed input at every endpoint: never a 5xx, always the documented error body.

One emulator (the thread-based one) serves every example of a module; requests go
through ``http.client`` so any bytes and any Content-Type can be sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncbyok import CreateBYOKKeyRequest
from asyncbyok.emulator import Emulator

from .conformance import check_response
from .conftest import VALID_KEY, sync_call

# Every field of a create body: the fuzzer sends each with values of every JSON type.
FIELDS = [a.name for a in attrs.fields(CreateBYOKKeyRequest)]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=15,
)
field_values = (
    json_values
    | st.sampled_from(["openai", "nope", "", VALID_KEY, "a" * 64, "A" * 64, "us", "mars"])
    | st.uuids().map(str)
    | st.text(min_size=200, max_size=2000)  # long strings, past every limit
    | st.lists(st.sampled_from(["a" * 64, "x", ""]), max_size=120)
)
# Objects made mostly of the real field names, so validation goes deep, plus junk keys.
objects = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=12), field_values, max_size=len(FIELDS)
)
json_bodies = (objects | json_values).map(lambda v: json.dumps(v).encode())
raw_bodies = st.binary(max_size=300) | st.sampled_from(
    [b"", b"{", b'{"provider": NaN}', b"\xff\xfe", b'{"key": "\\ud800"}', b"[" * 5000]
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    ]
)
query_values = (
    st.text(max_size=20)
    | st.integers(-(10**30), 10**30).map(str)
    | st.uuids().map(str)
    | st.sampled_from(["openai", "nope", "", "1.5", "0", "101", "100", "\u0665", "-0"])
)
queries = st.dictionaries(
    st.sampled_from(["limit", "offset", "workspace_id", "provider"]) | st.text(max_size=8),
    query_values,
    max_size=5,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Emulator, str]]:
    with Emulator(seed=5).run_in_thread() as emu:
        auth = {"Authorization": f"Bearer {emu.management_key}"}
        body = json.dumps({"provider": "openai", "key": VALID_KEY}).encode()
        status, _, raw = sync_call(
            emu, "POST", "/byok", body=body, headers={**auth, "Content-Type": "application/json"}
        )
        assert status == 201
        yield emu, json.loads(raw)["data"]["id"]
        assert emu.stats.unexpected_errors == 0
        assert emu.stats.responses[400] > 0  # the input really was refused, not ignored


def assert_sane(
    emu: Emulator,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    content_type: str | None = None,
    query: dict[str, str] | None = None,
) -> int:
    headers = {"Authorization": f"Bearer {emu.management_key}"}
    if content_type:
        headers["Content-Type"] = content_type
    status, got_type, raw = sync_call(emu, method, path, body=body, query=query, headers=headers)
    assert status < 500, raw
    assert emu.stats.unexpected_errors == 0
    decoded: Any = json.loads(raw)
    if status >= 400:
        assert set(decoded) == {"error"}
        assert decoded["error"]["code"] == status
        assert isinstance(decoded["error"]["message"], str)
        assert decoded["error"]["message"]
    check_response(method, "/api/v1" + path.split("?")[0], query, status, got_type, raw)
    return status


@FUZZ
@given(body=json_bodies | raw_bodies, content_type=content_types, target=st.integers(0, 2))
def test_bodies(running: tuple[Emulator, str], body: bytes, content_type: str, target: int) -> None:
    emu, existing = running
    method, path = [
        ("POST", "/byok"),
        ("PATCH", f"/byok/{existing}"),
        ("PATCH", "/byok/11111111-2222-3333-4444-555555555555"),
    ][target]
    assert_sane(emu, method, path, body=body, content_type=content_type)


@FUZZ
@given(query=queries)
def test_list_queries(running: tuple[Emulator, str], query: dict[str, str]) -> None:
    emu, _ = running
    status = assert_sane(emu, "GET", "/byok", query=query)
    assert status in (200, 400)


@FUZZ
@given(
    method=st.sampled_from(["GET", "PATCH", "DELETE"]),
    key_id=st.text(max_size=40).map(lambda t: quote(t, safe=""))
    | st.uuids().map(str)
    | st.uuids().map(lambda u: str(u).upper()),
    body=st.none() | json_bodies,
)
def test_ids(running: tuple[Emulator, str], method: str, key_id: str, body: bytes | None) -> None:
    emu, _ = running
    content_type = "application/json" if body is not None else None
    status = assert_sane(emu, method, f"/byok/{key_id}", body=body, content_type=content_type)
    assert status in (200, 400, 404, 405)
