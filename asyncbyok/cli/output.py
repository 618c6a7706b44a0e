"""Where output goes: data on stdout (rich tables, or JSON with ``--json``), everything
else (progress, notes, warnings, errors) on stderr. Raw keys are never given to any of it.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable
from typing import Any

import attrs
import click
from rich.console import Console
from rich.table import Table

from .. import codec
from .._sentinel import UNSET
from ..apply.execute import ApplyResult
from ..apply.render import describe_item, error_text
from ..models import BYOKKey

__all__ = ["Output", "key_detail", "keys_table", "summary_line", "summary_tables"]

# Wide enough that tables piped to a file or a test do not wrap their UUIDs.
_PIPE_WIDTH = 240


@functools.lru_cache(maxsize=2)
def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else _PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, width=width)


@attrs.frozen
class Output:
    """Printing helpers for one command; ``json_mode`` is ``--json``."""

    json_mode: bool = False

    @property
    def stdout(self) -> Console:
        return _console(False)

    @property
    def stderr(self) -> Console:
        return _console(True)

    # -- diagnostics: stderr, one plain line each, never wrapped ----------------------

    def error(self, message: str) -> None:
        click.echo(f"{click.style('Error:', fg='red', bold=True)} {message}", err=True)

    def warning(self, message: str) -> None:
        click.echo(f"{click.style('Warning:', fg='yellow')} {message}", err=True)

    def note(self, message: str) -> None:
        click.echo(click.style(message, dim=True), err=True)

    def diagnostic(self, message: str) -> None:
        click.echo(message, err=True)

    # -- data: stdout ------------------------------------------------------------------

    def json(self, data: Any) -> None:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))

    def text(self, text: str) -> None:
        click.echo(text)

    def show(self, renderable: Any) -> None:
        console = self.stdout
        if console.is_terminal:
            console.print(renderable)
            return
        # Piped: no padding at line ends, so scripts and diffs see clean lines.
        with console.capture() as captured:
            console.print(renderable)
        click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def key_json(key: BYOKKey) -> dict[str, Any]:
    """A credential as the API sends it (every field the server gave)."""
    data: dict[str, Any] = codec.unstructure(key)
    return data


def _allowlist(value: Any) -> str:
    if value is UNSET:
        return "?"
    if value is None:
        return "any"
    return ", ".join(value) if len(value) <= 2 else f"{len(value)} items"


def _flags(key: BYOKKey) -> str:
    flags = ["disabled" if key.disabled else "enabled"]
    flags += [f for f in ("fallback", "byok_only", "required") if getattr(key, f"is_{f}", False)]
    return ", ".join(flags)


def _text(value: Any) -> str:
    return "" if value is UNSET or value is None else str(value)


def keys_table(keys: Iterable[BYOKKey]) -> Table:
    """Credentials as a table, one row each."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("ID", "PROVIDER", "NAME", "LABEL", "WORKSPACE", "STATUS", "MODELS", "CREATED"):
        table.add_column(column, no_wrap=column != "NAME", overflow="fold")
    for key in keys:
        table.add_row(
            key.id,
            str(key.provider),
            _text(key.name),
            key.label,
            _text(key.workspace_id),
            _flags(key),
            _allowlist(key.allowed_models),
            codec.format_datetime(key.created_at),
        )
    return table


def key_detail(key: BYOKKey) -> Table:
    """One credential, field by field (``null`` fields shown as such)."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for field, value in key_json(key).items():
        shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        table.add_row(field, shown)
    return table


def summary_line(result: ApplyResult) -> str:
    """``291 changes in 1.4 s (207.9/s); 0 failed``."""
    done = len(result.outcomes)
    rate = done / result.elapsed if result.elapsed > 0 else 0.0
    return f"{done} changes in {result.elapsed:.1f} s ({rate:.1f}/s); {result.failed} failed"


def summary_tables(result: ApplyResult, *, max_failures: int = 20) -> list[Table]:
    """The end-of-apply summary: counts, then the failures (at most *max_failures*)."""
    counts = Table(title="Apply summary", box=None, header_style="bold", pad_edge=False)
    counts.add_column("RESULT")
    counts.add_column("COUNT", justify="right")
    for label, value in result.counts().items():
        style = "red" if label == "failed" and value else None
        counts.add_row(label, str(value), style=style)
    tables = [counts]
    failures = result.failures
    if failures:
        failed = Table(title="Failures", box=None, header_style="bold", pad_edge=False)
        failed.add_column("ACTION")
        failed.add_column("CREDENTIAL", overflow="fold")
        failed.add_column("ERROR", overflow="fold")
        for outcome in failures[:max_failures]:
            failed.add_row(outcome.action, describe_item(outcome.item), error_text(outcome.error))
        if len(failures) > max_failures:
            failed.caption = f"... and {len(failures) - max_failures} more (use --json for all)"
        tables.append(failed)
    return tables
