"""The ``asyncbyok`` command: credentials one by one, declarative ``plan``/``apply``,
``export``, a leaked key's ``find-key`` and ``rotate``, and the emulator.

::

    asyncbyok list --provider openai             # table; --json for scripts
    asyncbyok create --provider openai --name prod --key-env OPENAI_KEY
    asyncbyok update ID --clear allowed-models   # send null: no restriction
    asyncbyok plan fleet.yaml --exit-code        # what apply would change; 3 if anything
    asyncbyok apply fleet.yaml --yes             # make it so
    asyncbyok export > fleet.yaml                # adopt what the account holds
    asyncbyok find-key --key-env LEAKED --workspace-id default --workspace-id WS
    asyncbyok rotate --from-key-env LEAKED --to-key-env NEW --manifest fleet.yaml
    asyncbyok apply examples/fleet.yaml --emulator --yes   # try it with no account

Every command takes ``--api-key`` (``$OPENROUTER_API_KEY``), ``--base-url``
(``$OPENROUTER_BASE_URL``), ``--allow-insecure-http``, ``--emulator``, ``--json`` and
``--debug``, before or after its name.

Starting fast matters (``asyncbyok --help`` in a shell loop, in CI): this module and the
command modules import click and nothing heavy; the client, the emulator, rich and PyYAML
are imported inside the commands that use them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from .._version import __version__
from . import keys, leaks, manifests
from .emulator import emulator_command
from .session import EXIT_INTERRUPTED, Settings, common_options

__all__ = ["cli", "invoke", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="asyncbyok")
@common_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Manage OpenRouter BYOK provider credentials (asyncbyok).

    Exit status: 0 success, 1 an API failure (some items, for apply, delete, rotate), 2 bad
    input (nothing was sent), 3 `plan --exit-code` found changes, 130 interrupted.
    """
    ctx.ensure_object(Settings)


keys.register(cli)
manifests.register(cli)
leaks.register(cli)
cli.add_command(emulator_command)


def _wants_json(args: Sequence[str]) -> bool:
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


def _usage_failure(exc: click.ClickException, args: Sequence[str]) -> int:
    """Show a click error (usage, bad option value) with nothing secret in it."""
    import os

    from .._constants import API_KEY_ENV
    from .failure import Failure, error_document
    from .output import Output
    from .redact import Redactor

    redactor = Redactor()
    redactor.add(os.environ.get(API_KEY_ENV), always=True)
    for index, arg in enumerate(args):
        redactor.add(arg)
        if index and args[index - 1] == "--api-key":
            redactor.add(arg, always=True)
        elif arg.startswith("--api-key="):
            redactor.add(arg.partition("=")[2], always=True)
    from ..apply._text import visible

    # Shown redacted, and as text: click repeats the argument it refused.
    exc.message = visible(redactor.scrub(exc.message))  # type: ignore[misc]
    exc.show()
    if _wants_json(args):
        kind = "usage" if isinstance(exc, click.UsageError) else "bad_input"
        failure = Failure(exc.exit_code, kind, exc.format_message())
        Output(json_mode=True).json(error_document(failure, redactor))
    return exc.exit_code


def invoke(
    command: click.Command, argv: Sequence[str] | None = None, *, prog_name: str = "asyncbyok"
) -> int:
    """Run *command* with *argv* (default: ``sys.argv[1:]``) and return its exit status.

    Errors click finds in the command line are shown like click shows them, redacted, and
    with ``--json`` also as the one JSON document (``{"error": {"kind": "usage", ...}}``).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = command.main(args=args, prog_name=prog_name, standalone_mode=False)
    except click.ClickException as exc:
        return _usage_failure(exc, args)
    except click.exceptions.Abort:  # Ctrl-C or end of input at a prompt
        click.echo("Aborted!", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("Error: interrupted", err=True)
        return EXIT_INTERRUPTED
    return code if isinstance(code, int) else 0


def main(argv: Sequence[str] | None = None, *, standalone_mode: bool = True) -> int:
    """The console script ``asyncbyok``; with ``standalone_mode=False`` the exit status is
    returned instead of exiting (for tests and embedding)."""
    code = invoke(cli, argv)
    if standalone_mode:
        sys.exit(code)
    return code
