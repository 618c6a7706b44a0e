"""Request validation: every limit of the excerpt, named by field, before anything is sent."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import attrs
import pytest

from asyncbyok import (
    UNSET,
    BYOKKey,
    CreateBYOKKeyRequest,
    ProviderSlug,
    UpdateBYOKKeyRequest,
    ValidationError,
)
from asyncbyok._constants import ALLOWLIST_MAX_ITEMS, NAME_MAX_LENGTH
from asyncbyok.models import request_fields

VALID = {"provider": "openai", "key": "sk-proj-abc123"}
HASH = "a" * 64


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"key": ""}, "key"),
        ({"key": None}, "key"),
        ({"key": 123}, "key"),
        ({"provider": ""}, "provider"),
        ({"provider": None}, "provider"),
        ({"name": "x" * 256}, "name"),
        ({"name": 7}, "name"),
        ({"allowed_models": ["m"] * 101}, "allowed_models"),
        ({"allowed_models": "gpt-4o"}, "allowed_models"),
        ({"allowed_models": ["ok", 3]}, "allowed_models[1]"),
        ({"allowed_user_ids": ["u"] * 101}, "allowed_user_ids"),
        ({"allowed_api_key_hashes": []}, "allowed_api_key_hashes"),
        ({"allowed_api_key_hashes": [HASH] * 101}, "allowed_api_key_hashes"),
        ({"allowed_api_key_hashes": [HASH, "A" * 64]}, "allowed_api_key_hashes[1]"),
        ({"allowed_api_key_hashes": ["abc"]}, "allowed_api_key_hashes[0]"),
        ({"workspace_id": "not-a-uuid"}, "workspace_id"),
        ({"workspace_id": None}, "workspace_id"),
        ({"is_byok_only": True, "is_fallback": True}, "is_byok_only"),
        ({"declared_region": 5}, "declared_region"),
        ({"declared_zdr": "yes"}, "declared_zdr"),
        ({"disabled": None}, "disabled"),
        ({"disabled": 1}, "disabled"),
        ({"is_required": None}, "is_required"),
    ],
)
def test_create_rejects_invalid_input_naming_the_field(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        CreateBYOKKeyRequest(**{**VALID, **kwargs})
    assert info.value.paths == [path]
    assert str(info.value).startswith("1 invalid field in CreateBYOKKeyRequest")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"key": ""}, "key"),
        ({"key": None}, "key"),
        ({"name": "x" * 256}, "name"),
        ({"allowed_api_key_hashes": []}, "allowed_api_key_hashes"),
        ({"is_byok_only": True, "is_fallback": True}, "is_byok_only"),
        ({"is_fallback": None}, "is_fallback"),
    ],
)
def test_update_rejects_invalid_input_naming_the_field(kwargs: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        UpdateBYOKKeyRequest(**kwargs)
    assert info.value.paths == [path]


def test_all_errors_are_reported_together() -> None:
    with pytest.raises(ValidationError) as info:
        CreateBYOKKeyRequest(provider="openai", key="", name="x" * 256, workspace_id="w")
    assert sorted(info.value.paths) == ["key", "name", "workspace_id"]
    assert "3 invalid fields" in str(info.value)


def test_limits_are_inclusive() -> None:
    CreateBYOKKeyRequest(
        **VALID,
        name="x" * NAME_MAX_LENGTH,
        allowed_models=["m"] * ALLOWLIST_MAX_ITEMS,
        allowed_api_key_hashes=[HASH] * ALLOWLIST_MAX_ITEMS,
        workspace_id="550E8400-E29B-41D4-A716-446655440000",
        is_byok_only=True,
        is_fallback=False,
    )


def test_the_raw_key_never_shows() -> None:
    secret = "sk-live-CANARY-0123456789"
    req = CreateBYOKKeyRequest(provider="openai", key=secret, name="n")
    upd = UpdateBYOKKeyRequest(key=secret)
    for text in (repr(req), str(req), repr(upd), str(upd), repr(attrs.evolve(req, name=None))):
        assert secret not in text
        assert "<redacted>" in text
    with pytest.raises(ValidationError) as info:
        CreateBYOKKeyRequest(provider="", key=secret + "x" * 10_000, name=secret * 20)
    assert secret not in str(info.value)
    assert secret not in repr(info.value)
    assert "UNSET" in repr(UpdateBYOKKeyRequest()).split("key=")[1].split(",")[0]


def test_requests_are_frozen_and_comparable() -> None:
    req = CreateBYOKKeyRequest(**VALID, name="prod")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        req.name = "other"  # type: ignore[misc]
    assert req == CreateBYOKKeyRequest(provider=ProviderSlug.OPENAI, key=VALID["key"], name="prod")
    assert UpdateBYOKKeyRequest().is_empty()
    assert not UpdateBYOKKeyRequest(name=None).is_empty()


def test_unset_is_one_falsy_singleton_that_survives_copies() -> None:
    assert not UNSET
    assert repr(UNSET) == "UNSET"
    assert copy.copy(UNSET) is UNSET
    assert copy.deepcopy(UNSET) is UNSET
    assert pickle.loads(pickle.dumps(UNSET)) is UNSET
    assert UNSET is not None
    req = UpdateBYOKKeyRequest(name=None)
    assert pickle.loads(pickle.dumps(req)) == req


def test_models_pickle() -> None:
    from asyncbyok.codec import structure

    from .test_codec import NEWEST

    key = structure(NEWEST, BYOKKey)
    assert pickle.loads(pickle.dumps(key)) == key


KEY_CANARY = "sk-live-CANARY-0123456789"


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (KEY_CANARY + "\n", "white space"),
        (KEY_CANARY + "\r\n", "white space"),
        (" " + KEY_CANARY, "white space"),
        ("\t" + KEY_CANARY + " ", "white space"),
        ("   ", "only white space"),
        ("\n", "only white space"),
    ],
)
def test_keys_with_surrounding_white_space_are_refused_unechoed(key: str, why: str) -> None:
    for build in (
        lambda: CreateBYOKKeyRequest(provider="openai", key=key),
        lambda: UpdateBYOKKeyRequest(key=key),
    ):
        with pytest.raises(ValidationError) as info:
            build()
        assert info.value.paths == ["key"]
        assert why in str(info.value)
        assert KEY_CANARY not in str(info.value)
        assert KEY_CANARY not in repr(info.value)


def test_white_space_inside_a_key_is_the_key() -> None:
    assert UpdateBYOKKeyRequest(key="part one part two").key == "part one part two"


def test_request_fields_is_the_field_table() -> None:
    create = {f.name: f for f in request_fields(CreateBYOKKeyRequest)}
    update = {f.name: f for f in request_fields(UpdateBYOKKeyRequest)}
    assert list(create) == [a.name for a in attrs.fields(CreateBYOKKeyRequest)]
    assert list(create)[:2] == ["provider", "key"]
    assert next(iter(update)) == "key"
    assert [n for n, f in create.items() if f.required] == ["provider", "key"]
    assert not any(f.required for f in update.values())
    # Both share one declaration of every field but create's own.
    assert set(create) - set(update) == {"provider", "workspace_id"}
    assert set(update) <= set(create)
    for name, field in update.items():
        assert field.nullable == _takes_null(name), name
        assert field.doc
    assert create["key"].kind == update["key"].kind == "secret"
    assert create["workspace_id"].kind == "uuid"
    assert {f.name for f in create.values() if f.since == "newest"} == {
        "declared_region",
        "declared_zdr",
        "is_byok_only",
        "is_required",
    }
    assert update["disabled"].omitted is False
    assert update["allowed_models"].omitted is None


def _takes_null(name: str) -> bool:
    try:
        UpdateBYOKKeyRequest(**{name: None})
    except ValidationError:
        return False
    return True


def test_every_request_setting_is_a_response_field() -> None:
    # The response model is its own table (other types and defaults), but it holds every
    # field a request sets: the emulator builds keys from records through these names.
    response = attrs.fields_dict(BYOKKey)
    for field in request_fields(UpdateBYOKKeyRequest):
        if field.name != "key":
            assert field.name in response
