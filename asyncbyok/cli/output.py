"""Where output goes: data on stdout (rich tables, or JSON with ``--json``), everything
else (progress, notes, warnings, errors) on stderr. Raw keys are never given to any of it,
and every diagnostic goes through the run's redactor as well.

rich is imported only when a table or a progress bar is first drawn.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ..apply.execute import ApplyResult
    from ..models import BYOKKey
    from .redact import Redactor

__all__ = ["Output", "key_detail", "key_json", "keys_table", "summary_line", "summary_tables"]

# Wide enough that tables piped to a file or a test do not wrap their UUIDs.
PIPE_WIDTH = 240


def make_console(*, stderr: bool, width: int | None = None) -> Console:
    """A rich console on stdout or stderr: the terminal's width, or :data:`PIPE_WIDTH`
    when the stream is not a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if width is None and not stream.isatty():
        width = PIPE_WIDTH
    return Console(file=stream, highlight=False, width=width)


class Output:
    """Printing helpers for one command; ``json_mode`` is ``--json``."""

    def __init__(self, json_mode: bool = False, redactor: Redactor | None = None) -> None:
        self.json_mode = json_mode
        self._redactor = redactor
        self._stdout: Console | None = None
        self._stderr: Console | None = None

    def redacted(self, message: str) -> str:
        """*message* with every secret of this run replaced by ``<redacted>``, and every
        character a terminal would act on (escape sequences, a carriage return, a newline
        from a server's message) made visible: a diagnostic is one line of text."""
        from ..apply._text import visible

        scrubbed = self._redactor.scrub(message) if self._redactor is not None else message
        return visible(scrubbed)

    @property
    def stdout(self) -> Console:
        """The rich console on standard output (data)."""
        if self._stdout is None:
            self._stdout = make_console(stderr=False)
        return self._stdout

    @property
    def stderr(self) -> Console:
        """The rich console on standard error (progress)."""
        if self._stderr is None:
            self._stderr = make_console(stderr=True)
        return self._stderr

    # -- diagnostics: stderr, one plain line each, never wrapped, always redacted -------

    def error(self, message: str) -> None:
        """``Error: message`` on stderr."""
        error = click.style("Error:", fg="red", bold=True)
        click.echo(f"{error} {self.redacted(message)}", err=True)

    def warning(self, message: str) -> None:
        """``Warning: message`` on stderr."""
        click.echo(f"{click.style('Warning:', fg='yellow')} {self.redacted(message)}", err=True)

    def note(self, message: str) -> None:
        """A dim note on stderr (counts, where the emulator is)."""
        click.echo(click.style(self.redacted(message), dim=True), err=True)

    def diagnostic(self, message: str) -> None:
        """A plain line on stderr (the further lines of an error)."""
        click.echo(self.redacted(message), err=True)

    # -- data: stdout ------------------------------------------------------------------

    def json(self, data: Any) -> None:
        """*data* as one JSON document on stdout (characters a terminal would act on are
        written as JSON escapes: the same document)."""
        from ..apply._text import visible_json

        click.echo(visible_json(json.dumps(data, indent=2, ensure_ascii=False)))

    def text(self, text: str) -> None:
        """Plain text on stdout, its lines kept and anything else a terminal would act on
        made visible (values were escaped where they were written in; this is the net)."""
        from ..apply._text import visible_lines

        click.echo(visible_lines(text))

    def show(self, renderable: Any) -> None:
        """A rich table on stdout; piped, without the padding at line ends."""
        console = self.stdout
        if console.is_terminal:
            console.print(renderable)
            return
        # Piped: no padding at line ends, so scripts and diffs see clean lines.
        with console.capture() as captured:
            console.print(renderable)
        click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def jsonable(value: Any) -> Any:
    """A model field's value as JSON-ready data (enums as strings, times as RFC 3339)."""
    import enum

    from .._sentinel import UNSET

    if value is UNSET:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def key_json(key: BYOKKey) -> dict[str, Any]:
    """A credential as the API sends it (every field the server gave)."""
    from .. import codec

    data: dict[str, Any] = codec.unstructure(key)
    return data


def _allowlist(value: Any) -> str:
    from .._sentinel import UNSET

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
    shown = jsonable(value)
    return "" if shown is None else str(shown)


