"""What reaches the server: omit versus null, checked on the emulator's side."""

from __future__ import annotations

from typing import Any

import pytest

from asyncbyok import Client, ValidationError
from asyncbyok.emulator import Emulator

# A value for every nullable field of UpdateBYOKKeyRequest.
VALUES: dict[str, Any] = {
    "name": "renamed",
    "allowed_models": ["openai/gpt-4o"],
    "allowed_user_ids": ["user_1"],
    "allowed_api_key_hashes": ["ab" * 32],
    "declared_region": "europe",
    "declared_zdr": True,
}


@pytest.mark.parametrize("field", sorted(VALUES))
async def test_update_sends_null_omits_unset_and_sends_values(
    client: Client, emulator: Emulator, field: str
) -> None:
    key = await client.byok.create(
        provider="openai", key="sk-proj-abcdefgh1234", **{field: VALUES[field]}
    )

    await client.byok.update(key.id, **{field: None})
    assert emulator.received[-1].body == {field: None}
    stored = emulator.store.get(key.id)
    assert stored is not None
    assert getattr(stored, field) is None

    await client.byok.update(key.id, disabled=True)
    assert emulator.received[-1].body == {"disabled": True}  # field left out...
    assert getattr(emulator.store.get(key.id), field) is None  # ...so left as is

    await client.byok.update(key.id, **{field: VALUES[field]})
    assert emulator.received[-1].body == {field: VALUES[field]}
    assert getattr(emulator.store.get(key.id), field) == VALUES[field]


async def test_create_sends_only_what_was_set(client: Client, emulator: Emulator) -> None:
    await client.byok.create(provider="openai", key="sk-proj-abcdefgh1234", allowed_models=None)
    assert emulator.received[-1].body == {
        "provider": "openai",
        "key": "<redacted>",  # the emulator never keeps the raw key
        "allowed_models": None,
    }


BAD_IDS = ["", ".", "..", "a/../b", "11111111-2222-3333-4444-555555555555\n", "key-1"]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_ids_that_are_not_uuids_send_nothing(
    client: Client, emulator: Emulator, bad: str
) -> None:
    for call in (
        lambda: client.byok.get(bad),
        lambda: client.byok.update(bad, name="x"),
        lambda: client.byok.delete(bad),
    ):
        with pytest.raises(ValidationError) as info:
            await call()
        assert info.value.paths == ["key_id"]
    with pytest.raises(ValidationError) as info:
        client.byok.list(workspace_id=bad)
    assert info.value.paths == ["workspace_id"]
    with pytest.raises(ValidationError) as info:
        await client.byok.create(provider="openai", key="sk-proj-abcdefgh1234", workspace_id=bad)
    assert info.value.paths == ["workspace_id"]
    assert sum(emulator.stats.requests.values()) == 0


@pytest.mark.parametrize("key", ["sk-proj-abcdefgh1234\n", " sk-proj-abcdefgh1234", "  "])
async def test_keys_with_surrounding_white_space_send_nothing(
    client: Client, emulator: Emulator, key: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.byok.create(provider="openai", key=key)
    assert info.value.paths == ["key"]
    assert key.strip() not in str(info.value) or not key.strip()
    assert sum(emulator.stats.requests.values()) == 0
