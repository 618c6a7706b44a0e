"""Running the emulator: in the current loop, in a thread, and across restarts."""

from __future__ import annotations

import json
import re
import socket
import threading
from pathlib import Path

import pytest

from asyncbyok import CreateBYOKKeyRequest
from asyncbyok.emulator import Emulator, FaultConfig, Faults
from asyncbyok.emulator.server import generate_key

from .conftest import VALID_KEY, Api, sync_call


def auth(emu: Emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.management_key}", "Content-Type": "application/json"}


async def test_address_and_generated_keys(emu: Emulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1", emu.base_url)
    assert emu.port > 0
    assert re.fullmatch(r"emulator-mgmt-[0-9a-f]{64}", emu.management_key)
    assert re.fullmatch(r"emulator-[0-9a-f]{64}", emu.api_key)
    assert emu.management_key != Emulator().management_key
    assert generate_key("") != generate_key("")


# What secret scanners match as an OpenRouter key (GitHub's and trufflehog's pattern), and
# the command's own notion of a provider key's shape.
OPENROUTER_KEY = re.compile(r"sk-or-v1-[0-9a-f]{64}")


def test_generated_keys_do_not_pass_for_openrouter_keys() -> None:
    """Was: sk-or-v1-mgmt-<64 hex> and sk-or-v1-<64 hex>, which scanners flag as leaks."""
    from asyncbyok.apply._keys import KEY_TOKEN

    for key in (generate_key("mgmt"), generate_key("")):
        assert not OPENROUTER_KEY.search(key)
        assert not key.startswith("sk-")
        assert not KEY_TOKEN.search(key)


async def test_given_keys_and_workspace() -> None:
    workspace = "550e8400-e29b-41d4-a716-446655440000"
    async with Emulator(
        management_keys=["m1", "m2"], api_keys=[], default_workspace_id=workspace
    ) as emu:
        assert (emu.management_key, emu.default_workspace_id) == ("m1", workspace)
        with pytest.raises(LookupError):
            _ = emu.api_key


async def test_bad_options_and_misuse() -> None:
    with pytest.raises(ValueError, match="api_version"):
        Emulator(api_version="future")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="management key"):
        Emulator(management_keys=[])
    emu = Emulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.base_url
    async with emu:
        with pytest.raises(RuntimeError, match="already running"):
            await emu.start()
    await emu.close()  # closing twice is fine


async def test_faults_given_as_one_config_apply_everywhere(api: Api, emu: Emulator) -> None:
    emu.faults = FaultConfig(error_rate=1.0, error_statuses=(503,))
    assert emu.faults == Faults({"*": FaultConfig(error_rate=1.0, error_statuses=(503,))})
    assert (await api.list()).status == 503


def test_run_in_thread_serves_sync_code_and_stops_cleanly() -> None:
    before = threading.active_count()
    with Emulator().run_in_thread() as emu:
        body = json.dumps({"provider": "openai", "key": VALID_KEY}).encode()
        status, _, raw = sync_call(emu, "POST", "/byok", body=body, headers=auth(emu))
        assert status == 201
        assert [r.id for r in emu.store.live()] == [json.loads(raw)["data"]["id"]]
        port = emu.port
    assert threading.active_count() == before
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


def test_thread_start_failure_is_raised_and_cleaned_up() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = threading.active_count()
        with (
            pytest.raises(OSError, match="address already in use"),
            Emulator(port=port).run_in_thread(),
        ):
            pass
        assert threading.active_count() == before


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with Emulator(state_file=state).run_in_thread() as first:
        body = json.dumps({"provider": "openai", "key": VALID_KEY, "name": "kept"}).encode()
        status, _, raw = sync_call(first, "POST", "/byok", body=body, headers=auth(first))
        assert status == 201
        created = json.loads(raw)["data"]
        workspace = first.default_workspace_id
    assert VALID_KEY not in state.read_text()
    with Emulator(state_file=state).run_in_thread() as second:
        assert second.default_workspace_id == workspace
        status, _, raw = sync_call(second, "GET", "/byok", headers=auth(second))
        assert (status, json.loads(raw)["data"]) == (200, [created])


async def test_seed_keys_make_a_big_account_that_reset_brings_back() -> None:
    async with Emulator(seed_keys={"openai": 300, "anthropic": 5}, seed=4) as emu:
        assert len(emu.store.live()) == 305
        ids = [r.id for r in emu.store.live()]
        emu.store.create(CreateBYOKKeyRequest(provider="openai", key="sk-proj-0000AbCd"))
        emu.reset()
        assert [r.id for r in emu.store.live()] == ids
        assert sum(emu.stats.requests.values()) == 0
