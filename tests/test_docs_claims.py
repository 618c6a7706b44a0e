"""Sentences of the guides that state a default or a behaviour, checked against the code
(the samples run in test_docs.py; these are claims in prose)."""

from __future__ import annotations

import re
from pathlib import Path

import asyncbyok

GUIDES = Path(__file__).resolve().parent.parent / "docs" / "guides"


def paragraph_with(page: str, words: str) -> str:
    text = (GUIDES / page).read_text(encoding="utf-8")
    found = [p for p in text.split("\n\n") if words in " ".join(p.split())]
    assert found, f"{page} no longer says {words!r}"
    return " ".join(found[0].split())


def test_the_services_guide_states_the_default_timeouts() -> None:
    said = paragraph_with("services.md", "The client has timeouts of its own")
    default = asyncbyok.Timeout()
    connect = re.search(r"(\d+) s to connect", said)
    total = re.search(r"(\d+) s in all", said)
    assert connect is not None
    assert total is not None
    assert float(connect.group(1)) == default.connect
    assert float(total.group(1)) == default.total
    # It promised "30 s of silence" while the default read timeout is None.
    assert "of silence" not in said
    assert default.read is None
    assert "no separate limit on silence" in said


def test_the_bulk_guide_says_plan_can_exit_3() -> None:
    said = paragraph_with("bulk-and-apply.md", "whether or not there are changes")
    assert "--exit-code" in said
    assert "`3` when something would change" in said
