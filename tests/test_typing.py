"""What type checkers see: the plain methods return the parsed types, the raw ones the
responses around them, and the SyncClient the same without ``await`` (``mypy --strict`` on
a small program, as a user's code would be checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """\
from typing_extensions import assert_type  # typing's, from Python 3.11

import asyncbyok
from asyncbyok import APIResponse, BYOKKey, BYOKKeyList, EnsureResult, KeyMatches
from asyncbyok.bulk import CreateResult
from asyncbyok.ensure import EnsureOutcome


async def plain(client: asyncbyok.Client, key_id: str) -> None:
    assert_type(await client.byok.create(provider="openai", key="k", name="n"), BYOKKey)
    assert_type(await client.byok.get(key_id), BYOKKey)
    assert_type(await client.byok.update(key_id, disabled=True), BYOKKey)
    assert_type(await client.byok.list_page(), BYOKKeyList)
    assert_type(await client.byok.create_many([]), list[CreateResult])
    assert_type(await client.byok.ensure(provider="openai", name="n"), EnsureResult)
    assert_type(await client.byok.ensure_many([]), list[EnsureOutcome])
    assert_type(await client.byok.get_by_name("n", provider="openai"), BYOKKey)
    assert_type(await client.byok.find_by_key("k", workspace_ids=[None]), KeyMatches)
    assert_type(await client.byok.with_raw_response.get(key_id), APIResponse[BYOKKey])
    assert_type(await client.byok.get(key_id, timeout=5, max_retries=0), BYOKKey)
    await client.byok.get(key_id, 1)  # E: too many positional arguments


def blocking(client: asyncbyok.SyncClient, key_id: str) -> None:
    assert_type(client.byok.get(key_id), BYOKKey)
    assert_type(client.byok.ensure(provider="openai", name="n"), EnsureResult)
    assert_type(client.byok.find_by_key("k"), KeyMatches)
"""


@pytest.mark.slow  # mypy takes a while to start
def test_mypy_sees_the_parsed_return_types(tmp_path: Path) -> None:
    program = tmp_path / "user_code.py"
    program.write_text(PROGRAM)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10", str(program)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    lines = [line for line in done.stdout.splitlines() if ": error:" in line]
    # Exactly the one error the program makes on purpose: every assert_type held.
    assert len(lines) == 1, done.stdout
    assert "Too many positional arguments" in lines[0], done.stdout
