"""What ``find-key`` and ``rotate`` print: the credentials found (and, for ``rotate``, the
plan), the notes that say what a label can and cannot tell, the summary, and the one
``--json`` document. No key is ever given to any of it: a credential is shown by its id,
provider, name, workspace, status and label, as ``list`` shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ..leaks import KeyMatches
    from ..models import BYOKKey
    from .output import Output

__all__ = [
    "LOOKALIKE_NOTE",
    "SEARCHED",
    "Changed",
    "changes_json",
    "found_json",
    "in_search_order",
    "searched_line",
    "show_keys",
    "show_summary",
    "undetermined_notes",
    "where",
]

LOOKALIKE_NOTE = (
    "A label shows only the first and last characters of a key: a different key with the "
    "same ends (a look-alike) is listed too, as consistent with the key, and nothing the "
    "API returns tells the two apart. See the guide, 'When a provider key leaks'."
)


@attrs.frozen
class Changed:
    """One credential a rotation changed, or failed to (``error``)."""

    key: BYOKKey
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether the change was made."""
        return self.error is None


@attrs.frozen
class _Searched:
    ok: bool = True


SEARCHED = _Searched()
"""What the search's progress counts for each workspace listed."""


def where(workspaces: Sequence[str | None], provider: str | None) -> str:
    """``the default workspace and 1 other (every provider)``: where a search looks."""
    names = ["the default workspace" if w is None else w for w in workspaces]
    shown = (
        ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:3])} and {len(names) - 3} more"
    )
    return f"{shown} ({provider or 'every provider'})"


def searched_line(found: KeyMatches) -> str:
    """``Searched 6 credentials in 3 workspaces: 4 consistent with the key, ...``."""
    from .scopes import count

    spaces = len(found.workspaces)
    return (
        f"Searched {count(found.searched).lower()} in {spaces} workspace{'s' * (spaces != 1)}: "
        f"{len(found.matches)} consistent with the key, {len(found.undetermined)} too short "
        f"to tell, {found.searched - len(found.matches) - len(found.undetermined)} not the key"
    )


def undetermined_notes(found: KeyMatches, *, changed: bool) -> list[str]:
    """What to make of credentials whose label shows nothing of the key, and of items the
    server listed that could not be read at all."""
    left = "; they are not changed" if changed else ""
    notes = []
    if found.undetermined:
        notes.append(
            f"{len(found.undetermined)} credential(s) have a label too short to tell (it "
            f"shows no character of the key): they may carry it, check them by other "
            f"means{left}."
        )
    if found.unreadable:
        ids = ", ".join(item.id or f"item {item.index}" for item in found.unreadable)
        notes.append(
            f"{len(found.unreadable)} item(s) the server listed could not be read as "
            f"credentials ({ids}): they may carry the key, check them{left}."
        )
    return notes


def in_search_order(keys: Sequence[BYOKKey], workspaces: Sequence[str | None]) -> list[BYOKKey]:
    """*keys* by workspace in the order they were searched (the default one where ``None``
    stands), then by provider and name."""
    from .scopes import sort_keys

    rank = {w.lower(): i for i, w in enumerate(workspaces) if w is not None}
    default = workspaces.index(None) if None in workspaces else len(workspaces)

    def position(key: BYOKKey) -> int:
        workspace = key.workspace_id
        return rank.get(workspace.lower(), default) if isinstance(workspace, str) else default

    return sorted(sort_keys(keys), key=position)


def show_keys(
    out: Output, title: str, keys: Sequence[BYOKKey], workspaces: Sequence[str | None]
) -> None:
    """*keys* as ``list --manifest`` shows them (with their workspace), under *title*."""
    from .output import PIPE_WIDTH, keys_table

    if not keys:
        return
    out.text(title)
    width = out.stdout.width if out.stdout.is_terminal else PIPE_WIDTH
    shown = in_search_order(keys, workspaces)
    out.show(keys_table(shown, width, keep_workspace=True))


def found_json(found: KeyMatches) -> dict[str, Any]:
    """The part of the ``--json`` document both commands share."""
    from .output import key_json

    return {
        "searched": {
            "workspaces": list(found.workspaces),
            "provider": found.provider,
            "credentials": found.searched,
        },
        "consistent": [key_json(k) for k in found.matches],
        "undetermined": [key_json(k) for k in found.undetermined],
        "unreadable": [{"id": item.id, "error": item.error} for item in found.unreadable],
        "note": LOOKALIKE_NOTE,
    }


def changes_json(changed: Sequence[Changed], out: Output) -> dict[str, Any]:
    """``{"changed": [ids], "failed": [{"id", "error", "status"}]}`` (errors redacted)."""
    from ..apply.render import error_text

    failed = [
        {
            "id": c.key.id,
            "error": out.redacted(error_text(c.error)),
            "status": getattr(c.error, "status_code", None),
        }
        for c in changed
        if not c.ok
    ]
    return {"changed": [c.key.id for c in changed if c.ok], "failed": failed}


def show_summary(
    out: Output, action: str, changed: Sequence[Changed], counts: dict[str, int]
) -> None:
    """The counts (``rotated``, ``failed``, what was left out), then the failures;
    *action* is ``rotate`` or ``disable``."""
    from rich.table import Table
    from rich.text import Text

    from ..apply._text import visible
    from ..apply.render import error_text

    verb = "rotated" if action == "rotate" else "disabled"
    title = f"{action.capitalize()} summary"
    table = Table(title=title, box=None, header_style="bold", pad_edge=False)
    table.add_column("RESULT")
    table.add_column("COUNT", justify="right")
    failed = [c for c in changed if not c.ok]
    rows = {verb: len(changed) - len(failed), "failed": len(failed), **counts}
    for label, value in rows.items():
        table.add_row(label, str(value), style="red" if label == "failed" and value else None)
    out.show(table)
    if failed:
        failures = Table(title="Failures", box=None, header_style="bold", pad_edge=False)
        for column in ("ID", "CREDENTIAL", "ERROR"):
            failures.add_column(column, overflow="fold")
        for item in failed:
            name = item.key.name if isinstance(item.key.name, str) else ""
            credential = visible(f"{item.key.provider}/{name}")
            error = out.redacted(error_text(item.error))
            failures.add_row(item.key.id, Text(credential), Text(error))
        out.show(failures)
