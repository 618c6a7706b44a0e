"""When a provider key leaks: ``find-key`` shows the credentials that carry it, ``rotate``
gives them a new key (or disables them).

::

    asyncbyok find-key --key-env LEAKED --workspace-id default --workspace-id WS
    asyncbyok rotate --from-key-env LEAKED --to-key-env NEW --manifest fleet.yaml
    asyncbyok rotate --from-key-env LEAKED --disable --workspace-id WS --yes

Both search each workspace with ``client.byok.find_by_key`` (one listing each, a few at
once, under the bulk retry policy), with progress on stderr, and say what they found:
the credentials whose label is consistent with the key, and those too short to tell.
``rotate`` then shows its plan, asks (``--yes`` skips the question), updates the
credentials a bounded number at once (paced as ``apply`` is), and sums up; stopped by
Ctrl-C, it says what it changed, and running it again is safe: it finds only what still
carries the old key. No key is printed: the keys are read from the environment, a file
or standard input, and every message goes through the run's redactor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._constants import DEFAULT_BULK_CONCURRENCY
from .inputs import PathType, key_options, prefixed_key_options, read_key
from .session import EXIT_FAILURE, EXIT_OK, BadInput, Settings, common_options, connect, run

if TYPE_CHECKING:
    from ..client import Client
    from ..leaks import KeyMatches
    from ..models import BYOKKey
    from .leak_output import Changed

__all__ = ["find_key_command", "register", "rotate_command"]

F = TypeVar("F", bound=Callable[..., Any])


def _scope_options(func: F) -> F:
    """Where to search: workspaces (repeatable), or a manifest's; one provider, or all."""
    options = (
        click.option(
            "--workspace-id",
            "workspace_ids",
            metavar="UUID",
            multiple=True,
            help="Search this workspace; repeatable; 'default' is the default workspace "
            "(the one searched when none is given).",
        ),
        click.option(
            "--manifest",
            "manifest_path",
            metavar="FILE",
            type=PathType(),
            help="Search every workspace this manifest covers (no key of it is read).",
        ),
        click.option("--provider", help="Only this provider (default: every provider)."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def _workspaces(
    settings: Settings, workspace_ids: Sequence[str], manifest_path: Path | None
) -> list[str | None]:
    """The workspaces to search (``None``: the default one), each once, in order; the
    keys a manifest refers to are not needed, but are secrets of the run all the same."""
    if manifest_path is not None and workspace_ids:
        raise click.UsageError("--manifest and --workspace-id exclude each other: choose one")
    if manifest_path is not None:
        from ..apply import load_manifest

        def secret(key: str) -> None:
            settings.redactor.add(key, always=True)

        manifest = load_manifest(
            manifest_path, resolve_keys=False, allow_inline_keys=True, on_key=secret
        )
        given: list[str | None] = [k.workspace_id for k in manifest.keys]
    else:
        given = [None if w == "default" else w for w in workspace_ids] or [None]
    return list(dict.fromkeys(given))


def _given(params: dict[str, Any], prefix: str) -> str:
    """The option the key came from (``--from-key-env``), for messages."""
    for kind in ("env", "file", "stdin"):
        if params.get(f"{prefix}key_{kind}".replace("-", "_")):
            return f"--{prefix}key-{kind}"
    return f"--{prefix}key-env"


def _check(key: str, provider: str | None, workspaces: list[str | None], source: str) -> None:
    """The SDK's checks of a search, before connecting, in the command's words."""
    from ..errors import ValidationError
    from ..leaks import check_search

    try:
        check_search(key, provider, workspaces)
    except ValidationError as exc:
        first = exc.errors[0]  # in the command's words: its options, 'default' for None
        option = {"raw_key": f"{source}: the key"}.get(first.path)
        if option is None:
            option = "--provider:" if first.path == "provider" else "--workspace-id:"
        message = first.message.replace(" or None", " or 'default'")
        raise BadInput(f"{option} {message}") from None


async def _search(
    settings: Settings, client: Client, key: str, provider: str | None, spaces: list[str | None]
) -> KeyMatches:
    """Search every workspace (a few at once), with progress; one result for all."""
    import asyncio

    from ..leaks import WORKSPACES_AT_ONCE, KeyMatches
    from .leak_output import SEARCHED, where
    from .progress import ApplyProgress

    settings.output.note(f"Searching {where(spaces, provider)}: one listing per workspace")
    gate = asyncio.Semaphore(WORKSPACES_AT_ONCE)
    with ApplyProgress(len(spaces), settings.output.stderr, verb="searching") as progress:

        async def one(workspace: str | None) -> KeyMatches:
            async with gate:
                found = await client.byok.find_by_key(
                    key, provider=provider, workspace_ids=[workspace]
                )
            progress.advance(SEARCHED)
            return found

        parts = await asyncio.gather(*(one(w) for w in spaces))
    return KeyMatches(
        tuple(k for part in parts for k in part.matches),
        tuple(k for part in parts for k in part.undetermined),
        sum(part.searched for part in parts),
        tuple(spaces),
        provider,
        tuple(item for part in parts for item in part.unreadable),
    )


@click.command("find-key", short_help="Find the credentials that carry a leaked key.")
@key_options
@_scope_options
@common_options
@click.pass_context
def find_key_command(
    ctx: click.Context,
    /,
    workspace_ids: tuple[str, ...],
    manifest_path: Path | None,
    provider: str | None,
    **params: Any,
) -> None:
    """Find the credentials that carry a raw key (read from --key-env, --key-file or
    --key-stdin), by their labels: when a provider key leaks.

    Lists each workspace searched (default: the default workspace) once. A label shows
    only the ends of a key: a look-alike (another key with the same ends) is listed too.
    Changes nothing; `asyncbyok rotate` does.
    """
    settings = ctx.ensure_object(Settings)

    async def main() -> int:
        from .leak_output import (
            LOOKALIKE_NOTE,
            found_json,
            searched_line,
            show_keys,
            undetermined_notes,
        )

        spaces = _workspaces(settings, workspace_ids, manifest_path)
        key = read_key(params, required=True, redactor=settings.redactor)
        _check(key, provider, spaces, _given(params, ""))
        async with connect(settings) as conn:
            found = await _search(settings, conn.client, key, provider, spaces)
        out = settings.output
        if out.json_mode:
            out.json(found_json(found))
        else:
            show_keys(out, "Consistent with the key:", found.matches, found.workspaces)
            show_keys(out, "Too short to tell:", found.undetermined, found.workspaces)
        out.note(searched_line(found))
        for note in undetermined_notes(found, changed=False):
            out.note(note)
        if found:
            out.note(LOOKALIKE_NOTE)
        return EXIT_OK

    run(settings, main)


@click.command("rotate", short_help="Rotate (or disable) the credentials that carry a leaked key.")
@prefixed_key_options("from-", "the leaked key")
@prefixed_key_options("to-", "the new key")
@click.option("--disable", is_flag=True, help="Disable the credentials instead of rotating.")
@_scope_options
@click.option(
    "--exclude",
    "excluded",
    metavar="ID",
    multiple=True,
    help="Leave this credential alone (a look-alike you know); repeatable.",
)
@click.option("--yes", "-y", is_flag=True, help="Change them without asking for confirmation.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=DEFAULT_BULK_CONCURRENCY,
    show_default=True,
    help="Updates in flight at once.",
)
@common_options
@click.pass_context
def rotate_command(
    ctx: click.Context,
    /,
    disable: bool,
    workspace_ids: tuple[str, ...],
    manifest_path: Path | None,
    provider: str | None,
    excluded: tuple[str, ...],
    yes: bool,
    concurrency: int,
    **params: Any,
) -> None:
    """Give every credential that carries a leaked key (--from-key-env, --from-key-file or
    --from-key-stdin) a new key (--to-key-env, --to-key-file or --to-key-stdin), or
    --disable them.

    Searches like find-key, shows the plan, asks, then updates. Look-alikes (another key
    with the same visible ends) are in the plan too: leave them out with --exclude ID.
    Interrupted, it says what it changed; running it again is safe.
    """
    settings = ctx.ensure_object(Settings)

    async def main() -> int:
        spaces = _workspaces(settings, workspace_ids, manifest_path)
        old, change = _read_keys(settings, params, disable)
        _check(old, provider, spaces, _given(params, "from-"))
        async with connect(settings) as conn:
            found = await _search(settings, conn.client, old, provider, spaces)
            plan, left_out = _plan(settings, found, excluded, disable)
            changed = await _rotate(settings, conn.client, plan, change, concurrency, yes)
        return _report(settings, found, changed, left_out, disable)

    run(settings, main)


def _read_keys(
    settings: Settings, params: dict[str, Any], disable: bool
) -> tuple[str, dict[str, Any]]:
    """The leaked key, and the change to make: a new key, or ``disabled``."""
    from .._sentinel import UNSET

    if params.get("from_key_stdin") and params.get("to_key_stdin"):
        raise BadInput("only one key can come from standard input")
    old = read_key(params, required=True, redactor=settings.redactor, prefix="from-")
    new = read_key(params, required=False, redactor=settings.redactor, prefix="to-")
    if disable == (new is not UNSET):
        raise BadInput(
            "give the new key (--to-key-env, --to-key-file, --to-key-stdin) or --disable"
        )
    if new == old:
        raise BadInput("the new key is the leaked key: give another")
    return old, ({"disabled": True} if disable else {"key": new})


def _plan(
    settings: Settings, found: KeyMatches, excluded: Sequence[str], disable: bool
) -> tuple[list[BYOKKey], dict[str, int]]:
    """The credentials to change, shown; and how many were left out, by why."""
    from .leak_output import LOOKALIKE_NOTE, searched_line, show_keys, undetermined_notes

    out = settings.output
    unknown = sorted(set(excluded) - {k.id for k in found.matches})
    if unknown:
        out.warning(f"--exclude: not among the credentials found: {', '.join(unknown)}")
    todo = [k for k in found.matches if k.id not in excluded]
    done = [k for k in todo if disable and k.disabled is True]
    todo = [k for k in todo if k not in done]
    verb = "disable" if disable else "rotate the key of"
    if not out.json_mode:
        show_keys(out, f"Will {verb} these credentials:", todo, found.workspaces)
        show_keys(out, "Too short to tell (not changed):", found.undetermined, found.workspaces)
    out.note(searched_line(found))
    for note in undetermined_notes(found, changed=True):
        out.note(note)
    if found:
        out.note(LOOKALIKE_NOTE)
    left_out = {"excluded": len(found.matches) - len(todo) - len(done)}
    if disable:
        left_out["already disabled"] = len(done)
    left_out["too short to tell"] = len(found.undetermined)
    return todo, left_out


async def _rotate(
    settings: Settings,
    client: Client,
    keys: list[BYOKKey],
    change: dict[str, Any],
    concurrency: int,
    yes: bool,
) -> list[Changed]:
    """Ask, then update every credential of *keys* (a bounded number at once)."""
    import asyncio

    from ..bulk import BulkRun, bulk_policy
    from .keys import confirm
    from .leak_output import Changed
    from .progress import ApplyProgress

    if not keys:
        return []
    disable = "disabled" in change
    what = "Disable" if disable else "Rotate the key of"
    confirm(f"{what} these {len(keys)} credential(s)?", yes=yes)
    paced = client.with_options(retry=bulk_policy(client.retry))
    done: list[Changed] = []
    verb = "disabling" if disable else "rotating"
    with ApplyProgress(len(keys), settings.output.stderr, verb=verb) as progress:

        async def work(index: int) -> None:
            key = keys[index]
            try:
                await paced.byok.update(key.id, **change)
            except Exception as exc:  # one credential's failure is its outcome
                outcome = Changed(key, exc)
            else:
                outcome = Changed(key)
            done.append(outcome)
            progress.advance(outcome)

        run = BulkRun(len(keys), work, concurrency=min(concurrency, len(keys)))
        try:
            await run.run()
        except asyncio.CancelledError:
            raise _interrupted(settings, done, len(keys), disable) from None
    return done


def _interrupted(settings: Settings, done: Sequence[Changed], total: int, disable: bool) -> Any:
    """What a rotation stopped by Ctrl-C had changed, as the error the command ends with."""
    from .exits import Interrupted
    from .leak_output import changes_json, show_summary

    if not settings.output.json_mode:
        show_summary(settings.output, "disable" if disable else "rotate", done, {})
    made = sum(c.ok for c in done)
    verb = "disabled" if disable else "rotated"
    again = (
        "running it again is safe: it disables what is left"
        if disable
        else "running it again is safe: it finds only the credentials still on the old key"
    )
    message = f"interrupted after {len(done)} of {total} ({made} {verb}); {again}"
    return Interrupted(message, {"result": changes_json(done, settings.output)})


def _report(
    settings: Settings,
    found: KeyMatches,
    changed: list[Changed],
    left_out: dict[str, int],
    disable: bool,
) -> int:
    """The summary (or the ``--json`` document) and the exit status."""
    from .leak_output import changes_json, found_json, show_summary
    from .scopes import emulator_gone_lines

    out = settings.output
    verb = "disabled" if disable else "rotated"
    if out.json_mode:
        document = found_json(found)
        document["action"] = "disable" if disable else "rotate"
        document["left_out"] = left_out
        document["result"] = changes_json(changed, out)
        out.json(document)
    elif changed:
        show_summary(out, "disable" if disable else "rotate", changed, left_out)
    else:
        out.text(f"Nothing {verb}: no credential to change.")
    if changed:
        for line in emulator_gone_lines(settings):
            out.note(line)
    return EXIT_FAILURE if any(not c.ok for c in changed) else EXIT_OK


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (find_key_command, rotate_command):
        group.add_command(command)
