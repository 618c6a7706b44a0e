"""The one-credential-at-a-time commands: ``list``, ``get``, ``create``, ``update``,
``delete``.

Each command's body runs in :func:`~asyncbyok.cli.session.run`, which imports the client
(and the emulator, with ``--emulator``) only then; defining the commands needs click alone.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .inputs import (
    PathType,
    field_options,
    key_options,
    read_key,
    refuse_key_in_fields,
    request_fields,
)
from .names import by_name, by_name_options, id_or_name
from .session import (
    EXIT_FAILURE,
    EXIT_OK,
    BadInput,
    Declined,
    Settings,
    common_options,
    connect,
    run,
)

if TYPE_CHECKING:
    from ..apply import Manifest
    from ..client import Client
    from ..models import BYOKKey
    from .output import Output

__all__ = ["confirm", "register"]


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(Settings)


def confirm(question: str, *, yes: bool) -> None:
    """Ask *question* on the terminal unless *yes*; refuse when there is no terminal."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput("confirmation needed and standard input is not a terminal: pass --yes")
    if not click.confirm(question, default=False, err=True):
        raise Declined("not confirmed: nothing was changed")


def _show_key(out: Output, key: BYOKKey, note: str | None = None) -> None:
    from .output import key_detail, key_json

    if out.json_mode:
        out.json(key_json(key))
        return
    out.show(key_detail(key))
    if note:
        out.note(note)


@click.command("list")
@click.option("--provider", help="Only this provider (e.g. openai).")
@click.option("--workspace-id", metavar="UUID", help="This workspace (default: the default one).")
@click.option(
    "--manifest",
    "manifest_path",
    metavar="FILE",
    type=PathType(),
    help="Every workspace and provider this manifest covers, in one table (no key is read).",
)
@click.option("--name", "name", help="Only credentials with exactly this name.")
@common_options
@click.pass_context
def list_command(
    ctx: click.Context,
    provider: str | None,
    workspace_id: str | None,
    manifest_path: Path | None,
    name: str | None,
) -> None:
    """List credentials (all pages), sorted by provider and name.

    Without --workspace-id, the default workspace; with --manifest FILE, every workspace
    (and provider) the manifest covers, with a WORKSPACE column. The table fits the
    terminal: ID, PROVIDER and NAME are always shown (ids whole); CREATED, WORKSPACE,
    MODELS, LABEL and STATUS give way, in that order, on narrow terminals. --json prints
    every field.
    """
    settings = _settings(ctx)
    if manifest_path is not None and workspace_id is not None:
        raise click.UsageError("--manifest and --workspace-id exclude each other: choose one")

    async def main() -> int:
        from .output import PIPE_WIDTH, key_json, keys_table
        from .scopes import sort_keys

        out = settings.output
        manifest = _scopes_of(settings, manifest_path) if manifest_path is not None else None
        async with connect(settings) as conn:
            if manifest is not None:
                keys = await _list_scopes(conn.client, manifest, provider)
            else:
                keys = await _list_workspace(conn.client, provider, workspace_id)
        wanted = (k for k in keys if name is None or k.name == name)
        keys = sort_keys(wanted, by_workspace=manifest is not None)
        if out.json_mode:
            out.json([key_json(k) for k in keys])
        elif keys:
            width = out.stdout.width if out.stdout.is_terminal else PIPE_WIDTH
            out.show(keys_table(keys, width, keep_workspace=manifest is not None))
        out.note(_listed(keys, manifest_path, workspace_id))
        return EXIT_OK

    run(settings, main)


def _listed(keys: list[BYOKKey], manifest: Path | None, workspace_id: str | None) -> str:
    """What a listing showed, and where: the note under the table."""
    from .scopes import count, listed_workspace_note

    if manifest is not None:
        spaces = len({k.workspace_id for k in keys})
        return f"{count(len(keys))} in {spaces} workspace(s) {manifest} covers"
    if workspace_id is None:
        return listed_workspace_note(keys)
    return f"{count(len(keys))} in workspace {workspace_id}"


