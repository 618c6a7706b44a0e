"""The documentation cannot drift from the code: every sample in ``docs/`` runs here.

- Every Python block of every page runs as a program against an emulator, and its output
  is compared with the ``Output`` block the page shows after it.
- Every console block runs, command by command, and its output is compared with the
  page (ids, times and ports aside: ``docs_samples/matching.py``).
- Both run inside the test process, each isolated as its own program would be
  (``docs_samples/inprocess.py``): a fresh interpreter per block cost a minute.
- Blocks that cannot run here (a real account, a download) say so with
  ``<!-- not-run: reason -->``; their Python still compiles and their ``asyncbyok``
  commands must exist.
- The CLI help included in the reference is the help of the command as it is now, and the
  reference documents every public name.

The site itself is built by ``mkdocs build --strict`` (the ``docs`` extra), not here.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from asyncbyok.emulator import Emulator

from .docs_samples import cli_help
from .docs_samples.blocks import CODE_LANGUAGES, read_blocks
from .docs_samples.matching import Bindings, Mismatch, check, normalize
from .docs_samples.runner import PageRun
from .test_surface import PARSED

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if not p.relative_to(DOCS).parts[0].startswith("_"))


def _has_code(page: Path) -> bool:
    return any(b.lang in CODE_LANGUAGES for b in read_blocks(page))


@pytest.mark.parametrize(
    "page", [p for p in PAGES if _has_code(p)], ids=lambda p: str(p.relative_to(DOCS))
)
def test_page_samples_run(page: Path, tmp_path: Path) -> None:
    with Emulator(seed=1).run_in_thread() as emulator:
        run = PageRun(page, emulator, tmp_path)
        run.run()
    assert run.ran or run.skipped, f"{page.name}: no block ran"


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def walk(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [p for item in node for p in walk(item)]
        if isinstance(node, dict):
            return [p for value in node.values() for p in walk(value)]
        return []

    listed = set(walk(config["nav"]))
    assert {str(p.relative_to(DOCS)) for p in PAGES} == listed


@pytest.mark.parametrize("command", cli_help.commands(), ids=lambda c: c or "asyncbyok")
def test_cli_help_in_the_reference_is_current(command: str) -> None:
    path = cli_help.snippet_path(command)
    assert path.is_file(), f"{path} is missing: run `python -m tests.docs_samples.cli_help`"
    assert path.read_text(encoding="utf-8") == cli_help.render_help(command), (
        f"{path.name} is out of date: run `python -m tests.docs_samples.cli_help`"
    )
    included = f'--8<-- "cli/{path.name}"'
    assert included in (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")


def _reference_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in (DOCS / "reference").glob("*.md"))


@pytest.mark.parametrize("module", ["asyncbyok", "asyncbyok.apply", "asyncbyok.emulator"])
def test_the_reference_documents_every_public_name(module: str) -> None:
    names = [n for n in importlib.import_module(module).__all__ if not n.startswith("__")]
    directives = [
        line.split()[1] for line in _reference_text().splitlines() if line.startswith("::: ")
    ]
    documented = {d.rsplit(".", 1)[-1] for d in directives}
    assert sorted(set(names) - documented) == []


def test_matching_binds_ids_and_ignores_what_varies() -> None:
    bindings = Bindings()
    shown = "created 11111111-2222-3333-4444-555555555555 at 2026-01-01T00:00:00Z in 0.2 s"
    real = "created 0b7f3a52-1c1e-4d55-9a57-6b0f5e1a0001 at 2027-03-04T05:06:07.123Z in 1.5 s"
    check(shown, real, bindings)
    assert bindings.substitute("get 11111111-2222-3333-4444-555555555555").endswith("0001")
    other = "deleted 99999999-2222-3333-4444-555555555555"
    with pytest.raises(Mismatch):
        check("deleted 11111111-2222-3333-4444-555555555555", other, bindings)
    check("first\n...\nlast", "first\nany\nnumber\nlast", bindings)
    assert normalize("a    b\n\n") == "a b"


def _load_tooling(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, DOCS / "_tooling" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmarks_page_builds_with_and_without_results(tmp_path: Path) -> None:
    hooks = _load_tooling("hooks")
    assert "No results" in hooks.results_markdown(tmp_path)
    (tmp_path / "throughput.png").write_bytes(b"\x89PNG")
    figure = "![Throughput](throughput.png)"
    (tmp_path / "results.md").write_text(f"# Benchmarks\n\n## Targets\n\n{figure}\n")
    text = hooks.results_markdown(tmp_path)
    assert "Benchmarks" not in text
    assert "### Targets" in text
    assert "![Throughput](assets/benchmarks/throughput.png)" in text
    assert hooks.MARKER in (DOCS / "benchmarks.md").read_text(encoding="utf-8")


def test_docstrings_become_markdown() -> None:
    convert = _load_tooling("griffe_rst").convert

    def link(target: str, title: str) -> str:
        return f"[`{title}`][{target}]"

    text = "Use ``x`` and :class:`~a.b.C`::\n\n    print(1)\n\n``term``\n    Its meaning.\n"
    assert convert(text, link) == (
        "Use `x` and [`C`][a.b.C]:\n\n```python\nprint(1)\n```\n\n`term`\n:   Its meaning."
    )
    assert convert(">>> 1 + 1\n2", link) == "```pycon\n>>> 1 + 1\n2\n```"


def test_the_reference_shows_the_plain_methods_with_what_they_return() -> None:
    """``create = _parsed(RawBYOKResource.create)`` is an attribute to static analysis:
    the docs extension documents it as the method it is, returning the parsed type."""
    import griffe

    extension = _load_tooling("griffe_rst").ReSTToMarkdown()
    package = griffe.load(
        "asyncbyok", extensions=griffe.load_extensions(extension), search_paths=[str(ROOT)]
    )
    plain = package["resources.byok.BYOKResource"]
    raw = package["resources.byok.RawBYOKResource"]
    for name, returns in PARSED.items():
        method = plain.members[name]
        assert isinstance(method, griffe.Function), name
        assert str(method.returns) == returns
        assert "async" in method.labels
        assert [p.name for p in method.parameters] == [p.name for p in raw[name].parameters]
        assert method.docstring is not None
        assert f"Returns `{returns}`" in method.docstring.value  # converted to Markdown


@pytest.mark.parametrize("page", sorted((DOCS / "reference").glob("*.md")), ids=lambda p: p.name)
def test_each_reference_page_says_what_it_covers(page: Path) -> None:
    """Read as Markdown, a page of ``:::`` directives alone tells nothing: each opens with
    prose saying what it covers."""
    text = page.read_text(encoding="utf-8")
    opening = text.split("\n:::", 1)[0].split("\n## ", 1)[0]
    prose = [line for line in opening.splitlines()[1:] if line.strip() and not line.startswith("|")]
    assert len(" ".join(prose).split()) >= 20, f"{page.name} opens with too little prose"
