"""The ``--help`` of every ``asyncbyok`` command, as included in ``docs/reference/cli.md``.

``tests/test_docs.py`` checks that the files in ``docs/_snippets/cli/`` match the command
as it is now. After changing the command line, write them again::

    python -m tests.docs_samples.cli_help
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from asyncbyok.cli import cli

SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "_snippets" / "cli"
WIDTH = 88


def commands() -> list[str]:
    """``""`` for the group, then every command name in alphabetical order."""
    return ["", *sorted(cli.commands)]  # type: ignore[attr-defined]


def snippet_path(command: str) -> Path:
    return SNIPPETS / f"{command or 'asyncbyok'}.txt"


def render_help(command: str) -> str:
    """What ``asyncbyok [COMMAND] --help`` prints, at a fixed width."""
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(
        cli,
        args,
        prog_name="asyncbyok",
        terminal_width=WIDTH,
        env={"COLUMNS": str(WIDTH), "NO_COLOR": "1"},
    )
    if result.exit_code != 0:
        raise RuntimeError(f"asyncbyok {command} --help failed:\n{result.output}")
    return "\n".join(line.rstrip() for line in result.output.splitlines()) + "\n"


def write_all() -> list[Path]:
    """Write every command's help into ``docs/_snippets/cli/``; returns the paths."""
    SNIPPETS.mkdir(parents=True, exist_ok=True)
    written = []
    for command in commands():
        path = snippet_path(command)
        path.write_text(render_help(command), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path)
