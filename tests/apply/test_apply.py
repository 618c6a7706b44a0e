"""apply against the emulator: from empty, idempotence, null vs omitted on the wire,
rotation, prune, partial failure and duplicates."""

from __future__ import annotations

import pytest

import asyncbyok
from asyncbyok.apply import ApplyResult, Manifest, Outcome, Plan, apply_manifest
from asyncbyok.emulator import Emulator, FaultConfig, Faults, digest_key

from .conftest import WS_A, WS_B, ManifestFactory

KEY_1 = "sk-proj-1111111111AbCd"
KEY_2 = "sk-proj-2222222222WxYz"

FLEET = f"""\
keys:
  - {{name: prod, provider: openai, workspace_id: {WS_A}, key_env: K1,
      allowed_models: [openai/gpt-4o]}}
  - {{name: batch, provider: openai, workspace_id: {WS_A}, key_env: K2, disabled: true}}
  - {{name: prod, provider: anthropic, workspace_id: {WS_A}, key_env: K1, allowed_models: null}}
  - {{name: other, provider: openai, workspace_id: {WS_B}, key_env: K2}}
  - {{name: default-ws, provider: groq, key_env: K1}}  # the account's default workspace
"""
ENV = {"K1": KEY_1, "K2": KEY_2}


async def apply(client: asyncbyok.Client, m: Manifest, **options: bool) -> tuple[Plan, ApplyResult]:
    return await apply_manifest(client, m, **options)


def live(emu: Emulator) -> list[tuple[str, str, str | None]]:
    return sorted((r.workspace_id, r.provider, r.name) for r in emu.store.live())


async def test_create_from_empty(
    emu: Emulator, client: asyncbyok.Client, manifest: ManifestFactory
) -> None:
    m = manifest(FLEET, env=ENV)
    seen: list[Outcome] = []
    plan, result = await apply_manifest(client, m, on_progress=seen.append)
    assert plan.counts()["create"] == 5
    assert result.ok
    assert result.created == 5
    assert len(seen) == 5
    assert live(emu) == sorted(
        [
            (WS_A, "openai", "prod"),
            (WS_A, "openai", "batch"),
            (WS_A, "anthropic", "prod"),
            (WS_B, "openai", "other"),
            (emu.default_workspace_id, "groq", "default-ws"),
        ]
    )
    creates = [body for op, body in emu.received if op == "create"]
    batch = next(b for b in creates if b["name"] == "batch")
    assert batch == {
        "provider": "openai",
        "key": "<redacted>",
        "name": "batch",
        "workspace_id": WS_A,
        "disabled": True,
    }
    record = next(r for r in emu.store.live() if r.name == "batch")
    assert record.key_digest == digest_key(KEY_2)


async def test_second_apply_changes_nothing_and_only_lists(
    emu: Emulator, client: asyncbyok.Client, manifest: ManifestFactory
) -> None:
    m = manifest(FLEET, env=ENV)
    await apply(client, m)
    emu.stats.clear()
    plan, result = await apply(client, m)
    assert plan.is_empty
    assert plan.unchanged == 5
    assert not plan.warnings
    assert result.outcomes == ()
    assert set(emu.stats.requests) == {"list"}  # zero requests besides listing
    assert emu.stats.requests["list"] == len(m.scopes)


async def test_null_and_omitted_fields_on_the_wire(
    emu: Emulator, client: asyncbyok.Client, manifest: ManifestFactory
) -> None:
    first = f"""\
        keys:
          - name: prod
            provider: openai
            workspace_id: {WS_A}
            key_env: K1
            allowed_models: [openai/gpt-4o]
            allowed_user_ids: [user-1]
            disabled: true
        """
    await apply(client, manifest(first, env=ENV))
    # allowed_models becomes null (no restriction); allowed_user_ids and disabled are left
    # out of the manifest: unmanaged, so not sent and not changed.
    second = f"""\
        keys:
          - name: prod
            provider: openai
            workspace_id: {WS_A}
            key_env: K1
            allowed_models: null
        """
    emu.received.clear()
    plan, result = await apply(client, manifest(second, env=ENV))
    assert plan.counts()["update"] == 1
    assert result.updated == 1
    assert [body for op, body in emu.received if op == "update"] == [{"allowed_models": None}]
    (record,) = emu.store.live()
    assert record.allowed_models is None
    assert record.allowed_user_ids == ["user-1"]
    assert record.disabled is True


