"""The declarative commands: ``plan``, ``apply`` and ``export``.

``plan --exit-code`` exits 3 when something would change (0 when nothing would), for drift
detection in CI; failures keep 1 and bad input 2. ``export`` writes what an account holds
as a manifest that ``plan`` finds nothing to change in. PyYAML, the planner and the client
are imported when a command runs, not when ``--help`` is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._constants import DEFAULT_BULK_CONCURRENCY
from .keys import confirm
from .session import (
    EXIT_CHANGES,
    EXIT_FAILURE,
    EXIT_OK,
    Connection,
    Settings,
    common_options,
    connect,
    run,
)

if TYPE_CHECKING:
    from ..apply import Manifest, Plan

__all__ = ["register"]

F = TypeVar("F", bound=Callable[..., Any])

# Above this many changes, apply shows one line per change instead of every field.
_PLAN_DETAIL_LIMIT = 20


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(Settings)


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
    from ..apply import load_manifest

    manifest = load_manifest(path, allow_inline_keys=allow_inline_keys, fake_keys=settings.emulator)
    for desired in manifest.keys:
        if desired.key_missing is None:
            settings.redactor.add(desired.raw_key, always=True)
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
    from ..apply import fetch_state, make_plan

    state = await fetch_state(conn.client, manifest)
    plan = make_plan(
        manifest, state.keys, default_workspace_id=state.default_workspace_id, **options
    )
    for warning in plan.warnings:
        settings.output.warning(warning)
    return plan


def command_line(settings: Settings, *words: str) -> str:
    """``asyncbyok WORDS`` as the user can run it next, against the same server: with
    ``--emulator-state FILE`` (or ``--emulator``) when this run had it. Never a key."""
    import shlex

    where: list[str] = []
    if settings.emulator_state:
        where = ["--emulator-state", settings.emulator_state]
    elif settings.emulator:
        where = ["--emulator"]
    return shlex.join(["asyncbyok", *words, *where])


def _plan_text(plan: Plan, *, limit: int | None = None, see_all: str = "") -> str:
    import attrs

    from ..apply import render_plan

    quiet = attrs.evolve(plan, warnings=())  # warnings went to stderr already
    if limit is not None and len(plan) > limit:
        more = f"(`{see_all}` lists every one)" if see_all else ""
        return render_plan(quiet, limit=limit, details=False, more=more)
    return render_plan(quiet)


@click.command("plan")
@_manifest_options
@click.option(
    "--exit-code",
    is_flag=True,
    help=f"Exit {EXIT_CHANGES} when something would change, 0 when nothing would "
    "(for drift checks in CI).",
)
@common_options
@click.pass_context
def plan_command(
    ctx: click.Context,
    manifest_path: Path,
    prune: bool,
    force_rotate: bool,
    allow_inline_keys: bool,
    exit_code: bool,
) -> None:
    """Show what `apply` would change to make the server match MANIFEST."""
    settings = _settings(ctx)

    async def main() -> int:
        from ..apply import plan_to_json

        out = settings.output
        manifest = _load(settings, manifest_path, allow_inline_keys)
        async with connect(settings) as conn:
            plan = await _plan(settings, conn, manifest, prune=prune, force_rotate=force_rotate)
        if out.json_mode:
            out.json(plan_to_json(plan))
        else:
            out.text(_plan_text(plan))
        return EXIT_CHANGES if exit_code and not plan.is_empty else EXIT_OK

    run(settings, main)


@click.command("apply")
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

    async def main() -> int:
        from ..apply import ApplyResult, apply_plan, plan_to_json, result_to_json
        from .output import summary_line, summary_tables
        from .progress import ApplyProgress

        out = settings.output
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
                options = {"--prune": prune, "--force-rotate": force_rotate}
                options["--allow-inline-keys"] = allow_inline_keys
                flags = [option for option, given in options.items() if given]
                see_all = command_line(settings, "plan", str(manifest_path), *flags)
                out.text(_plan_text(plan, limit=_PLAN_DETAIL_LIMIT, see_all=see_all))
            confirm(f"Apply these {len(plan)} changes?", yes=yes)
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


@click.command("export")
@click.option("--workspace-id", metavar="UUID", help="This workspace (default: the default one).")
@click.option("--provider", help="Only this provider (e.g. openai).")
@common_options
@click.pass_context
def export_command(ctx: click.Context, workspace_id: str | None, provider: str | None) -> None:
    """Write the account's credentials as a manifest (YAML; JSON with --json).

    Every managed field is written as the server has it. Raw keys cannot be read back:
    each entry gets a key_env placeholder named from its provider and name (e.g.
    OPENAI_PROD_KEY), and the manifest says `missing_keys: keep`, so until you set those
    variables plan and apply leave the existing keys alone (and refuse to create a
    credential whose key is not set). `asyncbyok plan` of the export shows no change.

        asyncbyok export --provider openai > fleet.yaml
    """
    settings = _settings(ctx)

    async def main() -> int:
        from .._sentinel import UNSET
        from ..apply.export import export_manifest, manifest_yaml

        out = settings.output
        async with connect(settings) as conn:
            pager = conn.client.byok.list(
                provider=provider or UNSET, workspace_id=workspace_id or UNSET
            )
            keys = [k async for k in pager]
        exported = export_manifest(keys)
        for warning in exported.warnings:
            out.warning(warning)
        if out.json_mode:
            out.json(exported.data)
        else:
            out.text(manifest_yaml(exported.data).rstrip("\n"))
        out.note(f"Exported {len(exported.data['keys'])} credential(s)")
        return EXIT_OK

    run(settings, main)


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (plan_command, apply_command, export_command):
        group.add_command(command)
