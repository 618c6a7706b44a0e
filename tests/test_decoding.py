"""Tolerant decoding: every schema-valid body decodes, timestamps in every RFC 3339 form,
and one malformed credential never costs the call its answer or the page its other keys."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncbyok import UNSET, APIResponseValidationError, BYOKKey, BYOKKeyList, DeleteResult
from asyncbyok.codec import parse_datetime, read_timestamp, structure, unstructure
from asyncbyok.models import UndecodableItem, wire_fields
from asyncbyok.response import decode_response

from .openapi_spec import newest_spec, spec, validator
from .schema_strategies import from_schema
from .test_codec import NEWEST, OLDEST

UTC = timezone.utc
T0 = datetime(2025, 8, 24, 10, 30, tzinfo=UTC)

# --------------------------------------------------------------------- RFC 3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-08-24T10:30:00Z", T0),
        ("2025-08-24t10:30:00z", T0),
        ("2025-08-24 10:30:00Z", T0),
        ("2025-08-24T10:30:00+00:00", T0),
        ("2025-08-24T10:30:00-00:00", T0),
        ("2025-08-24T10:30:00", T0),  # no offset: read as UTC
        ("2025-08-24T12:30:00+02:00", T0),
        ("2025-08-24T05:00:00-05:30", T0),
        ("2025-08-24T16:15:00+0545", T0),
        ("2025-08-24T10:30:00.5Z", T0 + timedelta(microseconds=500_000)),
        ("2025-08-24T10:30:00.123Z", T0 + timedelta(microseconds=123_000)),
        ("2025-08-24T10:30:00.123456Z", T0 + timedelta(microseconds=123_456)),
        ("2025-08-24T10:30:00.123456789Z", T0 + timedelta(microseconds=123_456)),
        ("2025-08-24T10:30:00.000000000000001z", T0),
        ("2025-08-24T10:29:60Z", T0),  # a leap second: the next minute's first moment
        ("2016-12-31T23:59:60.5Z", datetime(2017, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)),
    ],
)
def test_every_rfc3339_form_parses(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is not None
    assert read_timestamp(text) == expected


def test_offsets_are_kept() -> None:
    parsed = parse_datetime("2025-08-24T05:00:00-05:30")
    assert parsed.utcoffset() == -timedelta(hours=5, minutes=30)
    assert parse_datetime("2025-08-24T10:30:00Z").tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2025-08-24",
        "2025-08-24T10:30Z",  # no seconds
        "2025-13-01T00:00:00Z",
        "2025-02-30T00:00:00Z",
        "2025-08-24T24:00:00Z",
        "2025-08-24T10:30:00+24:00",
        "2025-08-24T10:30:00.Z",
        "2025-08-24T10:30:00Z ",
        " 2025-08-24T10:30:00Z",
        "2025-08-24T10:30:00ZZ",
        "\uff12\uff10\uff12\uff15-08-24T10:30:00Z",  # full-width digits: not RFC 3339
        "9999-12-31T23:59:60Z",
    ],
)
def test_other_strings_are_not_timestamps(value: str) -> None:
    with pytest.raises(ValueError, match="not an RFC 3339 timestamp"):
        parse_datetime(value)
    assert read_timestamp(value) is None


@pytest.mark.parametrize("value", [None, 1724495400, 1.5, True, [], {}])
def test_values_that_are_not_strings_are_not_timestamps(value: Any) -> None:
    with pytest.raises(TypeError):
        parse_datetime(value)
    assert read_timestamp(value) is None


offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(timezones=offsets), st.sampled_from(["T", "t", " "]))
def test_any_aware_datetime_round_trips_through_its_iso_form(when: datetime, sep: str) -> None:
    text = when.isoformat(sep=sep)
    parsed = parse_datetime(text)
    assert parsed == when
    assert parsed.utcoffset() == when.utcoffset()
    assert parse_datetime(text.replace("+00:00", "Z").lower()) == when


# --------------------------------------------------------------------- created_at kept as sent


@pytest.mark.parametrize(
    "value", ["", "yesterday", 1724495400, None, ["x"], "2025-02-30T00:00:00Z"]
)
def test_a_created_at_that_is_not_a_timestamp_is_kept_not_fatal(value: Any) -> None:
    body = {**NEWEST, "created_at": value}
    key = decode_response(200, {}, json.dumps({"data": body}).encode(), BYOKKey, envelope=True)
    assert key.created_at is None
    assert key.created_at_raw == value
    assert key.extra == {}
    assert unstructure(key) == body  # what was sent, sent back


def test_a_readable_created_at_keeps_its_text_too() -> None:
    key = structure({**OLDEST, "created_at": "2025-08-24t12:30:00.1+02:00"}, BYOKKey)
    assert key.created_at == T0 + timedelta(microseconds=100_000)
    assert key.created_at_raw == "2025-08-24t12:30:00.1+02:00"
    assert unstructure(key)["created_at"] == "2025-08-24t12:30:00.1+02:00"


def test_a_missing_created_at_is_none_and_stays_missing() -> None:
    body = {k: v for k, v in OLDEST.items() if k != "created_at"}
    key = structure(body, BYOKKey)
    assert key.created_at is None
    assert key.created_at_raw is UNSET
    assert "created_at" not in unstructure(key)


def test_a_key_built_in_code_writes_its_created_at() -> None:
    key = BYOKKey(id="i", provider="openai", label="l", created_at=T0)
    assert unstructure(key)["created_at"] == "2025-08-24T10:30:00Z"
    assert key == structure(unstructure(key), BYOKKey)


# --------------------------------------------------------------------- pages with bad items


def _page(*items: Any, total: int | None = None) -> bytes:
    count = len(items) if total is None else total
    return json.dumps({"data": list(items), "total_count": count}).encode()


def test_one_malformed_key_never_loses_the_others() -> None:
    good = [{**NEWEST, "id": f"{n}" * 8 + NEWEST["id"][8:]} for n in range(1, 4)]
    no_id = {k: v for k, v in NEWEST.items() if k != "id"}
    bad_type = {**NEWEST, "disabled": "no"}
    odd_time = {**NEWEST, "created_at": "yesterday"}
    items = [good[0], 42, no_id, good[1], bad_type, "x", None, odd_time, good[2]]
    page = decode_response(200, {}, _page(*items), BYOKKeyList, envelope=False)

    assert [k.id for k in page.data] == [good[0]["id"], good[1]["id"], NEWEST["id"], good[2]["id"]]
    assert page.data[2].created_at is None
    assert page.data[2].created_at_raw == "yesterday"
    assert [u.index for u in page.undecodable] == [1, 2, 4, 5, 6]
    assert [u.raw for u in page.undecodable] == [42, no_id, bad_type, "x", None]
    assert all(isinstance(u, UndecodableItem) for u in page.undecodable)
    errors = {u.index: u.error for u in page.undecodable}
    assert "$.data[1]" in errors[1]
    assert "$.data[2].id" in errors[2]
    assert "$.data[4].disabled" in errors[4]
    assert page.undecodable[2].id == NEWEST["id"]  # still there to fetch or delete
    assert page.undecodable[1].id is None
    assert page.total_count == len(items)
    assert page.item_count == len(items)  # the next page starts after all of them
    assert unstructure(page) == json.loads(_page(*items))  # nothing lost, nothing moved


def test_a_page_that_is_not_a_page_is_still_an_error() -> None:
    for body in (b'{"data": {}, "total_count": 1}', b'{"data": []}', b"[]", b"nope"):
        with pytest.raises(APIResponseValidationError):
            decode_response(200, {}, body, BYOKKeyList, envelope=False)


def test_a_single_key_of_the_wrong_shape_is_an_error_naming_the_field() -> None:
    body = json.dumps({"data": {**OLDEST, "sort_order": "first"}}).encode()
    with pytest.raises(APIResponseValidationError, match=r"\$\.sort_order"):
        decode_response(200, {}, body, BYOKKey, envelope=True)


# --------------------------------------------------------------------- every spec-valid body

OPERATIONS = {  # operationId -> (model, enveloped)
    "getBYOKKey": (BYOKKey, True),
    "createBYOKKey": (BYOKKey, True),
    "updateBYOKKey": (BYOKKey, True),
    "listBYOKKeys": (BYOKKeyList, False),
    "deleteBYOKKey": (DeleteResult, False),
}


def _success_schema(doc: dict[str, Any], operation_id: str) -> dict[str, Any]:
    """The JSON schema of *operation_id*'s 2xx response, found through the spec's paths."""
    for path in doc["paths"].values():
        for operation in path.values():
            if operation.get("operationId") == operation_id:
                (status,) = [s for s in operation["responses"] if s.startswith("2")]
                schema: dict[str, Any] = operation["responses"][status]["content"][
                    "application/json"
                ]["schema"]
                return schema
    raise LookupError(operation_id)


def _check_key(body: dict[str, Any], key: BYOKKey) -> None:
    """*key* holds exactly what *body* said: known fields in place, the rest in ``extra``."""
    known = set(wire_fields(BYOKKey))
    assert key.extra == {k: v for k, v in body.items() if k not in known}
    assert key.created_at_raw == body["created_at"]
    assert key.created_at == read_timestamp(body["created_at"])
    wire = unstructure(key)
    assert {k: wire[k] for k in body} == body


@pytest.mark.parametrize("age", ["excerpt", "newest"])
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_schema_valid_body_decodes(operation_id: str, age: str, data: st.DataObject) -> None:
    doc = newest_spec() if age == "newest" else spec()
    schema = _success_schema(doc, operation_id)
    body = data.draw(from_schema(schema, doc))
    schema_name = schema["$ref"].rsplit("/", 1)[1]
    validator(schema_name, newest=age == "newest").validate(body)  # the generator is honest

    cls, envelope = OPERATIONS[operation_id]
    decoded: Any = decode_response(
        200, {}, json.dumps(body).encode(), cls, envelope=envelope, method="GET", url="/byok"
    )
    if cls is BYOKKey:
        _check_key(body["data"], decoded)
    elif cls is BYOKKeyList:
        assert decoded.undecodable == []  # every spec-valid item is a credential
        assert len(decoded.data) == len(body["data"])
        for item, key in zip(body["data"], decoded.data, strict=True):
            _check_key(item, key)
        assert decoded.total_count == body["total_count"]
    else:
        assert decoded.deleted is True
        assert decoded.extra == {k: v for k, v in body.items() if k != "deleted"}
