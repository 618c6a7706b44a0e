"""Options that become request fields, and reading a raw key without it touching argv.

A raw key comes from ``--key-env VAR``, ``--key-file PATH`` or ``--key-stdin``: never from
a plain ``--key VALUE``, which would land in shell history and ``ps`` output. A key read
from a file or standard input loses exactly one trailing newline; other surrounding
whitespace is refused. ``--clear FIELD`` sends JSON ``null`` (for example
``--clear allowed-models``: no restriction).

:data:`FIELD_OPTIONS` is the one table of request-field options. It is written out here,
not built from the request models, so that ``asyncbyok --help`` need not import them;
``tests/cli/test_inputs.py`` checks it against ``attrs.fields(CreateBYOKKeyRequest)`` and
``attrs.fields(UpdateBYOKKeyRequest)``, so a new API field cannot be forgotten.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .session import BadInput

if TYPE_CHECKING:
    from .redact import Redactor

__all__ = [
    "CLEARABLE",
    "FIELD_OPTIONS",
    "FieldOption",
    "PathType",
    "field_options",
    "key_options",
    "prefixed_key_options",
    "read_key",
    "refuse_key_in_fields",
    "request_fields",
]

F = TypeVar("F", bound=Callable[..., Any])


class PathType(click.Path):
    """``click.Path`` giving a :class:`~pathlib.Path`, refusing a NUL character as bad
    input (``os.stat`` raises ``ValueError`` for one, which click does not catch)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(path_type=Path, **options)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\x00" in value:
            self.fail("a path cannot hold a NUL character", param, ctx)
        return super().convert(value, param, ctx)


class FieldOption:
    """One request field's option: ``kind`` is ``text``, ``list`` (repeatable) or ``flag``
    (``--x/--no-x``); ``nullable`` fields can be sent as ``null`` with ``--clear``."""

    def __init__(
        self, field: str, decl: str, kind: str, help: str, *, nullable: bool, metavar: str = ""
    ) -> None:
        self.field = field
        self.decl = decl
        self.kind = kind
        self.help = help
        self.nullable = nullable
        self.metavar = metavar

    def option(self) -> Callable[[F], F]:
        """The click option, passing its value as the parameter named like the field."""
        if self.kind == "flag":
            return click.option(self.decl, self.field, default=None, help=self.help)
        return click.option(
            self.decl,
            self.field,
            multiple=self.kind == "list",
            metavar=self.metavar or None,
            help=self.help,
        )


# Every request field create and update share, in the order --help shows them.
FIELD_OPTIONS = (
    FieldOption("name", "--name", "text", "Human-readable name.", nullable=True),
    FieldOption(
        "allowed_models",
        "--allowed-model",
        "list",
        "Allow only this model (repeatable).",
        nullable=True,
        metavar="SLUG",
    ),
    FieldOption(
        "allowed_user_ids",
        "--allowed-user-id",
        "list",
        "Allow only this user (repeatable).",
        nullable=True,
        metavar="ID",
    ),
    FieldOption(
        "allowed_api_key_hashes",
        "--allowed-api-key-hash",
        "list",
        "Allow only this OpenRouter API key hash (repeatable).",
        nullable=True,
        metavar="HASH",
    ),
    FieldOption(
        "disabled",
        "--disabled/--enabled",
        "flag",
        "Disable or enable the credential.",
        nullable=False,
    ),
    FieldOption(
        "is_fallback",
        "--fallback/--no-fallback",
        "flag",
        "Use only after other keys.",
        nullable=False,
    ),
    FieldOption(
        "is_byok_only",
        "--byok-only/--no-byok-only",
        "flag",
        "Remove shared endpoints.",
        nullable=False,
    ),
    FieldOption(
        "is_required",
        "--required/--no-required",
        "flag",
        "Remove shared endpoints for its models.",
        nullable=False,
    ),
    FieldOption(
        "declared_region",
        "--declared-region",
        "text",
        "global, europe or us.",
        nullable=True,
        metavar="REGION",
    ),
    FieldOption(
        "declared_zdr",
        "--declared-zdr/--no-declared-zdr",
        "flag",
        "Declare the upstream account zero-data-retention (or not).",
        nullable=True,
    ),
)

# --clear NAME -> the nullable request field it sends as null.
CLEARABLE: dict[str, str] = {
    o.field.replace("_", "-"): o.field for o in FIELD_OPTIONS if o.nullable
}

_CLEAR_OPTION = click.option(
    "--clear",
    "clear",
    multiple=True,
    type=click.Choice(sorted(CLEARABLE)),
    help="Send this field as null (no restriction / undeclared); repeatable.",
)


def _key_options(prefix: str = "", which: str = "the raw key") -> tuple[Callable[[F], F], ...]:
    """``--{prefix}key-env``, ``--{prefix}key-file``, ``--{prefix}key-stdin``."""
    return (
        click.option(
            f"--{prefix}key-env", metavar="VAR", help=f"Read {which} from this env variable."
        ),
        click.option(
            f"--{prefix}key-file",
            metavar="PATH",
            help=f"Read {which} from this file (one final newline is removed).",
        ),
        click.option(
            f"--{prefix}key-stdin", is_flag=True, help=f"Read {which} from standard input."
        ),
    )


