"""Every ``>>>`` example in asyncbyok's docstrings runs here, as doctest runs it.

Each module of the package (``pkgutil.walk_packages``) is searched with
:class:`doctest.DocTestFinder`; each docstring with examples is one test, run with
``ELLIPSIS`` (``...`` in the expected output stands for anything) and
``NORMALIZE_WHITESPACE``. An example that needs a running client (``await client.byok...``)
cannot run as a doctest: its docstring should show it as a ``::`` literal block instead of
``>>>``. Until those docstrings are changed they are listed in :data:`NOT_RUN`, where they
are still compiled (top-level ``await`` allowed), and the list must stay exact.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import asyncbyok

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: Docstrings whose ``>>>`` examples need an event loop and a client, so doctest cannot run
#: them, by name. Such an example belongs in a ``::`` literal block (shown, not run); until
#: it is moved there it is listed here, and test_not_run_lists_exactly_the_unrunnable_examples
#: keeps the list exact. Empty: BYOKResource.create and .update now use literal blocks.
NOT_RUN: frozenset[str] = frozenset()


def _module_names() -> list[str]:
    found = pkgutil.walk_packages(asyncbyok.__path__, prefix="asyncbyok.")
    return ["asyncbyok", *sorted(info.name for info in found)]


def _runs_on_import(name: str) -> bool:
    """``__main__`` modules are the programs themselves: importing one runs it."""
    return name.rsplit(".", 1)[-1] == "__main__"


def _doctests() -> tuple[dict[str, doctest.DocTest], dict[str, str]]:
    """The docstrings with examples, by name; and the modules doctest cannot parse, why."""
    finder = doctest.DocTestFinder()
    tests: dict[str, doctest.DocTest] = {}
    unparsable: dict[str, str] = {}
    for name in _module_names():
        if _runs_on_import(name):
            continue
        try:
            found = finder.find(importlib.import_module(name), name)
        except ValueError as exc:  # e.g. a "\n" in a docstring that is not raw
            unparsable[name] = str(exc)
            continue
        for test in found:
            if test.examples:  # a docstring without `>>>` has nothing to run
                tests.setdefault(test.name, test)
    return tests, unparsable


DOCTESTS, UNPARSABLE = _doctests()


def test_every_module_s_docstrings_parse() -> None:
    """Reported here rather than as a collection error, which would stop the whole run."""
    assert UNPARSABLE == {}


def test_the_package_has_examples_to_run() -> None:
    assert len(set(DOCTESTS) - NOT_RUN) >= 10  # the finder found the modules' docstrings


@pytest.mark.parametrize("name", sorted(set(DOCTESTS) - NOT_RUN))
def test_docstring_examples_run(name: str) -> None:
    test = DOCTESTS[name]
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    result = runner.run(test, out=report.append, clear_globs=True)
    assert result.failed == 0, "".join(report)
    assert result.attempted == len(test.examples)


def test_not_run_lists_exactly_the_unrunnable_examples() -> None:
    """Each name in NOT_RUN still has examples that need a loop; every one still compiles."""
    for name in sorted(NOT_RUN):
        assert name in DOCTESTS, f"{name} has no >>> examples any more: remove it from NOT_RUN"
        examples = DOCTESTS[name].examples
        for example in examples:  # the code is still real Python, awaits included
            compile(example.source, name, "single", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        assert any("await" in example.source for example in examples), (
            f"{name} no longer awaits: run it as a doctest (remove it from NOT_RUN)"
        )


def test_modules_that_run_on_import_have_no_examples() -> None:
    """The ``__main__`` modules are not imported here, so they must not hide examples."""
    root = Path(asyncbyok.__file__).parent
    for name in filter(_runs_on_import, _module_names()):
        path = root.joinpath(*name.split(".")[1:]).with_suffix(".py")
        assert ">>>" not in path.read_text(encoding="utf-8"), path