def _scopes_of(settings: Settings, path: Path) -> Manifest:
    """The manifest at *path*, for its scopes only: no key is needed. The keys it refers
    to are secrets of the run all the same (a message about another field, or the
    server's, could hold one)."""
    from ..apply import load_manifest

    def secret(key: str) -> None:
        settings.redactor.add(key, always=True)

    return load_manifest(path, resolve_keys=False, allow_inline_keys=True, on_key=secret)


async def _list_workspace(
    client: Client, provider: str | None, workspace_id: str | None
) -> list[BYOKKey]:
    from .._sentinel import UNSET

    pager = client.byok.list(provider=provider or UNSET, workspace_id=workspace_id or UNSET)
    return [k async for k in pager]


async def _list_scopes(client: Client, manifest: Manifest, provider: str | None) -> list[BYOKKey]:
    """Every credential in the ``(workspace, provider)`` pairs *manifest* covers."""
    import attrs

    from ..apply import fetch_state

    if provider is not None:
        kept = tuple(k for k in manifest.keys if k.provider == provider)
        manifest = attrs.evolve(manifest, keys=kept)
    return list((await fetch_state(client, manifest)).keys)


@click.command("get", short_help="Show one credential (by ID or by --name).")
@click.argument("key_id", metavar="[ID]", required=False)
@by_name_options
@common_options
@click.pass_context
def get_command(
    ctx: click.Context,
    key_id: str | None,
    name: str | None,
    provider: str | None,
    workspace_id: str | None,
) -> None:
    """Show one credential, by ID or by --name (an exact match; several of that name are
    refused, listing their ids)."""
    settings = _settings(ctx)
    id_or_name((key_id,) if key_id else (), name, provider, workspace_id)

    async def main() -> int:
        if key_id is not None:
            _refuse_a_name_for_an_id(key_id, "get")
        async with connect(settings) as conn:
            if name is not None:
                key = await by_name(conn.client, name, provider, workspace_id)
            else:
                assert key_id is not None
                key = await conn.client.byok.get(key_id)
        _show_key(settings.output, key)
        return EXIT_OK

    run(settings, main)


@click.command("create")
@click.option("--provider", required=True, help="Upstream provider slug (e.g. openai).")
@click.option("--workspace-id", metavar="UUID", help="Workspace (default: the default one).")
@key_options
@field_options
@common_options
@click.pass_context
def create_command(
    ctx: click.Context, /, provider: str, workspace_id: str | None, **params: Any
) -> None:
    """Create a credential. The raw key comes from --key-env, --key-file or --key-stdin."""
    settings = _settings(ctx)

    async def main() -> int:
        from ..models import CreateBYOKKeyRequest

        fields = request_fields(params)
        if workspace_id is not None:
            fields["workspace_id"] = workspace_id
        key = read_key(params, required=True, redactor=settings.redactor)
        refuse_key_in_fields(fields, key)
        # Checked before connecting: bad input sends nothing.
        request = CreateBYOKKeyRequest(provider=provider, key=key, **fields)
        _warn_unknown_region(settings, request.declared_region)
        async with connect(settings) as conn:
            created = await conn.client.byok.create(request)
        _show_key(settings.output, created, f"Created {created.id}")
        _emulator_gone(settings)
        return EXIT_OK

    run(settings, main)


@click.command("update")
@click.argument("key_id", metavar="ID")
@key_options
@field_options
@common_options
@click.pass_context
def update_command(ctx: click.Context, /, key_id: str, **params: Any) -> None:
    """Change some fields of a credential (--clear FIELD sends null), or rotate its key."""
    settings = _settings(ctx)

    async def main() -> int:
        from .._sentinel import UNSET
        from ..models import UpdateBYOKKeyRequest

        fields = request_fields(params)
        key = read_key(params, required=False, redactor=settings.redactor)
        refuse_key_in_fields(fields, key)
        if key is not UNSET:
            fields["key"] = key
        if not fields:
            raise BadInput("nothing to update: give a field option, --clear FIELD or a new key")
        _refuse_a_name_for_an_id(key_id, "update")
        request = UpdateBYOKKeyRequest(**fields)
        _warn_unknown_region(settings, request.declared_region)
        async with connect(settings) as conn:
            updated = await conn.client.byok.update(key_id, request)
        _show_key(settings.output, updated, f"Updated {updated.id}")
        _emulator_gone(settings)
        return EXIT_OK

    run(settings, main)


