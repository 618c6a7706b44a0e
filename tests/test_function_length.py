"""No function in the package is longer than a reader can hold: 60 lines, its
docstring aside. A longer one is doing several things and reads better as several."""

from __future__ import annotations

import ast
from pathlib import Path

import asyncbyok

ROOT = Path(asyncbyok.__file__).parent
LIMIT = 60


def _length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from ``def`` to the function's last line, less those of its docstring."""
    assert node.end_lineno is not None
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        assert first.end_lineno is not None
        lines -= first.end_lineno - first.lineno + 1
    return lines


def _long_functions(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = _length(node)
            if length > LIMIT:
                found.append(f"{name}:{node.lineno} {node.name}() is {length} lines")
    return found


def test_no_function_is_longer_than_the_limit() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        found += _long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, "\n".join(found)


def test_the_measure_counts_code_and_not_the_docstring() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    docstring = '    """' + "\n" * 30 + '    """\n'
    assert _long_functions(f"def f():\n{docstring}{body}\n", "m") == [
        f"m:1 f() is {LIMIT + 1} lines"
    ]
    assert _long_functions(f"def f():\n{docstring}{body[: body.rindex(chr(10))]}\n", "m") == []
