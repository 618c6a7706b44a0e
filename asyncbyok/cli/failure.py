"""How a command fails: one ``Error:`` line on stderr, an exit status, and with ``--json``
one JSON document on stdout instead of the command's usual data.

The error document is stable (documented in the CLI guide)::

    {"error": {"exit_code": 2, "kind": "bad_input", "message": "...", "errors": [...]}}

``kind`` is one of ``usage`` (click refused the command line), ``bad_input``,
``declined`` (no to a confirmation), ``validation`` (with ``subject`` and ``errors``:
``[{"path": ..., "message": ...}]``), ``api`` (with ``class``, ``status`` and
``request_id``), ``connection``, ``interrupted`` or ``unexpected``. Every message has
been through the run's :class:`~asyncbyok.cli.redact.Redactor`: no secret reaches either
stream.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import click

from .exits import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, BadInput, Declined, Interrupted

if TYPE_CHECKING:
    from ..errors import FieldError
    from .redact import Redactor
    from .session import Settings

__all__ = ["Failure", "error_document", "fail", "failure_of"]


@attrs.frozen
class Failure:
    """An outcome that is not success: its exit status, its kind, its message."""

    exit_code: int
    kind: str
    message: str
    details: dict[str, Any] = attrs.field(factory=dict)
    lines: tuple[str, ...] = ()
    """Further lines for stderr (the other fields of a validation error)."""


def failure_of(exc: BaseException, *, debug: bool = False) -> Failure:
    """The :class:`Failure` an exception stands for."""
    from ..errors import (
        APIConnectionError,
        APIError,
        APIStatusError,
        AsyncBYOKError,
        UnreadableStateError,
        ValidationError,
    )

    if isinstance(exc, BadInput):
        return Failure(EXIT_BAD_INPUT, "bad_input", str(exc))
    if isinstance(exc, Declined):
        return Failure(EXIT_FAILURE, "declined", str(exc))
    if isinstance(exc, Interrupted):
        return Failure(EXIT_INTERRUPTED, "interrupted", str(exc), exc.details)
    if isinstance(exc, ValidationError):
        errors = [{"path": e.path, "message": e.message} for e in exc.errors]
        details = {"subject": exc.subject, "errors": errors}
        if len(exc.errors) == 1:
            message = f"{exc.subject}: {_field_error(exc.errors[0])}"
            return Failure(EXIT_BAD_INPUT, "validation", message, details)
        count = len(exc.errors)
        lines = tuple(f"  {_field_error(e)}" for e in exc.errors)
        return Failure(
            EXIT_BAD_INPUT, "validation", f"{exc.subject}: {count} errors", details, lines
        )
    if isinstance(exc, APIStatusError):
        status = exc.status_code
        rid = f" (request id {exc.request_id})" if exc.request_id else ""
        return Failure(
            EXIT_FAILURE,
            "api",
            f"{status} {type(exc).__name__}: {exc.message}{rid}",
            {"class": type(exc).__name__, "status": status, "request_id": exc.request_id},
        )
    if isinstance(exc, APIConnectionError):
        return Failure(
            EXIT_FAILURE,
            "connection",
            f"cannot reach the API: {exc}",
            {"class": type(exc).__name__},
        )
    if isinstance(exc, (APIError, UnreadableStateError)):  # the server's doing, not the input's
        return Failure(EXIT_FAILURE, "api", str(exc), {"class": type(exc).__name__})
    if isinstance(exc, AsyncBYOKError):  # bad settings, e.g. a base URL that is not one
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Failure(EXIT_BAD_INPUT, "bad_input", first, {"class": type(exc).__name__})
    hint = "" if debug else " (run with --debug for the traceback)"
    return Failure(
        EXIT_FAILURE,
        "unexpected",
        f"unexpected {type(exc).__name__}: {exc}{hint}",
        {"class": type(exc).__name__},
    )


def _field_error(error: FieldError) -> str:
    """``keys[3].name: is required``; an error about the whole document (path ``$``, kept
    in ``--json``) is its message alone."""
    return error.message if error.path in ("$", "") else f"{error.path}: {error.message}"


def error_document(failure: Failure, redactor: Redactor) -> dict[str, Any]:
    """The ``--json`` document of a failure (redacted)."""
    body: dict[str, Any] = {
        "exit_code": failure.exit_code,
        "kind": failure.kind,
        "message": redactor.scrub(failure.message),
    }
    for name, value in failure.details.items():
        if name == "errors":
            value = [{k: redactor.scrub(v) for k, v in e.items()} for e in value]
        elif isinstance(value, str):
            value = redactor.scrub(value)
        body[name] = value
    return {"error": body}


def fail(settings: Settings, failure: Failure, *, exc: BaseException | None = None) -> NoReturn:
    """Report *failure* (stderr, and stdout with ``--json``) and exit with its status."""
    out = settings.output
    if exc is not None and settings.debug:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        from ..apply._text import visible_lines

        sys.stderr.write(visible_lines(settings.redactor.scrub(text)))
    out.error(failure.message)
    for line in failure.lines:
        out.diagnostic(line)
    if out.json_mode:
        out.json(error_document(failure, settings.redactor))
    raise click.exceptions.Exit(failure.exit_code)
