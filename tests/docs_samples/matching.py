"""Comparing what the docs show with what really came out.

The docs show real output from a real run; a later run differs only in values that are
random or timed. Those are normalized on both sides before comparing:

- UUIDs are *bound*: the first time an id shown in the docs meets an id of the run, the
  two are tied for the rest of the page, so ``asyncbyok get <id shown earlier>`` runs with
  the real id, and an output that shows the same id twice must really repeat it;
- timestamps, ports, request ids, 64-hex-digit secrets, durations and rates (a decimal
  followed by ``s``, ``ms`` or ``/s``) and ``m:ss`` clocks become placeholders; runs of
  spaces become one (table columns widen with content);
- a line that is only ``...`` in the docs stands for any number of lines.
"""

from __future__ import annotations

import functools
import re

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RULES = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:<port>"),
    (re.compile(r"req_[0-9a-f]{16}"), "req_<id>"),
    (re.compile(r"[0-9a-f]{64}"), "<hex>"),
    (re.compile(r"\b\d+:\d\d\b"), "<clock>"),
    (re.compile(r"\d+\.\d+(?=\s?(?:m?s\b|/s))"), "<seconds>"),
    (re.compile(r"[ \t]+"), " "),
)
ELLIPSIS = "..."


class Mismatch(AssertionError):
    """The output differs from the docs."""


class Bindings:
    """Ids shown in the docs, tied to the ids of the run."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def substitute(self, text: str) -> str:
        """*text* (a command from the docs) with the ids of the run."""
        return UUID.sub(lambda m: self.ids.get(m.group(0), m.group(0)), text)

    def bind(self, expected: str, actual: str) -> None:
        """Tie the ids of *expected* to those of *actual*, in order of appearance."""
        shown, real = UUID.findall(_without_ellipsis(expected)), UUID.findall(actual)
        if ELLIPSIS not in expected.splitlines() and len(shown) != len(real):
            raise Mismatch(f"the docs show {len(shown)} ids, the run printed {len(real)}")
        for doc_id, run_id in zip(shown, real, strict=False):
            bound = self.ids.setdefault(doc_id, run_id)
            if bound != run_id:
                raise Mismatch(f"id {doc_id} stands for {bound} earlier, here for {run_id}")


def _without_ellipsis(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() != ELLIPSIS)


def normalize(text: str) -> str:
    """*text* with its random and timed values replaced by placeholders."""
    text = _ANSI.sub("", text)
    text = UUID.sub("<uuid>", text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def check(expected: str, actual: str, bindings: Bindings) -> None:
    """Raise :class:`Mismatch` unless *actual* is what the docs show as *expected*."""
    if ELLIPSIS not in expected.splitlines():
        bindings.bind(expected, actual)
    want, got = normalize(expected), normalize(actual)
    if not _lines_match(tuple(want.splitlines()), tuple(got.splitlines())):
        raise Mismatch(f"the docs show:\n{want}\n\nthe run printed:\n{got}")


def _lines_match(want: tuple[str, ...], got: tuple[str, ...]) -> bool:
    """Whether *got* matches *want*, where an ``...`` line matches any number of lines."""

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == ELLIPSIS:
            return match(i + 1, j) or (j < len(got) and match(i, j + 1))
        return j < len(got) and want[i] == got[j] and match(i + 1, j + 1)

    return match(0, 0)
