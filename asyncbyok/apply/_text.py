"""Showing text that came from elsewhere (a server, a manifest) on a terminal, as text.

A credential's name is whatever someone stored: ``prod\\r\\x1b[2K`` would erase the line a
terminal shows, a right-to-left override would reorder it, a lone surrogate would stop the
output with an encoding error. :func:`visible` writes every character that Python does not
count as printable the way ``repr()`` would (``\\x1b``, ``\\n``, ``\\u202e``), and leaves
the rest, backslashes included, as they are. The escapes are also valid in a JSON string
and in a double-quoted YAML scalar, which is how :func:`visible_json` and the YAML export
use them.
"""

from __future__ import annotations

__all__ = ["visible", "visible_json", "visible_lines"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    r"""*text* with each character Python does not count as printable escaped.

    >>> visible("prod\r\x1b[2K\u202e")
    'prod\\r\\x1b[2K\\u202e'
    >>> visible("prod [eu]")
    'prod [eu]'
    """
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def visible_lines(text: str) -> str:
    """:func:`visible` for each line of *text*: its newlines are kept, nothing else."""
    if text.isprintable():
        return text
    return "\n".join(visible(line) for line in text.split("\n"))


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP, JSON writes a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def visible_json(text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with every
    character that is not printable written as a ``\\u`` escape: the same document, safe
    on a terminal. Outside strings JSON text holds only printable characters and
    newlines, so each such character is inside a string, where the escape is valid."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\n" else _json_escape(c) for c in text)
