"""``python -m asyncbyok``: the ``asyncbyok`` command (needs the ``cli`` extra).

Only this module, run as a program, imports the command line; ``import asyncbyok`` stays
as light as it was.
"""

import sys


def _run() -> None:
    try:
        from .cli.app import main
    except ImportError as exc:  # click, rich or PyYAML missing: the cli extra
        missing = exc.name or "a dependency"
        sys.exit(
            f"python -m asyncbyok needs the cli extra ({missing} is missing): "
            "pip install 'asyncbyok[cli]'"
        )
    main()


if __name__ == "__main__":
    _run()
