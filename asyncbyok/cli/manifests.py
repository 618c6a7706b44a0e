"""The declarative commands: ``plan``, ``apply`` and ``export``.

``plan --exit-code`` exits 3 when something would change (0 when nothing would), for drift
detection in CI; failures keep 1 and bad input 2. ``export`` writes what an account holds
as a manifest that ``plan`` finds nothing to change in. PyYAML, the planner and the client
are imported when a command runs, not when ``--help`` is asked for.

Both ``plan`` and ``apply`` end by naming the workspaces the manifest covers; ``apply``
interrupted by Ctrl-C says what it had stored by then (running it again is safe: the
next plan lists what exists and does only what is left).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .._constants import DEFAULT_BULK_CONCURRENCY
from .exporting import export_command
from .inputs import PathType
from .keys import confirm
from .scopes import command_line
from .session import (
    EXIT_CHANGES,
    EXIT_FAILURE,
    EXIT_OK,
    Connection,
    Interrupted,
    Settings,
    common_options,
    connect,
    run,
)

if TYPE_CHECKING:
    from ..apply import ApplyResult, Manifest, Outcome, Plan

__all__ = ["register"]

F = TypeVar("F", bound=Callable[..., Any])

# Above this many changes, apply shows one line per change instead of every field.
_PLAN_DETAIL_LIMIT = 20

# The manifest options: (flag, parameter, help), in the order --help shows them.
_MANIFEST_FLAGS = (
    (
        "--prune",
        "prune",
        "Delete credentials the manifest does not name, in the workspaces and "
        "providers it manages.",
    ),
    ("--force-rotate", "force_rotate", "Send every managed credential's key again."),
    (
        "--allow-inline-keys",
        "allow_inline_keys",
        "Accept raw keys written in the manifest (key:). Off by default.",
    ),
    (
        "--allow-key-files-outside",
        "allow_key_files_outside",
        "Accept key_file paths that leave the manifest's directory (absolute, ../, a "
        "link out), e.g. /run/secrets/openai. Off by default.",
    ),
)


def _settings(ctx: click.Context) -> Settings:
    return ctx.ensure_object(Settings)


def _manifest_options(func: F) -> F:
    for flag, name, help_text in reversed(_MANIFEST_FLAGS):
        func = click.option(flag, name, is_flag=True, help=help_text)(func)
    return click.argument("manifest_path", metavar="MANIFEST", type=PathType())(func)


def _given_flags(flags: dict[str, bool]) -> list[str]:
    """The manifest flags given, as typed (``--prune``): for a command to run next."""
    return [flag for flag, name, _ in _MANIFEST_FLAGS if flags.get(name)]


def _load(settings: Settings, path: Path, flags: dict[str, bool]) -> Manifest:
    """The checked manifest; with --emulator, missing key references get fake keys.

    Every key it reads is a secret of the run from then on, even when the manifest turns
    out bad: a key pasted into another field would otherwise be echoed by the error.
    """
    from ..apply import load_manifest

    def secret(key: str) -> None:
        settings.redactor.add(key, always=True)

    manifest = load_manifest(
        path,
        allow_inline_keys=flags["allow_inline_keys"],
        allow_key_files_outside=flags["allow_key_files_outside"],
        fake_keys=settings.emulator,
        on_key=secret,
    )
    out = settings.output
    for warning in manifest.warnings:
        out.warning(warning)
    if manifest.faked:
        out.note(
            f"--emulator: {len(manifest.faked)} key reference(s) not available here; using "
            "deterministic fake keys (only ever sent to the emulator)"
        )
    return manifest


async def _plan(
    settings: Settings, conn: Connection, manifest: Manifest, flags: dict[str, bool]
) -> tuple[Plan, str | None]:
    """The plan, and the account's default workspace if the listing showed it."""
    from ..apply import fetch_state, make_plan

    state = await fetch_state(conn.client, manifest)
    plan = make_plan(
        manifest,
        state.keys,
        default_workspace_id=state.default_workspace_id,
        prune=flags["prune"],
        force_rotate=flags["force_rotate"],
    )
    for warning in plan.warnings:
        settings.output.warning(warning)
    return plan, state.default_workspace_id


def _plan_text(plan: Plan, *, limit: int | None = None, see_all: str = "") -> str:
    import attrs

    from ..apply import render_plan

    quiet = attrs.evolve(plan, warnings=())  # warnings went to stderr already
    if limit is not None and len(plan) > limit:
        more = f"(`{see_all}` lists every one)" if see_all else ""
        return render_plan(quiet, limit=limit, details=False, more=more)
    return render_plan(quiet)


