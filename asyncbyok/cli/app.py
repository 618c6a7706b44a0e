"""The ``asyncbyok`` command: credentials one by one, declarative ``plan``/``apply``, and
the emulator.

::

    asyncbyok list --provider openai             # table; --json for scripts
    asyncbyok create --provider openai --name prod --key-env OPENAI_KEY
    asyncbyok update ID --clear allowed-models   # send null: no restriction
    asyncbyok plan fleet.yaml                    # what apply would change
    asyncbyok apply fleet.yaml --yes             # make it so
    asyncbyok apply examples/fleet.yaml --emulator --yes   # try it with no account

Every command takes ``--api-key`` (``$OPENROUTER_API_KEY``), ``--base-url``
(``$OPENROUTER_BASE_URL``), ``--emulator``, ``--json`` and ``--debug``, before or after
its name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click

from .._constants import DEFAULT_BULK_CONCURRENCY
from .._sentinel import UNSET
from .._version import __version__
from ..apply import (
    ApplyResult,
    Manifest,
    apply_plan,
    fetch_state,
    load_manifest,
    make_plan,
    plan_to_json,
    render_plan,
    result_to_json,
)
from ..apply.plan import Plan
from ..apply.render import error_text
from ..errors import APIError
from ..models import CreateBYOKKeyRequest, UpdateBYOKKeyRequest
from .inputs import field_options, key_options, read_key, request_fields
from .output import Output, key_detail, key_json, keys_table, summary_line, summary_tables
from .progress import ApplyProgress
from .session import (
    EXIT_FAILURE,
    EXIT_OK,
    BadInput,
    Connection,
    Settings,
    common_options,
    connect,
    run,
)

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])

# Above this many changes, apply shows one line per change instead of every field.
_PLAN_DETAIL_LIMIT = 20


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="asyncbyok")
@common_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Manage OpenRouter BYOK provider credentials (asyncbyok)."""
    ctx.ensure_object(Settings)


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(Settings)


# ------------------------------------------------------------------ one credential at a time


@cli.command("list")
@click.option("--provider", help="Only this provider (e.g. openai).")
@click.option("--workspace-id", metavar="UUID", help="This workspace (default: the default one).")
@click.option("--name", "name", help="Only credentials with exactly this name.")
@common_options
@click.pass_context
def list_command(
    ctx: click.Context, provider: str | None, workspace_id: str | None, name: str | None
) -> None:
    """List credentials (all pages)."""
    settings = _settings(ctx)
    out = settings.output

    async def main() -> int:
        async with connect(settings) as conn:
            pager = conn.client.byok.list(
                provider=provider or UNSET, workspace_id=workspace_id or UNSET
            )
            keys = [k async for k in pager if name is None or k.name == name]
        if out.json_mode:
            out.json([key_json(k) for k in keys])
        elif keys:
            out.show(keys_table(keys))
            out.note(f"{len(keys)} credential{'s' if len(keys) != 1 else ''}")
        else:
            out.note("No credentials.")
        return EXIT_OK

    run(settings, main)


@cli.command("get")
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


def _show_key(out: Output, key: Any, note: str | None = None) -> None:
    if out.json_mode:
        out.json(key_json(key))
        return
    out.show(key_detail(key))
    if note:
        out.note(note)


@cli.command("create")
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
        fields = request_fields(params)
        if workspace_id is not None:
            fields["workspace_id"] = workspace_id
        # Checked before connecting: bad input sends nothing.
        request = CreateBYOKKeyRequest(
            provider=provider, key=read_key(params, required=True), **fields
        )
        async with connect(settings) as conn:
            key = await conn.client.byok.create(request)
        _show_key(settings.output, key, f"Created {key.id}")
        return EXIT_OK

    run(settings, main)


@cli.command("update")
@click.argument("key_id", metavar="ID")
@key_options
@field_options
@common_options
@click.pass_context
def update_command(ctx: click.Context, /, key_id: str, **params: Any) -> None:
    """Change some fields of a credential (--clear FIELD sends null), or rotate its key."""
    settings = _settings(ctx)

    async def main() -> int:
        fields = request_fields(params)
        key = read_key(params, required=False)
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


