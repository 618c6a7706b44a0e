"""Progress of an apply (or a search, a rotation) on stderr: a rich bar with rate and ETA
on a terminal, and a plain line at most once a second otherwise (CI logs, pipes, tests)."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["ApplyProgress", "Finished"]


class Finished(Protocol):
    """One finished item: an apply's :class:`~asyncbyok.apply.Outcome`, or any other."""

    @property
    def ok(self) -> bool: ...


class _RateColumn(ProgressColumn):
    """Items per second, from rich's recent samples."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:6.1f}/s" if speed else "     -/s", style="cyan")


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class ApplyProgress:
    """Counts finished items; use as a context manager and call :meth:`advance`. *verb*
    says what is under way (``applying``, ``searching``, ``rotating``)."""

    def __init__(
        self, total: int, console: Console, *, interval: float = 1.0, verb: str = "applying"
    ) -> None:
        self.total = total
        self.verb = verb
        self.done = 0
        self.failed = 0
        self._console = console
        self._interval = interval
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        if console.is_terminal:
            self._bar = Progress(
                TextColumn(f"[bold]{verb}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RateColumn(),
                TextColumn("[red]{task.fields[failed]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
            )

    def __enter__(self) -> ApplyProgress:
        self._started = self._last_line = time.monotonic()
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("apply", total=self.total, failed="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.total:
            self._line()

    def advance(self, outcome: Finished) -> None:
        """Count one finished item (the ``on_progress`` callback of an apply)."""
        self.done += 1
        self.failed += not outcome.ok
        if self._bar is not None and self._task is not None:
            failed = f"{self.failed} failed" if self.failed else ""
            self._bar.update(self._task, advance=1, failed=failed)
            return
        now = time.monotonic()
        if now - self._last_line >= self._interval and self.done < self.total:
            self._last_line = now
            self._line()

    def _line(self) -> None:
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        percent = 100 * self.done // self.total if self.total else 100
        failed = f", {self.failed} failed" if self.failed else ""
        self._console.print(
            f"{self.verb}: {self.done}/{self.total} ({percent}%) {rate:.1f}/s, "
            f"elapsed {_clock(elapsed)}, ETA {_clock(eta)}{failed}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
