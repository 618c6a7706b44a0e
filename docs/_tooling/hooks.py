"""mkdocs hooks: put the benchmark results into ``benchmarks.md`` when they exist.

The benchmark harness writes ``benchmarks/results/results.md`` and its figures (for
example ``throughput.png``) outside ``docs/``. The page holds a marker,
``<!-- benchmark-results -->``, which this hook replaces with that file; the figures are
added to the site under ``assets/benchmarks/`` and the links rewritten to match. Without
results the marker becomes a note saying how to produce them, so the build (``--strict``
included) never depends on a benchmark run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MARKER = "<!-- benchmark-results -->"
RESULTS_DIR = Path("benchmarks") / "results"
ASSETS = "assets/benchmarks"
FIGURE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".webp")

_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\s+\"[^\"]*\")?\)")

MISSING = """\
!!! note "No results in this build"

    The results are written by the benchmark harness to `benchmarks/results/` and
    included here when the site is built. Run the harness (see above), then build again.
"""


def results_dir(config: Any) -> Path:
    """``benchmarks/results`` beside ``mkdocs.yml``."""
    return Path(config["config_file_path"]).resolve().parent / RESULTS_DIR


def figures(directory: Path) -> list[Path]:
    """The figure files the results may show."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in FIGURE_SUFFIXES)


def results_markdown(directory: Path) -> str:
    """``results.md`` with its figure links pointing at the site's copies, or a note."""
    source = directory / "results.md"
    if not source.is_file():
        return MISSING
    text = source.read_text(encoding="utf-8")
    names = {p.name for p in figures(directory)}

    def relink(match: re.Match[str]) -> str:
        opening, target, title = match.group(1), match.group(2), match.group(3) or ""
        name = target.split("#")[0].removeprefix("./")
        if name in names:
            return f"{opening}{ASSETS}/{name}{title})"
        return match.group(0)

    text = _LINK.sub(relink, text)
    # The page has its own "Results" heading: the file's title goes, the other headings
    # go one level down, under it.
    text = re.sub(r"\A\s*# [^\n]*\n", "", text)
    return re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.MULTILINE)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for figure in figures(results_dir(config)):
        uri = f"{ASSETS}/{figure.name}"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(figure)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, results_markdown(results_dir(config)))