@cli.command("delete")
@click.argument("key_ids", metavar="ID...", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@click.pass_context
def delete_command(ctx: click.Context, key_ids: tuple[str, ...], yes: bool) -> None:
    """Delete credentials by id."""
    settings = _settings(ctx)
    out = settings.output

    async def main() -> int:
        _confirm(f"Delete {len(key_ids)} credential(s)?", yes=yes)
        deleted, failed = [], []
        async with connect(settings) as conn:
            for key_id in key_ids:
                try:
                    await conn.client.byok.delete(key_id)
                except APIError as exc:
                    if len(key_ids) == 1:
                        raise
                    failed.append({"id": key_id, "error": error_text(exc)})
                    out.error(f"{key_id}: {error_text(exc)}")
                else:
                    deleted.append(key_id)
                    if not out.json_mode:
                        out.text(f"Deleted {key_id}")
        if out.json_mode:
            out.json({"deleted": deleted, "failed": failed})
        return EXIT_FAILURE if failed else EXIT_OK

    run(settings, main)


def _confirm(question: str, *, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput("confirmation needed and standard input is not a terminal: pass --yes")
    if not click.confirm(question, default=False, err=True):
        raise click.exceptions.Exit(EXIT_FAILURE)


# ------------------------------------------------------------------ declarative


def _manifest_options(func: F) -> F:
    func = click.option(
        "--allow-inline-keys",
        is_flag=True,
        help="Accept raw keys written in the manifest (key:). Off by default.",
    )(func)
    func = click.option(
        "--force-rotate", is_flag=True, help="Send every managed credential's key again."
    )(func)
    func = click.option(
        "--prune",
        is_flag=True,
        help="Delete credentials the manifest does not name, in the workspaces and "
        "providers it manages.",
    )(func)
    return click.argument("manifest_path", metavar="MANIFEST", type=click.Path(path_type=Path))(
        func
    )


def _load(settings: Settings, path: Path, allow_inline_keys: bool) -> Manifest:
    """The checked manifest; with --emulator, missing key references get fake keys."""
    manifest = load_manifest(path, allow_inline_keys=allow_inline_keys, fake_keys=settings.emulator)
    out = settings.output
    for warning in manifest.warnings:
        out.warning(warning)
    if manifest.faked:
        out.note(
            f"--emulator: {len(manifest.faked)} key reference(s) not available here; using "
            "deterministic fake keys (only ever sent to the emulator)"
        )
    return manifest


async def _plan(settings: Settings, conn: Connection, manifest: Manifest, **options: bool) -> Plan:
    state = await fetch_state(conn.client, manifest)
    plan = make_plan(
        manifest, state.keys, default_workspace_id=state.default_workspace_id, **options
    )
    for warning in plan.warnings:
        settings.output.warning(warning)
    return plan


def _plan_text(plan: Plan, *, limit: int | None = None) -> str:
    quiet = attrs.evolve(plan, warnings=())  # warnings went to stderr already
    if limit is not None and len(plan) > limit:
        return render_plan(quiet, limit=limit, details=False)
    return render_plan(quiet)


@cli.command("plan")
@_manifest_options
@common_options
@click.pass_context
def plan_command(
    ctx: click.Context,
    manifest_path: Path,
    prune: bool,
    force_rotate: bool,
    allow_inline_keys: bool,
) -> None:
    """Show what `apply` would change to make the server match MANIFEST."""
    settings = _settings(ctx)
    out = settings.output

    async def main() -> int:
        manifest = _load(settings, manifest_path, allow_inline_keys)
        async with connect(settings) as conn:
            plan = await _plan(settings, conn, manifest, prune=prune, force_rotate=force_rotate)
        if out.json_mode:
            out.json(plan_to_json(plan))
        else:
            out.text(_plan_text(plan))
        return EXIT_OK

    run(settings, main)


@cli.command("apply")
@_manifest_options
@click.option("--yes", "-y", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=DEFAULT_BULK_CONCURRENCY,
    show_default=True,
    help="Requests in flight at once.",
)
@common_options
@click.pass_context
def apply_command(
    ctx: click.Context,
    manifest_path: Path,
    prune: bool,
    force_rotate: bool,
    allow_inline_keys: bool,
    yes: bool,
    concurrency: int,
) -> None:
    """Create, update, rotate (and with --prune delete) credentials to match MANIFEST."""
    settings = _settings(ctx)
    out = settings.output

    async def main() -> int:
        manifest = _load(settings, manifest_path, allow_inline_keys)
        async with connect(settings) as conn:
            plan = await _plan(settings, conn, manifest, prune=prune, force_rotate=force_rotate)
            if plan.is_empty:
                if out.json_mode:
                    nothing = result_to_json(ApplyResult(unchanged=plan.unchanged))
                    out.json({"plan": plan_to_json(plan), "result": nothing})
                else:
                    out.text(_plan_text(plan))
                return EXIT_OK
            if not out.json_mode:
                out.text(_plan_text(plan, limit=_PLAN_DETAIL_LIMIT))
            _confirm(f"Apply these {len(plan)} changes?", yes=yes)
            with ApplyProgress(len(plan), out.stderr) as progress:
                result = await apply_plan(
                    conn.client, plan, concurrency=concurrency, on_progress=progress.advance
                )
        if out.json_mode:
            out.json({"plan": plan_to_json(plan), "result": result_to_json(result)})
        else:
            for table in summary_tables(result):
                out.show(table)
            out.text(summary_line(result))
        return EXIT_OK if result.ok else EXIT_FAILURE

    run(settings, main)


# ------------------------------------------------------------------ the emulator


@cli.command(
    "emulator",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def emulator_command(ctx: click.Context) -> None:
    """Serve a local BYOK API emulator (options: asyncbyok emulator --help)."""
    import argparse
    import asyncio
    import contextlib

    from ..emulator.__main__ import add_arguments, emulator_from_args, serve

    parser = argparse.ArgumentParser(
        prog="asyncbyok emulator", description="Serve a local BYOK API emulator."
    )
    add_arguments(parser)
    args = parser.parse_args(ctx.args)
    try:
        emulator = emulator_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(emulator))


def main(argv: list[str] | None = None) -> None:
    """The console script: ``asyncbyok``."""
    cli.main(args=argv, prog_name="asyncbyok")
