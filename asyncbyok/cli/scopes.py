"""Where credentials live, said out loud: the workspaces a manifest touches, the one
``list`` showed, and what an in-process emulator keeps (nothing, without
``--emulator-state``).

A new user's fleet can sit in workspaces only the manifest names; ``list`` shows the
default one. These lines say so, and give the command that shows the rest, with this
run's ``--emulator-state`` (or ``--emulator``) so it works as written.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..apply import Manifest
    from ..models import BYOKKey
    from .session import Settings

__all__ = [
    "command_line",
    "count",
    "emulator_gone_lines",
    "listed_workspace_note",
    "sort_keys",
    "workspace_lines",
]


def command_line(settings: Settings, *words: str) -> str:
    """``asyncbyok WORDS`` as the user can run it next, against the same server: with
    ``--emulator-state FILE`` (or ``--emulator``) when this run had it. Never a key."""
    where: list[str] = []
    if settings.emulator_state:
        where = ["--emulator-state", settings.emulator_state]
    elif settings.emulator:
        where = ["--emulator"]
    return shlex.join(["asyncbyok", *words, *where])


def forgets(settings: Settings) -> bool:
    """Whether this run's server is an in-process emulator whose state dies with it."""
    return settings.emulator and not settings.emulator_state


def workspace_lines(
    settings: Settings, manifest: Manifest, path: str, default_workspace_id: str | None
) -> list[str]:
    """One line per workspace *manifest* touches (its credentials, their providers), then
    how to list them all."""
    counts: dict[str | None, list[str]] = {}
    for desired in manifest.keys:
        counts.setdefault(desired.workspace_id, []).append(desired.provider)
    lines = ["Workspaces this manifest covers:"]
    for workspace, providers in counts.items():
        if workspace is None:
            default = f" ({default_workspace_id})" if default_workspace_id else ""
            where = f"the default workspace{default}"
        else:
            where = workspace
        kinds = ", ".join(sorted(set(providers)))
        lines.append(f"  {where}: {count(len(providers))} ({kinds})")
    if not forgets(settings):
        lines.append(f"List them all: {command_line(settings, 'list', '--manifest', path)}")
    return lines


def emulator_gone_lines(settings: Settings, *, manifest: str | None = None) -> list[str]:
    """What an in-process emulator without ``--emulator-state`` leaves behind (nothing),
    and how to keep it; none for any other server."""
    if not forgets(settings):
        return []
    if manifest is None:
        return [
            "The in-process emulator is gone, and what this command stored with it: keep "
            "its state between commands with --emulator-state FILE."
        ]
    state = "fleet.json"
    apply = shlex.join(["asyncbyok", "apply", manifest, "--emulator-state", state, "--yes"])
    listing = shlex.join(["asyncbyok", "list", "--manifest", manifest, "--emulator-state", state])
    return [
        "The in-process emulator is gone, and what this command stored with it. To keep "
        "it, and then see it:",
        f"  {apply}",
        f"  {listing}",
    ]


def listed_workspace_note(keys: Sequence[BYOKKey]) -> str:
    """What ``list`` without ``--workspace-id`` showed, and how to see the others."""
    workspace = next((k.workspace_id for k in keys if isinstance(k.workspace_id, str)), None)
    which = f"the default workspace ({workspace})" if workspace else "the default workspace"
    return (
        f"{count(len(keys))} in {which}. Other workspaces: --workspace-id UUID, or "
        "--manifest FILE (every workspace a manifest covers)."
    )


def sort_keys(keys: Iterable[BYOKKey], *, by_workspace: bool = False) -> list[BYOKKey]:
    """Credentials in the order tables show them: provider, name (then id); with
    *by_workspace*, grouped by workspace first."""

    def order(key: BYOKKey) -> tuple[str, str, str, str]:
        workspace = key.workspace_id if isinstance(key.workspace_id, str) else ""
        name = key.name if isinstance(key.name, str) else ""
        return (workspace.lower() if by_workspace else "", str(key.provider), name, key.id)

    return sorted(keys, key=order)


def count(n: int) -> str:
    """``1 credential``, ``3 credentials``, ``No credentials``."""
    return f"{n} credential{'s' if n != 1 else ''}" if n else "No credentials"