_KEY_OPTIONS = _key_options()


def _apply(func: F, options: tuple[Callable[[F], F], ...]) -> F:
    for option in reversed(options):
        func = option(func)
    return func


def field_options(func: F) -> F:
    """The request-field options of ``create`` and ``update``, and ``--clear``."""
    return _apply(func, (*(o.option() for o in FIELD_OPTIONS), _CLEAR_OPTION))


def key_options(func: F) -> F:
    """``--key-env``, ``--key-file``, ``--key-stdin``."""
    return _apply(func, _KEY_OPTIONS)


def prefixed_key_options(prefix: str, which: str) -> Callable[[F], F]:
    """The key options with a prefix (``--from-key-env``...), for a command reading two
    keys; *which* says which key, in their help."""

    def decorate(func: F) -> F:
        return _apply(func, _key_options(prefix, which))

    return decorate


def request_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """The request fields the options set: ``{field: value}``; ``None`` for ``--clear``."""
    from ..apply._keys import KEY_SHAPED_NAME, KEY_TOKEN

    name = params.get("name")
    if isinstance(name, str) and KEY_TOKEN.search(name):
        raise BadInput(f"--name: the value {KEY_SHAPED_NAME}")
    fields: dict[str, Any] = {}
    for option in FIELD_OPTIONS:
        value = params.get(option.field)
        if option.kind == "list":
            if value:
                fields[option.field] = list(value)
        elif value is not None:
            fields[option.field] = value
    for name in params.get("clear", ()):
        field = CLEARABLE[name]
        if field in fields:
            raise BadInput(f"--clear {name} conflicts with a value given for the same field")
        fields[field] = None
    return fields


def refuse_key_in_fields(fields: Mapping[str, Any], key: Any) -> None:
    """Refuse a request whose other fields hold the raw key (a name, an allowlist entry):
    the server would store it in plain text, and list and export would show it."""
    if not isinstance(key, str) or len(key) < 8:
        return
    for field, value in fields.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if field != "key" and any(isinstance(v, str) and key in v for v in values):
            option = next(o.decl.split("/")[0] for o in FIELD_OPTIONS if o.field == field)
            raise BadInput(
                f"{option}: the value holds the raw key (it is not shown): a key is given "
                "only by --key-env, --key-file or --key-stdin"
            )


def _refuse_key_shaped(option: str, value: str, what: str) -> None:
    from ..apply._keys import is_env_name, looks_like_key

    is_env = option.endswith("key-env")
    if looks_like_key(value) or (is_env and not is_env_name(value)):
        raise BadInput(
            f"{option}: the value looks like a raw key, not {what} (it is not shown); "
            f"put the key in {'a variable' if is_env else 'a file'} "
            "and give its name"
        )


def read_key(
    params: Mapping[str, Any], *, required: bool, redactor: Redactor, prefix: str = ""
) -> str | Any:
    """The raw key from ``--key-env``/``--key-file``/``--key-stdin`` (with *prefix*:
    ``--from-key-env`` ...), or ``UNSET``.

    The key is remembered by *redactor*, so no later message can show it.
    """
    from .._sentinel import UNSET
    from ..apply._keys import KeyFileError, key_text_problem, read_key_file, read_key_text

    env, file, stdin = (f"{prefix}key-{kind}" for kind in ("env", "file", "stdin"))
    given = [o for o in (env, file, stdin) if params.get(o.replace("-", "_"))]
    if len(given) > 1:
        raise BadInput(f"give only one of --{env}, --{file}, --{stdin}")
    if not given:
        if required:
            raise BadInput(f"a raw key is needed: --{env} VAR, --{file} PATH or --{stdin}")
        return UNSET
    source = given[0]
    if source == env:
        var = params[env.replace("-", "_")]
        _refuse_key_shaped(f"--{env}", var, "an environment variable name")
        value = os.environ.get(var)
        if value is None:
            raise BadInput(f"environment variable {var} is not set")
        where = f"environment variable {var}"
    elif source == file:
        name = params[file.replace("-", "_")]
        _refuse_key_shaped(f"--{file}", name, "a file path")
        if "\x00" in name:  # os.open would raise ValueError, not OSError
            raise BadInput(f"--{file}: a path cannot hold a NUL character")
        path = Path(name)
        where = f"key file {path}"
        try:
            value = read_key_file(path)
        except KeyFileError as exc:
            raise BadInput(f"{where} {exc.problem}") from None
    else:
        where = "standard input"
        try:
            value = read_key_text(sys.stdin)
        except KeyFileError as exc:
            raise BadInput(f"{where} {exc.problem}") from None
    redactor.add(value, always=True)
    problem = key_text_problem(value)
    if problem:
        raise BadInput(f"the key from {where} {problem}")
    return value
