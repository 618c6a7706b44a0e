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
        name="x" * 255,
        allowed_models=["m"] * 100,
        allowed_api_key_hashes=[HASH] * 100,
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
