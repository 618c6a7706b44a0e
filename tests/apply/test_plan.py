"""make_plan: pure comparisons of a manifest with listed credentials."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from asyncbyok import UNSET, BYOKKey, ValidationError
from asyncbyok.apply import Create, Delete, FieldChange, Rotate, Update, make_plan
from asyncbyok.apply.render import plan_to_json, render_plan

from .conftest import WS_A, WS_B, ManifestFactory

DEFAULT_WS = "0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0def"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
KEY_A = "sk-proj-aaaa0000AbCd"  # label sk-...AbCd
KEY_B = "sk-proj-bbbb0000WxYz"  # label sk-...WxYz
_ids = iter(range(1, 10_000))


def server_key(name: str | None, **fields: Any) -> BYOKKey:
    n = next(_ids)
    values: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "provider": "openai",
        "label": "sk-...AbCd",
        "created_at": T0 + timedelta(seconds=n),
        "workspace_id": WS_A,
        "name": name,
        "allowed_models": None,
        "allowed_user_ids": None,
        "allowed_api_key_hashes": None,
    }
    values.update(fields)
    return BYOKKey(**values)


ONE = f"""\
defaults: {{provider: openai, workspace_id: {WS_A}}}
keys:
  - name: prod
    key_env: A
    allowed_models: [openai/gpt-4o, openai/o3]
"""


def test_everything_created_from_empty(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    plan = make_plan(m, [])
    assert plan.creates == (Create(desired=m.keys[0]),)
    assert plan.counts() == {"create": 1, "update": 0, "rotate": 0, "delete": 0, "unchanged": 0}


def test_matching_credential_is_unchanged(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    # Allowlists are sets: order does not matter. Unmanaged fields may differ freely.
    existing = server_key("prod", allowed_models=["openai/o3", "openai/gpt-4o"], disabled=True)
    plan = make_plan(m, [existing])
    assert plan.is_empty
    assert plan.unchanged == 1


def test_update_lists_only_managed_fields_with_null_apart(manifest: ManifestFactory) -> None:
    m = manifest(
        f"""\
        defaults: {{provider: openai, workspace_id: {WS_A}}}
        keys:
          - name: prod
            key_env: A
            allowed_models: null
            disabled: true
        """,
        env={"A": KEY_A},
    )
    existing = server_key("prod", allowed_models=["openai/gpt-4o"], allowed_user_ids=["u1"])
    plan = make_plan(m, [existing])
    (update,) = plan.updates
    assert isinstance(update, Update)
    assert update.changes == (
        FieldChange("allowed_models", ["openai/gpt-4o"], None),
        FieldChange("disabled", False, True),
    )
    body = update.request()
    assert body.allowed_models is None  # sent as null
    assert body.allowed_user_ids is UNSET  # omitted in the manifest: not sent at all
    assert body.key is UNSET


def test_field_the_server_does_not_send_is_a_change(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    plan = make_plan(m, [server_key("prod", allowed_models=UNSET)])
    (update,) = plan.updates
    assert update.changes[0].old is UNSET
    text = render_plan(plan)
    assert 'allowed_models: (not sent) -> ["openai/gpt-4o", "openai/o3"]' in text
    assert "old" not in plan_to_json(plan)["changes"][0]["changes"][0]


def test_rotation_when_the_label_does_not_match(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_B})  # the manifest now points at another key
    existing = server_key("prod", allowed_models=["openai/gpt-4o"])
    plan = make_plan(m, [existing])
    (rotate,) = plan.rotations
    assert isinstance(rotate, Rotate)
    assert not plan.updates
    assert rotate.reason == "label sk-...AbCd does not match the key from env A"
    # One PATCH: the key and the field change together.
    body = rotate.request()
    assert body.key == KEY_B
    assert body.allowed_models == ["openai/gpt-4o", "openai/o3"]


def test_label_that_tells_nothing_rotates_only_when_forced(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    existing = server_key("prod", label="opaque", allowed_models=["openai/gpt-4o", "openai/o3"])
    plan = make_plan(m, [existing])
    assert plan.is_empty
    assert plan.unchanged == 1
    assert "label that does not show whether the key changed" in plan.warnings[0]
    forced = make_plan(m, [existing], force_rotate=True)
    assert [r.reason for r in forced.rotations] == ["forced"]
    assert forced.rotations[0].changes == ()


def test_prune_only_with_the_flag_and_only_in_managed_scopes(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    keep = server_key("prod", allowed_models=["openai/gpt-4o", "openai/o3"])
    stray = server_key("old-prod")
    unnamed = server_key(None)
    other_provider = server_key("x", provider="anthropic")
    other_workspace = server_key("x", workspace_id=WS_B)
    existing = [keep, stray, unnamed, other_provider, other_workspace]

    assert make_plan(m, existing).is_empty
    plan = make_plan(m, existing, prune=True)
    assert [(d.current.id, d.reason) for d in plan.deletes] == [
        (stray.id, "not in the manifest"),
        (unnamed.id, "not in the manifest"),
    ]


def test_duplicates_keep_the_oldest(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    models = {"allowed_models": ["openai/gpt-4o", "openai/o3"]}
    oldest = server_key("prod", **models)
    newer = server_key("prod", **models)
    plan = make_plan(m, [newer, oldest])
    assert plan.is_empty
    assert plan.unchanged == 1
    assert plan.warnings == (
        f"openai/prod @ {WS_A}: 1 duplicate credential(s) besides {oldest.id} (kept, the "
        f"oldest): {newer.id}; run with --prune to delete them",
    )
    pruned = make_plan(m, [newer, oldest], prune=True)
    assert pruned.deletes == (Delete(current=newer, reason=f"duplicate of {oldest.id}"),)


def test_a_duplicate_with_an_unreadable_time_counts_as_the_newest(
    manifest: ManifestFactory,
) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    models = {"allowed_models": ["openai/gpt-4o", "openai/o3"]}
    dated = server_key("prod", **models)
    undated = server_key("prod", created_at=None, created_at_raw="yesterday", **models)
    pruned = make_plan(m, [undated, dated], prune=True)  # no TypeError comparing None
    assert pruned.deletes == (Delete(current=undated, reason=f"duplicate of {dated.id}"),)


def test_default_workspace_entries(manifest: ManifestFactory) -> None:
    m = manifest("keys: [{name: prod, provider: openai, key_env: A}]", env={"A": KEY_A})
    existing = [server_key("prod", workspace_id=DEFAULT_WS)]
    assert make_plan(m, existing, default_workspace_id=DEFAULT_WS).unchanged == 1
    # Unknown default workspace (nothing listed there): match nothing, never guess.
    assert len(make_plan(m, existing).creates) == 1


def test_same_credential_listed_twice_counts_once(manifest: ManifestFactory) -> None:
    m = manifest(ONE, env={"A": KEY_A})
    key = server_key("prod", allowed_models=["openai/gpt-4o", "openai/o3"])
    plan = make_plan(m, [key, key], prune=True)
    assert plan.is_empty
    assert not plan.warnings


def test_rendering_shows_null_and_never_a_raw_key(manifest: ManifestFactory) -> None:
    m = manifest(
        f"""\
        defaults: {{provider: openai, workspace_id: {WS_A}}}
        keys:
          - {{name: prod, key_env: A, allowed_models: null}}
          - {{name: new, key_env: A, allowed_models: [m1]}}
          - {{name: rot, key_env: B}}
        """,
        env={"A": KEY_A, "B": KEY_B},
    )
    existing = [server_key("prod", allowed_models=["m1"]), server_key("rot"), server_key("gone")]
    plan = make_plan(m, existing, prune=True)
    text = render_plan(plan)
    assert text.splitlines() == [
        f"+ create openai/new @ {WS_A}",
        "    key: env A",
        '    allowed_models: ["m1"]',
        f"~ update openai/prod ({existing[0].id})",
        '    allowed_models: ["m1"] -> null',
        f"↻ rotate openai/rot ({existing[1].id}): label sk-...AbCd does not match the key "
        "from env B",
        f"- delete openai/gone ({existing[2].id}): not in the manifest",
        "Plan: 1 to create, 1 to update, 1 to rotate, 1 to delete; 0 unchanged.",
    ]
    data = plan_to_json(plan)
    assert data["counts"] == {"create": 1, "update": 1, "rotate": 1, "delete": 1, "unchanged": 0}
    assert data["changes"][1]["changes"] == [
        {"field": "allowed_models", "old": ["m1"], "new": None}
    ]
    dumped = json.dumps(data) + text
    assert KEY_A not in dumped
    assert KEY_B not in dumped


def test_empty_plan_text(manifest: ManifestFactory) -> None:
    plan = make_plan(manifest("keys: []"), [])
    assert render_plan(plan).splitlines()[0] == "No changes: the server matches the manifest."


KEEP = f"""\
missing_keys: keep
defaults: {{provider: openai, workspace_id: {WS_A}}}
keys:
  - {{name: prod, key_env: UNSET_A, allowed_models: [openai/gpt-4o], disabled: false}}
  - {{name: batch, key_env: UNSET_B}}
