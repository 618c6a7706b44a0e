"""What the package says about itself agrees with what CI checks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_python_classifiers_are_the_versions_ci_tests() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    classified = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    supported = re.search(r'^supported="([^"]+)"$', ci, re.MULTILINE)
    minimum = re.search(r'^requires-python = ">=(3\.\d+)"$', pyproject, re.MULTILINE)
    assert supported is not None
    assert minimum is not None
    assert classified == supported.group(1).split()
    assert classified[0] == minimum.group(1)
