"""The ``asyncbyok`` command line (needs the ``cli`` extra: click, rich, PyYAML).

Run ``asyncbyok --help``; the commands live in :mod:`asyncbyok.cli.app`.
"""

from .app import cli, main

__all__ = ["cli", "main"]
