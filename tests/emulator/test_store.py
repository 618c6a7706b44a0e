"""The store on its own: labels, digests, defaults, sort order, soft delete, the state file."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from pathlib import Path

import pytest

from asyncbyok import CreateBYOKKeyRequest, UpdateBYOKKeyRequest
from asyncbyok.emulator import Store, digest_key, mask_key
from asyncbyok.emulator.store import SETTINGS
from asyncbyok.labels import label_consistent
from asyncbyok.models import request_fields

WORKSPACE = "550e8400-e29b-41d4-a716-446655440000"
OTHER_WORKSPACE = "11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("sk-proj-0000AbCd", "sk-...AbCd"),
        ("123456789012", "123...9012"),
        ("12345678901", "...01"),
        ("abcd", "...cd"),
        ("abc", "..."),
        ("x", "..."),
    ],
)
def test_mask_key(raw: str, label: str) -> None:
    assert mask_key(raw) == label
    # The client's own check agrees with every label the emulator makes.
    assert label_consistent(label, raw) in (True, None)


def test_digest_is_sha256_hex() -> None:
    assert digest_key("sk-x") == hashlib.sha256(b"sk-x").hexdigest()
    assert len(digest_key("\ud800")) == 64  # a lone surrogate from JSON does not crash


def store(tmp_path: Path | None = None) -> Store:
    path = tmp_path / "state.json" if tmp_path else None
    return Store(default_workspace_id=WORKSPACE, path=path)


def create(s: Store, provider: str = "openai", **fields: object) -> str:
    return s.create(CreateBYOKKeyRequest(provider=provider, key="sk-raw-000000AbCd", **fields)).id  # type: ignore[arg-type]


def test_defaults_of_a_new_record() -> None:
    s = store()
    record = s.create(CreateBYOKKeyRequest(provider="openai", key="sk-raw-000000AbCd"))
    assert uuid.UUID(record.id).version == 4
    assert record.workspace_id == WORKSPACE
    assert (record.name, record.disabled, record.is_fallback) == (None, False, False)
    assert (record.allowed_models, record.allowed_user_ids, record.allowed_api_key_hashes) == (
        None,
        None,
        None,
    )
    assert (record.declared_region, record.declared_zdr) == (None, None)
    assert (record.is_byok_only, record.is_required, record.deleted) == (False, False, False)
    assert record.label == "sk-...AbCd"
    assert record.key_digest == digest_key("sk-raw-000000AbCd")
    assert "sk-raw-000000AbCd" not in repr(record)


def test_sort_order_per_provider_and_workspace_in_creation_order() -> None:
    s = store()
    a, b = create(s), create(s)
    c = create(s, "anthropic")
    d = create(s, workspace_id=OTHER_WORKSPACE)
    orders = {r.id: r.sort_order for r in s.records}
    assert [orders[a], orders[b], orders[c], orders[d]] == [0, 1, 0, 0]
    s.delete(b)
    # A deleted credential's position is not handed out again.
    assert s.get(create(s)).sort_order == 2  # type: ignore[union-attr]


def test_soft_delete_keeps_the_record_but_hides_it() -> None:
    s = store()
    key_id = create(s)
    assert s.delete(key_id)
    assert s.get(key_id) is None
    assert not s.delete(key_id)
    assert s.update(key_id, UpdateBYOKKeyRequest(name="x")) is None
    assert [r.deleted for r in s.records] == [True]
    assert s.live() == []
    assert s.page(workspace_id=WORKSPACE, provider=None, offset=0, limit=50) == ([], 0)


def test_update_rotates_and_sets_only_given_fields() -> None:
    s = store()
    key_id = create(s, name="prod", allowed_models=["a"])
    before = s.get(key_id)
    assert before is not None
    digest = before.key_digest
    s.update(key_id, UpdateBYOKKeyRequest(key="sk-new-0000000WxYz", allowed_models=None))
    after = s.get(key_id)
    assert after is not None
    assert after.key_digest != digest
    assert after.key_digest == digest_key("sk-new-0000000WxYz")
    assert after.label == "sk-...WxYz"
    assert (after.name, after.allowed_models) == ("prod", None)


def test_page_filters_and_counts() -> None:
    s = store()
    ids = [create(s, "openai" if i % 2 else "anthropic") for i in range(7)]
    create(s, workspace_id=OTHER_WORKSPACE)
    page, total = s.page(workspace_id=WORKSPACE, provider="openai", offset=1, limit=2)
    assert total == 3
    assert [r.id for r in page] == [ids[3], ids[5]]


def test_state_file_round_trip_without_raw_keys(tmp_path: Path) -> None:
    s = store(tmp_path)
    kept, gone = create(s, name="kept"), create(s)
    s.delete(gone)
    text = (tmp_path / "state.json").read_text()
    assert "sk-raw-000000AbCd" not in text
    assert json.loads(text)["default_workspace_id"] == WORKSPACE
    assert Store.saved_default_workspace(tmp_path / "state.json") == WORKSPACE

    again = store(tmp_path)
    assert [(r.id, r.deleted) for r in again.records] == [(kept, False), (gone, True)]
    assert again.records == s.records
    # Sort order continues after a restart.
    assert again.get(create(again)).sort_order == 2  # type: ignore[union-attr]
    assert list(tmp_path.iterdir()) == [tmp_path / "state.json"]  # no temporary files left


def test_state_file_of_another_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"version": 99, "records": []}')
    with pytest.raises(ValueError, match="unsupported"):
        store(tmp_path)


def test_records_store_every_request_setting_with_the_api_default() -> None:
    # The settings come from the request models: a field added there is stored here.
    names = [f.name for f in request_fields(UpdateBYOKKeyRequest) if f.name != "key"]
    assert list(SETTINGS) == names
    record = store().create(CreateBYOKKeyRequest(provider="openai", key="sk-raw-000000AbCd"))
    defaults = {f.name: f.omitted for f in request_fields(UpdateBYOKKeyRequest)[1:]}
    assert record.settings == defaults == SETTINGS
    with pytest.raises(AttributeError, match="colour"):
        record.colour  # noqa: B018


def test_a_state_file_from_before_a_field_loads_with_its_default(tmp_path: Path) -> None:
    s = store(tmp_path)
    key_id = create(s, name="old", is_byok_only=True)
    state = json.loads((tmp_path / "state.json").read_text())
    for record in state["records"]:
        del record["is_byok_only"]  # written by a release that did not know the field
    (tmp_path / "state.json").write_text(json.dumps(state))
    loaded = store(tmp_path).get(key_id)
    assert loaded is not None
    assert (loaded.name, loaded.is_byok_only) == ("old", False)


def test_seed_makes_a_big_account_without_requests_listed_by_scope() -> None:
    store = Store(default_workspace_id=WORKSPACE)
    store.seed(2_500, rng=random.Random(1))
    store.seed(10, provider="anthropic", workspace_id=OTHER_WORKSPACE, rng=random.Random(2))
    page, total = store.page(workspace_id=WORKSPACE, provider="openai", offset=2_400, limit=100)
    assert total == 2_500
    assert [r.name for r in page[:2]] == ["seed-openai-002400", "seed-openai-002401"]
    assert [r.sort_order for r in page[-2:]] == [2_498, 2_499]
    assert store.page(workspace_id=WORKSPACE, provider="anthropic", offset=0, limit=10)[1] == 0
    assert store.page(workspace_id=OTHER_WORKSPACE, provider=None, offset=0, limit=100)[1] == 10
    # Made long ago (no create of a client's can be mistaken for one), ids reproducible.
    assert all(r.created_at < page[-1].created_at for r in page[:-1])
    again = Store(default_workspace_id=WORKSPACE)
    again.seed(2_500, rng=random.Random(1))
    assert [r.id for r in again.live()] == [r.id for r in store.live()[:2_500]]
    # Creates go on after the seeded ones; deletes leave the listing at once.
    made = store.create(CreateBYOKKeyRequest(provider="openai", key="sk-proj-0000AbCd"))
    assert made.sort_order == 2_500
    store.delete(page[0].id)
    page, total = store.page(workspace_id=WORKSPACE, provider="openai", offset=2_399, limit=200)
    assert total == 2_500
    assert [r.name for r in page[:2]] == ["seed-openai-002399", "seed-openai-002401"]
    assert page[-1].id == made.id