def _closing_notes(
    settings: Settings, manifest: Manifest, path: Path, default_ws: str | None, *, changed: bool
) -> None:
    from .scopes import emulator_gone_lines, workspace_lines

    out = settings.output
    if not out.json_mode:  # hints for a reader: a script has the plan's workspace_id fields
        for line in workspace_lines(settings, manifest, str(path), default_ws):
            out.note(line)
    if changed:
        for line in emulator_gone_lines(settings, manifest=str(path)):
            out.note(line)


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
    ctx: click.Context, /, manifest_path: Path, exit_code: bool, **flags: bool
) -> None:
    """Show what `apply` would change to make the server match MANIFEST."""
    settings = _settings(ctx)

    async def main() -> int:
        from ..apply import plan_to_json

        out = settings.output
        manifest = _load(settings, manifest_path, flags)
        async with connect(settings) as conn:
            plan, default_ws = await _plan(settings, conn, manifest, flags)
        if out.json_mode:
            out.json(plan_to_json(plan))
        else:
            out.text(_plan_text(plan))
        _closing_notes(settings, manifest, manifest_path, default_ws, changed=False)
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
    ctx: click.Context, /, manifest_path: Path, yes: bool, concurrency: int, **flags: bool
) -> None:
    """Create, update, rotate (and with --prune delete) credentials to match MANIFEST.

    Interrupted (Ctrl-C), it says what it had stored; running it again is safe.
    """
    settings = _settings(ctx)

    async def main() -> int:
        from ..apply import ApplyResult, plan_to_json, result_to_json
        from .output import summary_line, summary_tables

        out = settings.output
        manifest = _load(settings, manifest_path, flags)
        async with connect(settings) as conn:
            plan, default_ws = await _plan(settings, conn, manifest, flags)
            if plan.is_empty:
                result = ApplyResult(unchanged=plan.unchanged)
            else:
                if not out.json_mode:
                    see_all = ["plan", str(manifest_path), *_given_flags(flags)]
                    text = _plan_text(
                        plan, limit=_PLAN_DETAIL_LIMIT, see_all=command_line(settings, *see_all)
                    )
                    out.text(text)
                confirm(f"Apply these {len(plan)} changes?", yes=yes)
                again = command_line(settings, "apply", str(manifest_path), *_given_flags(flags))
                result = await _carry_out(settings, conn, plan, concurrency, again)
        if out.json_mode:
            out.json({"plan": plan_to_json(plan), "result": result_to_json(result)})
        elif plan.is_empty:
            out.text(_plan_text(plan))
        else:
            for table in summary_tables(result):
                out.show(table)
            out.text(summary_line(result))
        default_ws = default_ws or _default_workspace(result)
        changed = bool(result.outcomes)
        _closing_notes(settings, manifest, manifest_path, default_ws, changed=changed)
        return EXIT_OK if result.ok else EXIT_FAILURE

    run(settings, main)


def _default_workspace(result: ApplyResult) -> str | None:
    """The default workspace, as the credentials created there say (when the listing
    before had nothing there to show it)."""
    from ..apply import Create

    for outcome in result.outcomes:
        item, key = outcome.item, outcome.key
        in_default = isinstance(item, Create) and item.desired.workspace_id is None
        if in_default and key is not None and isinstance(key.workspace_id, str):
            return key.workspace_id
    return None


async def _carry_out(
    settings: Settings, conn: Connection, plan: Plan, concurrency: int, again: str
) -> ApplyResult:
    """Apply *plan* with a progress bar; on Ctrl-C, raise :class:`Interrupted` saying
    what was done by then (and that *again*, the same apply, is safe to run)."""
    import asyncio
    import time

    from ..apply import apply_plan
    from .progress import ApplyProgress

    done: list[Outcome] = []
    started = time.monotonic()
    with ApplyProgress(len(plan), settings.output.stderr) as progress:

        def advance(outcome: Outcome) -> None:
            done.append(outcome)
            progress.advance(outcome)

        try:
            return await apply_plan(conn.client, plan, concurrency=concurrency, on_progress=advance)
        except asyncio.CancelledError:
            elapsed = time.monotonic() - started
            raise _interrupted(settings, plan, done, elapsed, again) from None


def _interrupted(
    settings: Settings, plan: Plan, done: list[Outcome], elapsed: float, again: str
) -> Interrupted:
    """What an apply stopped by Ctrl-C had done, as the error the command ends with."""
    from ..apply import ApplyResult, result_to_json
    from .output import summary_tables

    order = {id(item): index for index, item in enumerate(plan.items)}
    outcomes = tuple(sorted(done, key=lambda o: order.get(id(o.item), 0)))
    partial = ApplyResult(outcomes=outcomes, elapsed=elapsed, unchanged=plan.unchanged)
    out = settings.output
    if not out.json_mode:
        for table in summary_tables(partial):
            out.show(table)
    counts = partial.counts()
    made = ", ".join(f"{n} {what}" for what, n in counts.items() if n and what != "unchanged")
    message = (
        f"interrupted after {len(outcomes)} of {len(plan)} changes ({made or 'none made'}); "
        f"running it again is safe: `{again}` plans only what is left"
    )
    return Interrupted(message, {"result": result_to_json(partial)})


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (plan_command, apply_command, export_command):
        group.add_command(command)
