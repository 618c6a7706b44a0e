"""``python -m asyncbyok.cli``: the same as the ``asyncbyok`` command."""

from .app import main

main()