@click.command("delete", short_help="Delete credentials (by ID, or one by --name).")
@click.argument("key_ids", metavar="[ID...]", nargs=-1)
@by_name_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@click.pass_context
def delete_command(
    ctx: click.Context,
    key_ids: tuple[str, ...],
    name: str | None,
    provider: str | None,
    workspace_id: str | None,
    yes: bool,
) -> None:
    """Delete credentials by id, or the one named --name (an exact match; several of that
    name are refused, listing their ids).

    Each id is tried even when another fails; the exit status is 1 if any failed. --json
    prints {"deleted": [ids], "failed": [{"id", "error", "status"}]} whatever happened.
    """
    settings = _settings(ctx)
    id_or_name(key_ids, name, provider, workspace_id)

    async def main() -> int:
        from ..apply.render import error_text
        from ..errors import APIError, ValidationError

        out = settings.output
        deleted: list[str] = []
        failed: list[dict[str, Any]] = []
        async with connect(settings) as conn:
            ids = key_ids
            if name is None:
                confirm(f"Delete {len(key_ids)} credential(s)?", yes=yes)
            else:
                key = await by_name(conn.client, name, provider, workspace_id)
                ids = (key.id,)
                confirm(f"Delete {key.provider}/{name} ({key.id})?", yes=yes)
            for key_id in ids:
                try:
                    await conn.client.byok.delete(key_id)
                except (APIError, ValidationError) as exc:
                    text = out.redacted(error_text(exc))
                    status = getattr(exc, "status_code", None)
                    shown = out.redacted(key_id)  # a key pasted as an id stays unseen
                    failed.append({"id": shown, "error": text, "status": status})
                    out.error(f"{shown}: {text}")
                else:
                    deleted.append(key_id)
                    if not out.json_mode:
                        out.text(f"Deleted {key_id}")
        if out.json_mode:
            out.json({"deleted": deleted, "failed": failed})
        if deleted:
            _emulator_gone(settings)
        return EXIT_FAILURE if failed else EXIT_OK

    run(settings, main)


def _refuse_a_name_for_an_id(key_id: str, command: str) -> None:
    """An id that is not a UUID is refused before anything is sent, as the SDK would; if
    it reads like a name, the message says how to find a credential by name (with
    *command*'s ``--name``, or ``get --name`` for a command that has none)."""
    import shlex

    from .._validation import UUID_PATTERN, uuid_message
    from ..apply._keys import looks_like_key
    from ..errors import FieldError, ValidationError

    if UUID_PATTERN.fullmatch(key_id):
        return
    hint = ""
    if not looks_like_key(key_id):  # a key pasted here is neither shown nor suggested
        by_name = command if command in ("get", "delete") else "get"
        hint = f"; to find a credential by name: asyncbyok {by_name} --name {shlex.quote(key_id)}"
    error = FieldError("key_id", uuid_message(key_id) + hint)
    raise ValidationError([error], subject="request")


def _warn_unknown_region(settings: Settings, region: object) -> None:
    """``declared_region`` is an open enum: an unknown region is sent, with a warning."""
    from ..models import DeclaredRegion

    if isinstance(region, str) and not isinstance(region, DeclaredRegion):
        known = ", ".join(r.value for r in DeclaredRegion)
        settings.output.warning(
            f"--declared-region {region!r} is not one this release knows ({known}); "
            "sent as is: the server may refuse it"
        )


def _emulator_gone(settings: Settings) -> None:
    from .scopes import emulator_gone_lines

    for line in emulator_gone_lines(settings):
        settings.output.note(line)


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (list_command, get_command, create_command, update_command, delete_command):
        group.add_command(command)
