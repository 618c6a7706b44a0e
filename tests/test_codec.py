"""The codec: omit versus null on the wire, round trips, and tolerant response decoding."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from asyncbyok import (
    UNSET,
    BYOKKey,
    BYOKKeyList,
    CreateBYOKKeyRequest,
    DeclaredRegion,
    DeleteResult,
    ProviderSlug,
    UpdateBYOKKeyRequest,
    ValidationError,
)
from asyncbyok.codec import dumps, make_converter, structure, unstructure
from asyncbyok.emulator.parsing import parse_request

from . import strategies as s
from .openapi_spec import validator

CREATE_SCHEMA = validator("CreateBYOKKeyRequest")
UPDATE_SCHEMA = validator("UpdateBYOKKeyRequest")
KEY_SCHEMA = validator("BYOKKey")


@given(s.create_requests)
def test_create_json_validates_against_the_spec_and_round_trips(req: CreateBYOKKeyRequest) -> None:
    wire = json.loads(dumps(req))
    CREATE_SCHEMA.validate(wire)
    assert structure(wire, CreateBYOKKeyRequest) == req


@given(s.update_requests)
def test_update_json_validates_against_the_spec_and_round_trips(req: UpdateBYOKKeyRequest) -> None:
    wire = json.loads(dumps(req))
    UPDATE_SCHEMA.validate(wire)
    assert structure(wire, UpdateBYOKKeyRequest) == req


@pytest.mark.parametrize("field", sorted(s.NULLABLE_VALUES))
@given(data=st.data())
def test_each_nullable_field_has_three_wire_states(field: str, data: st.DataObject) -> None:
    value = data.draw(s.NULLABLE_VALUES[field])
    required: dict[type, dict[str, str]] = {
        CreateBYOKKeyRequest: {"provider": "openai", "key": "sk-x"},
        UpdateBYOKKeyRequest: {},
    }
    for cls, extra in required.items():
        assert field not in unstructure(cls(**extra))
        assert field not in unstructure(cls(**extra, **{field: UNSET}))
        null = unstructure(cls(**extra, **{field: None}))
        assert field in null
        assert null[field] is None
        sent = json.loads(dumps(cls(**extra, **{field: value})))[field]
        assert sent == value


@pytest.mark.parametrize("field", sorted(s.NOT_NULLABLE_VALUES))
def test_not_nullable_fields_are_omitted_or_sent_never_null(field: str) -> None:
    assert field not in unstructure(UpdateBYOKKeyRequest())
    assert unstructure(UpdateBYOKKeyRequest(**{field: False})) == {field: False}
    with pytest.raises(ValidationError) as info:
        UpdateBYOKKeyRequest(**{field: None})
    assert info.value.paths == [field]
    assert "null" in str(info.value)


def test_enums_are_sent_as_their_strings() -> None:
    req = CreateBYOKKeyRequest(provider=ProviderSlug.OPENAI, key="k", declared_region="europe")
    wire = unstructure(req)
    assert type(wire["provider"]) is str
    assert type(wire["declared_region"]) is str
    assert wire == {"provider": "openai", "key": "k", "declared_region": "europe"}
    assert req.declared_region is DeclaredRegion.EUROPE


def test_open_enums_keep_unknown_strings() -> None:
    req = CreateBYOKKeyRequest(provider="brand-new-lab", key="k", declared_region="mars")
    assert req.provider == "brand-new-lab"
    assert req.declared_region == "mars"
    assert unstructure(req)["provider"] == "brand-new-lab"
    assert f"{ProviderSlug.AMAZON_BEDROCK}" == "amazon-bedrock"


@given(s.keys)
def test_key_round_trips_and_validates(key: BYOKKey) -> None:
    wire = json.loads(json.dumps(unstructure(key)))
    assert structure(wire, BYOKKey) == key
    required_by_excerpt = {"allowed_models", "allowed_user_ids", "allowed_api_key_hashes"}
    required_by_excerpt |= {"workspace_id", "sort_order"}
    if required_by_excerpt <= wire.keys() and key.provider in set(ProviderSlug):
        KEY_SCHEMA.validate(wire)


# --- responses from servers of every age (NOTES.md) -------------------------------------

OLDEST: dict[str, Any] = {
    "id": "11111111-2222-3333-4444-555555555555",
    "provider": "openai",
    "workspace_id": "550e8400-e29b-41d4-a716-446655440000",
    "label": "sk-...AbCd",
    "name": "Production OpenAI Key",
    "disabled": False,
    "is_fallback": False,
    "allowed_models": None,
    "allowed_user_ids": ["user_1"],
    "sort_order": 0,
    "created_at": "2025-08-24T10:30:00Z",
}
EXCERPT = {**OLDEST, "allowed_api_key_hashes": ["f" * 64]}
NEWEST = {
    **EXCERPT,
    "declared_region": "europe",
    "declared_zdr": None,
    "is_byok_only": True,
    "is_required": False,
}


def test_decodes_the_oldest_shape_with_unset_for_what_it_lacks() -> None:
    key = structure(OLDEST, BYOKKey)
    assert key.allowed_api_key_hashes is UNSET
    assert key.declared_region is UNSET
    assert key.declared_zdr is UNSET
    assert key.is_byok_only is False  # documented default
    assert key.is_required is False
    assert key.allowed_models is None
    assert key.allowed_user_ids == ["user_1"]
    assert key.created_at == datetime(2025, 8, 24, 10, 30, tzinfo=timezone.utc)
    assert key.extra == {}


def test_decodes_the_excerpt_shape() -> None:
    key = structure(EXCERPT, BYOKKey)
    KEY_SCHEMA.validate(EXCERPT)
    assert key.allowed_api_key_hashes == ["f" * 64]
    assert key.declared_zdr is UNSET


def test_decodes_the_newest_shape() -> None:
    key = structure(NEWEST, BYOKKey)
    KEY_SCHEMA.validate(NEWEST)
    assert key.declared_region is DeclaredRegion.EUROPE
    assert key.declared_zdr is None
    assert key.is_byok_only is True
    assert unstructure(key) == NEWEST


def test_unknown_fields_are_kept_not_fatal() -> None:
    body = {**NEWEST, "provider": "future-lab", "declared_region": "antarctica"}
    body["rotation"] = {"n": 2}
    key = structure(body, BYOKKey)
    assert key.provider == "future-lab"
    assert key.declared_region == "antarctica"
    assert key.extra == {"rotation": {"n": 2}}
    assert unstructure(key) == body


def test_converters_are_made_not_mutated() -> None:
    # Two converters are independent: configuring one leaves the other (and the module's)
    # as it was.
    mine = make_converter()
    mine.register_unstructure_hook(DeleteResult, lambda _: {"mine": True})
    assert mine.unstructure(DeleteResult(deleted=True)) == {"mine": True}
    assert unstructure(DeleteResult(deleted=True)) == {"deleted": True}
    assert make_converter().structure(NEWEST, BYOKKey) == structure(NEWEST, BYOKKey)


def test_naive_and_offset_timestamps_become_aware() -> None:
    naive = structure({**OLDEST, "created_at": "2025-08-24T10:30:00"}, BYOKKey)
    offset = structure({**OLDEST, "created_at": "2025-08-24T12:30:00+02:00"}, BYOKKey)
    assert naive.created_at is not None
    assert naive.created_at.tzinfo is not None
    assert naive.created_at == offset.created_at


def test_list_page_and_delete_result() -> None:
    page = structure({"data": [OLDEST, NEWEST], "total_count": 7, "next": None}, BYOKKeyList)
    assert [k.id for k in page.data] == [OLDEST["id"]] * 2
    assert page.total_count == 7
    assert page.extra == {"next": None}
    assert structure({"deleted": True}, DeleteResult).deleted is True


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({**OLDEST, "disabled": "false"}, "$.disabled"),
        ({**OLDEST, "allowed_models": "gpt-4"}, "$.allowed_models"),
        ({**OLDEST, "sort_order": True}, "$.sort_order"),
        ({k: v for k, v in OLDEST.items() if k != "id"}, "$.id"),
        ({**OLDEST, "label": None}, "$.label"),
    ],
)
def test_malformed_responses_are_errors_naming_the_field(body: dict[str, Any], path: str) -> None:
    with pytest.raises(cattrs.ClassValidationError) as info:
        structure(body, BYOKKey)
    assert any(path in msg for msg in cattrs.transform_error(info.value))


# --- reading request bodies strictly (the emulator's side) -------------------------------


def test_parse_request_reports_every_problem_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        parse_request(CreateBYOKKeyRequest, {"name": 5, "colour": "red", "is_fallback": None})
    assert sorted(info.value.paths) == ["colour", "is_fallback", "key", "name", "provider"]


def test_parse_request_refuses_non_objects() -> None:
    with pytest.raises(ValidationError) as info:
        parse_request(UpdateBYOKKeyRequest, ["name"])
    assert info.value.paths == ["$"]
