"""Comparing a raw provider key with the masked ``label`` the API shows for it.

The API never returns a raw key, only a ``label`` such as ``"sk-...AbCd"``: a few visible
characters from each end around a mask. The exact masking is the server's business, so
this module only reads the visible ends and answers with three states:

- ``True``: the raw key starts and ends with the label's visible characters;
- ``False``: it does not (the stored key is a different one);
- ``None``: the label has no recognisable mask, so nothing can be concluded.

It is a consistency check, not proof: two keys sharing their first and last characters
give the same label.
"""

from __future__ import annotations

import re

__all__ = ["label_consistent", "looks_like_label"]

# "sk-...AbCd", "sk-…AbCd", "sk-****AbCd", "••••AbCd"
_MASK = re.compile(r"^(?P<head>.*?)(?:\.{3,}|…|[*•]{2,})(?P<tail>.*)$", re.DOTALL)


def label_consistent(label: str, raw_key: str) -> bool | None:
    """Whether *label* could be the server's mask of *raw_key* (``None``: cannot tell).

    >>> label_consistent("sk-...AbCd", "sk-proj-0000AbCd")
    True
    >>> label_consistent("sk-...AbCd", "sk-proj-0000WxYz")
    False
    """
    match = _MASK.match(label)
    if match is None:
        return None
    head, tail = match["head"], match["tail"]
    if not head and not tail:
        return None
    return (
        len(raw_key) >= len(head) + len(tail)
        and raw_key.startswith(head)
        and raw_key.endswith(tail)
    )


# Labels are a few characters around a mask; a raw key that happens to hold "..." (a JSON
# service-account document) is far longer.
_LABEL_MAX_LENGTH = 64


def looks_like_label(text: str) -> bool:
    """Whether *text* has the shape of a label (visible ends around a mask), so that it
    cannot be the raw key it was given as.

    >>> looks_like_label("sk-...AbCd"), looks_like_label("sk-proj-0000AbCd")
    (True, False)
    """
    match = _MASK.match(text)
    return (
        match is not None
        and len(text) <= _LABEL_MAX_LENGTH
        and bool(match["head"] or match["tail"])
    )
