"""Logging while a command runs: with ``--debug`` the client's log on stderr, and in
every run, whoever logs (asyncio in debug mode, aiohttp, a library), every record
redacted before any handler writes it.

``PYTHONASYNCIODEBUG=1`` makes asyncio log slow callbacks with the ``repr`` of their
arguments, and unretrieved task exceptions with their messages: text the command does not
write, which the ``asyncbyok`` logger's redaction never saw. A filter on every handler
(and on Python's last-resort handler, which writes when nothing is configured) scrubs
each record once, for the run only: a command run in-process leaves logging as it was.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .redact import Redactor
    from .session import Settings

__all__ = ["debug_logging", "redacted_logging"]


class _Scrub(logging.Filter):
    """Redacts a record in place: its message, its exception's text, its stack."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "asyncbyok_redacted", False):
            return True
        scrub = self.redactor.scrub
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record.asyncbyok_redacted = True
        return True


@contextlib.contextmanager
def redacted_logging(redactor: Redactor) -> Iterator[None]:
    """Redact every log record emitted while the block runs, whatever logs it."""
    scrub = _Scrub(redactor)
    handlers: set[logging.Handler] = set(logging.root.handlers)
    if logging.lastResort is not None:
        handlers.add(logging.lastResort)
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers.update(logger.handlers)
    # A handler added during the run (say by a library) still gets asyncio's records
    # scrubbed: the filter sits on that logger too.
    loggers = [logging.getLogger("asyncio"), logging.getLogger("aiohttp")]
    for each in (*handlers, *loggers):
        each.addFilter(scrub)
    try:
        yield
    finally:
        for each in (*handlers, *loggers):
            each.removeFilter(scrub)


@contextlib.contextmanager
def debug_logging(settings: Settings) -> Iterator[None]:
    """With ``--debug``, the client's log (method, URL, status; never a key) on stderr,
    redacted, for this run only: a command run in-process leaves logging as it was."""
    if not settings.debug:
        yield
        return
    import logging
    import sys

    class CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
        """Whatever ``sys.stderr`` is now (tests and embedders swap it)."""

        @property
        def stream(self) -> Any:
            return sys.stderr

        @stream.setter
        def stream(self, _: Any) -> None:
            pass

    logger = logging.getLogger("asyncbyok")
    handler = CurrentStderr()
    redactor = settings.redactor

    class Redacting(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return redactor.scrub(super().format(record))

    handler.setFormatter(Redacting("%(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
