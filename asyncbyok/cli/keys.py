"""The one-credential-at-a-time commands: ``list``, ``get``, ``create``, ``update``,
``delete``.

Each command's body runs in :func:`~asyncbyok.cli.session.run`, which imports the client
(and the emulator, with ``--emulator``) only then; defining the commands needs click alone.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from .inputs import field_options, key_options, read_key, request_fields
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
@click.option("--name", "name", help="Only credentials with exactly this name.")
@common_options
@click.pass_context
def list_command(
    ctx: click.Context, provider: str | None, workspace_id: str | None, name: str | None
) -> None:
    """List credentials (all pages).

    The table fits the terminal: ID, PROVIDER and NAME are always shown (ids whole);
    CREATED, WORKSPACE, MODELS, STATUS and LABEL give way, in that order, on narrow
    terminals. --json prints every field.
    """
    settings = _settings(ctx)

    async def main() -> int:
        from .._sentinel import UNSET
        from .output import PIPE_WIDTH, key_json, keys_table

        out = settings.output
        async with connect(settings) as conn:
            pager = conn.client.byok.list(
                provider=provider or UNSET, workspace_id=workspace_id or UNSET
            )
            keys = [k async for k in pager if name is None or k.name == name]
        if out.json_mode:
            out.json([key_json(k) for k in keys])
        elif keys:
            width = out.stdout.width if out.stdout.is_terminal else PIPE_WIDTH
            out.show(keys_table(keys, width))
            out.note(f"{len(keys)} credential{'s' if len(keys) != 1 else ''}")
        else:
            out.note("No credentials.")
        return EXIT_OK

    run(settings, main)


@click.command("get")
@click.argument("key_id", metavar="ID")
@common_options
@click.pass_context
def get_command(ctx: click.Context, key_id: str) -> None:
    """Show one credential."""
    settings = _settings(ctx)

    async def main() -> int:
        async with connect(settings) as conn:
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
        # Checked before connecting: bad input sends nothing.
        request = CreateBYOKKeyRequest(provider=provider, key=key, **fields)
        async with connect(settings) as conn:
            created = await conn.client.byok.create(request)
        _show_key(settings.output, created, f"Created {created.id}")
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
        if key is not UNSET:
            fields["key"] = key
        if not fields:
            raise BadInput("nothing to update: give a field option, --clear FIELD or a new key")
        request = UpdateBYOKKeyRequest(**fields)
        async with connect(settings) as conn:
            updated = await conn.client.byok.update(key_id, request)
        _show_key(settings.output, updated, f"Updated {updated.id}")
        return EXIT_OK

    run(settings, main)


@click.command("delete")
@click.argument("key_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@click.pass_context
def delete_command(ctx: click.Context, key_ids: tuple[str, ...], yes: bool) -> None:
    """Delete credentials by id.

    Each id is tried even when another fails; the exit status is 1 if any failed. --json
    prints {"deleted": [ids], "failed": [{"id", "error", "status"}]} whatever happened.
    """
    settings = _settings(ctx)

    async def main() -> int:
        from ..apply.render import error_text
        from ..errors import APIError, ValidationError

        out = settings.output
        confirm(f"Delete {len(key_ids)} credential(s)?", yes=yes)
        deleted: list[str] = []
        failed: list[dict[str, Any]] = []
        async with connect(settings) as conn:
            for key_id in key_ids:
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
        return EXIT_FAILURE if failed else EXIT_OK

    run(settings, main)


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (list_command, get_command, create_command, update_command, delete_command):
        group.add_command(command)
