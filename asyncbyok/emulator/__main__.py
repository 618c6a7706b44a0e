"""``python -m asyncbyok.emulator``: serve the emulator until SIGINT or SIGTERM.

::

    $ python -m asyncbyok.emulator --port 8080 --rate 200 --burst 20 --fail-rate 0.1 --seed 1
    export OPENROUTER_BASE_URL=http://127.0.0.1:8080/api/v1 OPENROUTER_API_KEY=emulator-mgmt-...
    # api_key (not a management key: answered 403): emulator-...
    # default_workspace_id: 4e1c...

The first line is for pasting into another shell (``Client()`` and the command read both
variables); the others are comments there. ``--json`` prints one JSON object instead,
``--log-requests`` a line per request on stderr. A program that starts it reads those
lines back with ``asyncbyok.emulator.printed.printed_values``.

It is the ``asyncbyok emulator`` command (``asyncbyok.cli.emulator``, which needs the
``cli`` extra for click), with the same options: ``--port 0`` takes a free port (the
printed ``base_url`` has the real one), ``--rate``/``--burst``/``--limit-kind``/
``--retry-after`` set a rate limit, ``--fail-rate`` and friends inject faults.
:func:`asyncbyok.emulator.serve.serve` runs an :class:`~asyncbyok.emulator.Emulator` in
the foreground, for programs that build their own.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The command line entry point; returns the exit status."""
    try:
        from ..cli.app import invoke
        from ..cli.emulator import emulator_command
    except ImportError as exc:  # the core install has no click
        print(
            f"python -m asyncbyok.emulator needs the cli extra ({exc.name} is missing): "
            "pip install 'asyncbyok[cli]'",
            file=sys.stderr,
        )
        return 2
    return invoke(emulator_command, argv, prog_name="python -m asyncbyok.emulator")


if __name__ == "__main__":
    sys.exit(main())
