"""What a served emulator prints (``asyncbyok emulator``, ``python -m asyncbyok.emulator``),
and reading it back.

The text form is for a person to paste into another shell::

    export OPENROUTER_BASE_URL=http://127.0.0.1:8080/api/v1 OPENROUTER_API_KEY=emulator-mgmt-...
    # api_key (not a management key: answered 403): emulator-...
    # default_workspace_id: 4e1c...

A program that starts the emulator reads those lines back with :func:`printed_values`
(or asks for ``--json``).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .._constants import API_KEY_ENV, BASE_URL_ENV

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["describe", "printed_values", "shell_lines"]


def describe(emulator: Emulator) -> dict[str, str]:
    """``base_url``, ``management_key``, ``api_key`` (if any), ``default_workspace_id``."""
    info = {"base_url": emulator.base_url, "management_key": emulator.management_key}
    if emulator.api_keys:
        info["api_key"] = emulator.api_key
    info["default_workspace_id"] = emulator.default_workspace_id
    return info


def shell_lines(info: dict[str, str]) -> list[str]:
    """What ``serve()`` prints without ``--json``: an ``export`` line to paste into a
    shell, then the rest as shell comments (so that pasting it all is harmless too)."""
    export = (
        f"export {BASE_URL_ENV}={shlex.quote(info['base_url'])} "
        f"{API_KEY_ENV}={shlex.quote(info['management_key'])}"
    )
    lines = [export]
    if "api_key" in info:
        lines.append(f"# api_key (not a management key: answered 403): {info['api_key']}")
    lines.append(f"# default_workspace_id: {info['default_workspace_id']}")
    return lines


_EXPORTED = {BASE_URL_ENV: "base_url", API_KEY_ENV: "management_key"}


def printed_values(line: str) -> dict[str, str]:
    """The values in one line that ``serve()`` printed, by name: ``base_url`` and
    ``management_key`` from the ``export`` line, ``api_key`` and ``default_workspace_id``
    from the comments (any other ``name: value`` line as it is). For programs that start
    ``asyncbyok emulator`` and read where it listens::

        >>> printed_values("export OPENROUTER_BASE_URL=http://127.0.0.1:8080/api/v1 "
        ...                "OPENROUTER_API_KEY=mk")
        {'base_url': 'http://127.0.0.1:8080/api/v1', 'management_key': 'mk'}
        >>> printed_values("# api_key (not a management key: answered 403): k2")
        {'api_key': 'k2'}
    """
    if line.startswith("export "):
        words = shlex.split(line)[1:]
        pairs = (word.partition("=") for word in words)
        return {_EXPORTED.get(name, name): value for name, _, value in pairs}
    name, _, value = line.strip().lstrip("# ").rpartition(": ")
    name = name.split(" (", 1)[0]  # "api_key (not a management key: answered 403)"
    return {name: value} if name else {}