class _Column:
    def __init__(self, header: str, cell: Callable[[BYOKKey], str], drop: int) -> None:
        self.header = header
        self.cell = cell
        self.drop = drop  # 0: always shown; otherwise dropped in increasing order


# In the order shown. ``drop`` says which go first when the terminal is narrow: the
# creation time, then the workspace id, the model list, the label, the status. Ids are
# never cut (they are for copying), and NAME wraps before anything essential goes; STATUS
# outlasts LABEL, or a disabled credential would look like an enabled one.
_COLUMNS = (
    _Column("ID", lambda k: k.id, 0),
    _Column("PROVIDER", lambda k: _text(k.provider), 0),
    _Column("NAME", lambda k: _text(k.name), 0),
    _Column("STATUS", _flags, 5),
    _Column("LABEL", lambda k: k.label, 4),
    _Column("WORKSPACE", lambda k: _text(k.workspace_id), 2),
    _Column("MODELS", lambda k: _allowlist(k.allowed_models), 3),
    _Column("CREATED", lambda k: _text(k.created_at or k.created_at_raw or None), 1),
)
_GAP = 2  # rich's padding between two columns
_NAME_MIN = 12  # below this NAME would wrap too much: drop another column instead


def table_columns(
    rows: Sequence[Sequence[str]], width: int, *, keep: Sequence[str] = ()
) -> list[int]:
    """Indexes of the :data:`_COLUMNS` that fit in *width* for these cell texts; the
    columns named in *keep* stay whatever the width."""
    natural = [max([len(c.header), *(len(row[i]) for row in rows)]) for i, c in enumerate(_COLUMNS)]
    name = 2
    shown = list(range(len(_COLUMNS)))
    droppable = (c for c in _COLUMNS if c.drop and c.header not in keep)
    for column in sorted(droppable, key=lambda c: c.drop):
        others = sum(natural[i] for i in shown if i != name) + _GAP * (len(shown) - 1)
        if width - others >= min(natural[name], _NAME_MIN):
            break
        shown.remove(_COLUMNS.index(column))
    return shown


def keys_table(keys: Iterable[BYOKKey], width: int, *, keep_workspace: bool = False) -> Table:
    """Credentials as a table for a terminal *width* columns wide, one row each.

    ID, PROVIDER and NAME are always there (and WORKSPACE with *keep_workspace*: a listing
    of several); ids are whole; NAME wraps when it must.
    Every cell is text: no markup is read in it, and control characters are escaped.
    """
    from rich.table import Table
    from rich.text import Text

    from ..apply._text import visible

    rows = [[visible(c.cell(k)) for c in _COLUMNS] for k in keys]
    table = Table(box=None, header_style="bold", pad_edge=False)
    shown = table_columns(rows, width, keep=("WORKSPACE",) if keep_workspace else ())
    for i in shown:
        header = _COLUMNS[i].header
        if header == "NAME":
            table.add_column(header, overflow="fold", min_width=min(_NAME_MIN, 4))
        else:
            table.add_column(header, no_wrap=True, overflow="fold")
    for row in rows:  # Text, not str: rich would read "[/old]" in a name as markup
        table.add_row(*(Text(row[i]) for i in shown))
    return table


def key_detail(key: BYOKKey) -> Table:
    """One credential, field by field (``null`` fields shown as such)."""
    from rich.table import Table
    from rich.text import Text

    from ..apply._text import visible

    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for field, value in key_json(key).items():
        shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
        table.add_row(Text(visible(field)), Text(visible(shown)))
    return table


def summary_line(result: ApplyResult) -> str:
    """``291 changes in 1.4 s (207.9/s); 0 failed``."""
    done = len(result.outcomes)
    rate = done / result.elapsed if result.elapsed > 0 else 0.0
    return f"{done} changes in {result.elapsed:.1f} s ({rate:.1f}/s); {result.failed} failed"


def summary_tables(result: ApplyResult, *, max_failures: int = 20) -> list[Table]:
    """The end-of-apply summary: counts, then the failures (at most *max_failures*)."""
    from rich.table import Table
    from rich.text import Text

    from ..apply._text import visible
    from ..apply.render import describe_item, error_text

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
            failed.add_row(
                outcome.action,
                Text(visible(describe_item(outcome.item))),
                Text(visible(error_text(outcome.error))),
            )
        if len(failures) > max_failures:
            failed.caption = f"... and {len(failures) - max_failures} more (use --json for all)"
        tables.append(failed)
    return tables
