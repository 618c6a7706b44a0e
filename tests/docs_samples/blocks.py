"""The fenced code blocks of a Markdown page, with what the page says about each.

A block's role comes from its language, its ``title`` and an HTML comment on the line
before its fence:

- ``python``: a complete program, run with the emulator's address in the environment.
  A ``text`` block titled ``Output`` right after it is what the program prints.
- ``console``: a shell session. ``$`` lines are commands (a trailing ``\\`` continues
  one); the lines after a command are its output.
- a ``title`` that is a file name (``fleet.yaml``, ``test_keys.py``): the block is a file,
  written to the session's directory for later commands to use.
- ``<!-- not-run: reason -->``: shown only; the reason says why (a real account, a
  package download). Python is still compiled, and console commands still checked against
  ``asyncbyok --help``.
- ``<!-- requires: module -->``: run only where *module* can be imported.
- ``<!-- cwd: repo -->``: a console block run from the repository root (it names files of
  the repository, such as ``examples/fleet.yaml``).
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<info>.*)$")
_TITLE = re.compile(r'title="(?P<title>[^"]*)"')
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>[\w-]+)\s*:\s*(?P<value>.*?)\s*-->\s*$")
_FILE_NAME = re.compile(r"^[\w./-]+\.(py|ya?ml|json|toml|ini|cfg|txt)$")

#: Languages whose blocks are code someone may copy: each must run or say why not.
CODE_LANGUAGES = frozenset({"python", "py", "console", "sh", "shell", "bash", "yaml", "json"})


@attrs.frozen
class Block:
    """One fenced block."""

    page: Path
    line: int
    """1-based line of the opening fence."""
    lang: str
    text: str
    """The content, dedented to the fence's indentation."""
    title: str | None = None
    markers: dict[str, str] = attrs.field(factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"

    @property
    def is_file(self) -> bool:
        return self.title is not None and bool(_FILE_NAME.match(self.title))

    @property
    def is_output(self) -> bool:
        return self.lang == "text" and self.title == "Output"

    @property
    def not_run(self) -> str | None:
        return self.markers.get("not-run")


def read_blocks(page: Path) -> list[Block]:
    """Every fenced block of *page*, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence = len(match["indent"]), match["fence"]
        closing = re.compile(rf"^ {{0,{indent + 3}}}{fence[0]}{{{len(fence)},}}\s*$")
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not closing.match(lines[i]):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1  # the closing fence
        title = _TITLE.search(match["info"])
        blocks.append(
            Block(
                page=page,
                line=start + 1,
                lang=match["lang"].lower(),
                text="\n".join(body) + "\n",
                title=title["title"] if title else None,
                markers=_markers(lines, start),
            )
        )
    return blocks


def _markers(lines: list[str], fence: int) -> dict[str, str]:
    """The ``<!-- kind: value -->`` comments directly above line *fence*."""
    found: dict[str, str] = {}
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    while j >= 0:
        match = _MARKER.match(lines[j])
        if match is None:
            break
        found[match["kind"]] = match["value"]
        j -= 1
    return found
