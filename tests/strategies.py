"""Hypothesis strategies for valid wire models, shared by the test modules."""

from __future__ import annotations

import string
from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st

from asyncbyok import UNSET, BYOKKey, CreateBYOKKeyRequest, ProviderSlug, UpdateBYOKKeyRequest

# Every nullable optional field of the requests, and the strategy for its value.
text = st.text(max_size=20)
hashes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
uuids = st.uuids().map(str)
known_providers = st.sampled_from(list(ProviderSlug))
# Open enum: a provider newer than this release is kept as a plain string.
providers = st.one_of(known_providers, st.just("new-provider"))
# A known region in other case ("Europe") is refused as a typo; any other string is sent.
regions = st.one_of(
    st.sampled_from(["global", "europe", "us"]),
    st.text(min_size=1, max_size=8).filter(
        lambda r: r.casefold() not in ("global", "europe", "us")
    ),
)

NULLABLE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.text(max_size=255),
    "allowed_models": st.lists(text, max_size=5),
    "allowed_user_ids": st.lists(text, max_size=5),
    "allowed_api_key_hashes": st.lists(hashes, min_size=1, max_size=3),
    "declared_region": regions,
    "declared_zdr": st.booleans(),
}
NOT_NULLABLE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "disabled": st.booleans(),
    "is_fallback": st.booleans(),
    "is_byok_only": st.booleans(),
    "is_required": st.booleans(),
}
raw_keys = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=60)


def three_states(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """UNSET (omitted), None (null) or a value."""
    return st.one_of(st.just(UNSET), st.none(), values)


def _optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(UNSET), values)


def _exclusive_flags(kwargs: dict[str, Any]) -> bool:
    return not (kwargs.get("is_byok_only") is True and kwargs.get("is_fallback") is True)


common_fields = st.fixed_dictionaries(
    {},
    optional={
        **{k: three_states(v) for k, v in NULLABLE_VALUES.items()},
        **{k: _optional(v) for k, v in NOT_NULLABLE_VALUES.items()},
    },
).filter(_exclusive_flags)

create_requests = st.builds(
    lambda common, provider, key, workspace: CreateBYOKKeyRequest(
        provider=provider, key=key, workspace_id=workspace, **common
    ),
    common_fields,
    known_providers,
    raw_keys,
    _optional(uuids),
)

update_requests = st.builds(
    lambda common, key: UpdateBYOKKeyRequest(key=key, **common),
    common_fields,
    _optional(raw_keys),
)

aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)
)

keys = st.builds(
    BYOKKey,
    id=uuids,
    provider=providers,
    label=st.text(max_size=12),
    created_at=aware_datetimes,
    workspace_id=three_states(uuids),
    name=three_states(st.text(max_size=255)),
    disabled=st.booleans(),
    is_fallback=st.booleans(),
    allowed_models=three_states(st.lists(text, max_size=3)),
    allowed_user_ids=three_states(st.lists(text, max_size=3)),
    allowed_api_key_hashes=three_states(st.lists(hashes, max_size=3)),
    sort_order=_optional(st.integers(0, 1000)),
    declared_region=three_states(regions),
    declared_zdr=three_states(st.booleans()),
    is_byok_only=st.booleans(),
    is_required=st.booleans(),
)