async def test_rotation_detected_from_the_label(
    emu: Emulator, client: asyncbyok.Client, manifest: ManifestFactory
) -> None:
    text = f"keys: [{{name: prod, provider: openai, workspace_id: {WS_A}, key_env: K}}]"
    await apply(client, manifest(text, env={"K": KEY_1}))
    (before,) = emu.store.live()
    emu.received.clear()

    plan, result = await apply(client, manifest(text, env={"K": KEY_2}))
    assert [item.action for item in plan.items] == ["rotate"]
    assert result.rotated == 1
    assert [body for op, body in emu.received if op == "update"] == [{"key": "<redacted>"}]
    (after,) = emu.store.live()
    assert after.id == before.id
    assert after.key_digest == digest_key(KEY_2)
    assert after.label == "sk-...WxYz"
    # Rotated: the label now matches, so the next run is a no-op.
    again, _ = await apply(client, manifest(text, env={"K": KEY_2}))
    assert again.is_empty


async def test_prune_only_with_the_flag(
    emu: Emulator, client: asyncbyok.Client, manifest: ManifestFactory
) -> None:
    await apply(client, manifest(FLEET, env=ENV))
    stray = await client.byok.create(
        provider="openai", key=KEY_1, name="hand-made", workspace_id=WS_A
    )
    elsewhere = await client.byok.create(provider="mistral", key=KEY_1, workspace_id=WS_A)

    plan, _ = await apply(client, manifest(FLEET, env=ENV))
    assert plan.is_empty
    assert stray.id in {r.id for r in emu.store.live()}

    plan, result = await apply(client, manifest(FLEET, env=ENV), prune=True)
    assert [(d.action, d.current.id) for d in plan.deletes] == [("delete", stray.id)]
    assert result.deleted == 1
    ids = {r.id for r in emu.store.live()}
    assert stray.id not in ids
    assert elsewhere.id in ids


async def test_duplicates_from_an_earlier_crash_are_pruned(
    emu: Emulator, client: asyncbyok.Client, manifest: ManifestFactory
) -> None:
    text = f"keys: [{{name: prod, provider: openai, workspace_id: {WS_A}, key_env: K}}]"
    first = await client.byok.create(provider="openai", key=KEY_1, name="prod", workspace_id=WS_A)
    second = await client.byok.create(provider="openai", key=KEY_1, name="prod", workspace_id=WS_A)
    plan, _ = await apply(client, manifest(text, env={"K": KEY_1}))
    assert plan.is_empty
    assert second.id in plan.warnings[0]
    plan, result = await apply(client, manifest(text, env={"K": KEY_1}), prune=True)
    assert result.deleted == 1
    assert [r.id for r in emu.store.live()] == [first.id]


async def test_partial_failure_is_reported_and_a_rerun_converges(
    emu: Emulator, client: asyncbyok.Client, manifest: ManifestFactory
) -> None:
    keys = "\n".join(f"  - {{name: k{i:02d}, key_env: K1}}" for i in range(30))
    m = manifest(f"defaults: {{provider: openai, workspace_id: {WS_A}}}\nkeys:\n{keys}\n", env=ENV)
    # Some creates fail before storing anything, some after (the outcome is unknown).
    emu.faults = Faults({"create": FaultConfig(error_rate=0.2, commit_then_error_rate=0.2)})
    impatient = client.with_options(max_retries=0)  # shares the session: not closed here
    _, result = await apply(impatient, m)
    assert result.failed > 0
    assert result.created + result.failed == 30
    assert all(isinstance(o.error, asyncbyok.APIStatusError) for o in result.failures)
    stored = len(emu.store.live())
    assert result.created <= stored < 30

    emu.faults = None
    plan, result = await apply(client, m)
    assert result.ok
    assert plan.counts()["create"] == 30 - stored
    names = sorted(r.name or "" for r in emu.store.live())
    assert names == [f"k{i:02d}" for i in range(30)]  # one each, no duplicates


async def test_a_listing_with_unreadable_items_is_not_planned_over() -> None:
    # A credential this release can't read may be one the manifest manages: planning
    # without it could create a duplicate, so fetch_state refuses, naming the items.
    from asyncbyok import AsyncKeyPager, Page, UnreadableStateError
    from asyncbyok.apply import fetch_state, parse_manifest
    from asyncbyok.models import UndecodableItem

    bad = UndecodableItem(index=0, raw={"id": "k-1"}, error="$.data[0]: label is missing")

    async def fetch(offset: int, limit: int) -> Page:
        return Page(data=[], total_count=1, offset=offset, limit=limit, undecodable=[bad])

    class Byok:
        def list(self, **_: object) -> AsyncKeyPager:
            return AsyncKeyPager(fetch)

    class Stub:
        byok = Byok()

    manifest = parse_manifest(
        "version: 1\nkeys: [{name: a, provider: openai, key_env: K}]", env={"K": "sk-1-AbCd"}
    )
    with pytest.raises(UnreadableStateError) as info:
        await fetch_state(Stub(), manifest)  # type: ignore[arg-type]
    assert info.value.items == (bad,)
    assert "k-1" in str(info.value)
