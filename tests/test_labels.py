from __future__ import annotations

import pytest

from asyncbyok.labels import label_consistent


@pytest.mark.parametrize(
    ("label", "raw", "expected"),
    [
        ("sk-...AbCd", "sk-proj-0000AbCd", True),
        ("sk-...AbCd", "sk-proj-0000WxYz", False),
        ("sk-...AbCd", "pk-proj-0000AbCd", False),
        ("sk-…AbCd", "sk-proj-0000AbCd", True),
        ("****AbCd", "anything-AbCd", True),
        ("...Cd", "ab", False),
        ("...cd", "abcd", True),
        ("AbCd", "sk-AbCd", None),
        ("...", "x", None),
    ],
)
def test_label_consistency(label: str, raw: str, expected: bool | None) -> None:
    assert label_consistent(label, raw) is expected


def test_overlapping_ends_are_not_consistent() -> None:
    # "sk-...k-x" would need 6 characters, the key has 4
    assert label_consistent("sk-...k-x", "sk-x") is False