"""


def test_missing_keys_keep_manages_fields_and_never_rotates(manifest: ManifestFactory) -> None:
    m = manifest(KEEP, env={})
    prod, batch = m.keys
    assert prod.key_missing == "environment variable UNSET_A is not set"
    assert batch.key_missing == "environment variable UNSET_B is not set"
    assert prod.key_source == "env UNSET_A (not set)"
    with pytest.raises(ValueError, match="no key"):
        _ = prod.raw_key
    existing = [
        server_key("prod", label="sk-...Zzzz", allowed_models=["openai/gpt-4o"], disabled=True),
        server_key("batch", label="sk-...Zzzz"),
    ]
    # The labels match no key (none is at hand): still no rotation, even when forced.
    for force in (False, True):
        plan = make_plan(m, existing, force_rotate=force)
        assert plan.rotations == ()
        (update,) = plan.updates
        assert update.changes == (FieldChange("disabled", True, False),)
        assert "key" not in attrs.asdict(update.request(), filter=lambda a, v: v is not UNSET)
        assert plan.unchanged == 1
        assert "2 credential(s) have no key at hand" in plan.warnings[-1]


def test_missing_keys_keep_refuses_to_create_without_a_key(manifest: ManifestFactory) -> None:
    m = manifest(KEEP, env={"UNSET_B": KEY_B})
    with pytest.raises(ValidationError) as info:
        make_plan(m, [server_key("batch")])
    assert [(e.path, e.message) for e in info.value.errors] == [
        ("keys[0]", f"cannot create openai/prod @ {WS_A}: its key is not at hand "
         "(environment variable UNSET_A is not set)"),
    ]  # fmt: skip
    # Without `keep` (the default), an unset variable is a manifest error, as ever.
    with pytest.raises(ValidationError, match="UNSET_A is not set"):
        manifest(KEEP.replace("missing_keys: keep\n", ""), env={})
