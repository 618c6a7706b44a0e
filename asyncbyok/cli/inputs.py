"""Options that become request fields, and reading a raw key without it touching argv.

A raw key comes from ``--key-env VAR``, ``--key-file PATH`` or ``--key-stdin``: never from
a plain ``--key VALUE``, which would land in shell history and ``ps`` output.
``--clear FIELD`` sends JSON ``null`` (for example ``--clear allowed-models``: no restriction).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from .._sentinel import UNSET
from .session import BadInput

__all__ = ["CLEARABLE", "field_options", "key_options", "read_key", "request_fields"]

F = TypeVar("F", bound=Callable[..., Any])

# --clear NAME -> the nullable request field it sends as null.
CLEARABLE = {
    "name": "name",
    "allowed-models": "allowed_models",
    "allowed-user-ids": "allowed_user_ids",
    "allowed-api-key-hashes": "allowed_api_key_hashes",
    "declared-region": "declared_region",
    "declared-zdr": "declared_zdr",
}

# (option, request field, repeatable list?)
_LISTS = (
    ("allowed_model", "allowed_models"),
    ("allowed_user_id", "allowed_user_ids"),
    ("allowed_api_key_hash", "allowed_api_key_hashes"),
)
_FLAGS = (
    ("disabled", "disabled"),
    ("fallback", "is_fallback"),
    ("byok_only", "is_byok_only"),
    ("required", "is_required"),
    ("declared_zdr", "declared_zdr"),
)
_SCALARS = (("name", "name"), ("declared_region", "declared_region"))

_FIELD_OPTIONS = (
    click.option("--name", help="Human-readable name."),
    click.option(
        "--allowed-model",
        multiple=True,
        metavar="SLUG",
        help="Allow only this model (repeatable).",
    ),
    click.option(
        "--allowed-user-id", multiple=True, metavar="ID", help="Allow only this user (repeatable)."
    ),
    click.option(
        "--allowed-api-key-hash",
        multiple=True,
        metavar="HASH",
        help="Allow only this OpenRouter API key hash (repeatable).",
    ),
    click.option("--disabled/--enabled", default=None, help="Disable or enable the credential."),
    click.option("--fallback/--no-fallback", default=None, help="Use only after other keys."),
    click.option("--byok-only/--no-byok-only", default=None, help="Remove shared endpoints."),
    click.option(
        "--required/--no-required", default=None, help="Remove shared endpoints for its models."
    ),
    click.option("--declared-region", metavar="REGION", help="global, europe or us."),
    click.option(
        "--declared-zdr/--no-declared-zdr",
        default=None,
        help="Declare the upstream account zero-data-retention (or not).",
    ),
    click.option(
        "--clear",
        "clear",
        multiple=True,
        type=click.Choice(sorted(CLEARABLE)),
        help="Send this field as null (no restriction / undeclared); repeatable.",
    ),
)

_KEY_OPTIONS = (
    click.option("--key-env", metavar="VAR", help="Read the raw key from this env variable."),
    click.option(
        "--key-file",
        metavar="PATH",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read the raw key from this file.",
    ),
    click.option("--key-stdin", is_flag=True, help="Read the raw key from standard input."),
)


def _apply(func: F, options: tuple[Callable[[F], F], ...]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def field_options(func: F) -> F:
    """The request-field options of ``create`` and ``update``."""
    return _apply(func, _FIELD_OPTIONS)


def key_options(func: F) -> F:
    """``--key-env``, ``--key-file``, ``--key-stdin``."""
    return _apply(func, _KEY_OPTIONS)


def request_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """The request fields the options set: ``{field: value}``; ``None`` for ``--clear``."""
    fields: dict[str, Any] = {}
    for option, field in _SCALARS:
        if params.get(option) is not None:
            fields[field] = params[option]
    for option, field in _LISTS:
        if params.get(option):
            fields[field] = list(params[option])
    for option, field in _FLAGS:
        if params.get(option) is not None:
            fields[field] = params[option]
    for name in params.get("clear", ()):
        field = CLEARABLE[name]
        if field in fields:
            raise BadInput(f"--clear {name} conflicts with a value given for the same field")
        fields[field] = None
    return fields


def read_key(params: Mapping[str, Any], *, required: bool) -> str | Any:
    """The raw key from ``--key-env``/``--key-file``/``--key-stdin``, or ``UNSET``."""
    given = [o for o in ("key_env", "key_file", "key_stdin") if params.get(o)]
    if len(given) > 1:
        raise BadInput("give only one of --key-env, --key-file, --key-stdin")
    if not given:
        if required:
            raise BadInput("a raw key is needed: --key-env VAR, --key-file PATH or --key-stdin")
        return UNSET
    source = given[0]
    if source == "key_env":
        var = params["key_env"]
        value = os.environ.get(var)
        if value is None:
            raise BadInput(f"environment variable {var} is not set")
        where = f"environment variable {var}"
    elif source == "key_file":
        path = Path(params["key_file"])
        try:
            value = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise BadInput(f"cannot read key file {path}: {reason}") from None
        where = f"key file {path}"
    else:
        value = sys.stdin.read()
        where = "standard input"
    value = value.strip()
    if not value:
        raise BadInput(f"the key from {where} is empty")
    return value
