"""The README's promises: its commands are what CI runs, and its example runs."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from asyncbyok.emulator import Emulator

from .docs_samples.inprocess import run_script

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
HEADS = ("Main job on a fresh machine", "Tests on a fresh machine")


def _ci_extracts(head: str) -> str:
    """What ``.ci/run``'s own ``readme_command`` function takes from the README for *head*."""
    function = re.search(r"^readme_command\(\) \{.*?^\}$", CI, re.DOTALL | re.MULTILINE)
    assert function is not None, ".ci/run lost its readme_command function"
    script = f'{function.group(0)}\nreadme_command "$1"\n'
    done = subprocess.run(
        ["bash", "-c", script, "readme_command", head],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_first_lines_give_the_two_fresh_machine_commands() -> None:
    intro = README.split("\n## ", 1)[0]  # everything before the first section heading
    blocks = re.findall(r"```(\w*)\n(.*?)```", intro, re.DOTALL)
    # The two commands are the first code blocks, ahead of any other code or section.
    assert [lang for lang, _ in blocks[:2]] == ["sh", "sh"]
    main_job, tests = (text.strip() for _, text in blocks[:2])
    assert main_job.startswith("python3 -m venv .venv && ")
    assert main_job.endswith("asyncbyok apply examples/fleet.yaml --emulator --yes")
    assert tests == "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && " + (
        ".venv/bin/python -m pytest"
    )
    # Each follows its own heading line, and CI runs exactly these two, verbatim.
    for head, command in zip(HEADS, (main_job, tests), strict=True):
        assert intro.index(head) < intro.index(command)
        assert f'readme_command "{head}"' in CI
        assert _ci_extracts(head) == command
    assert (ROOT / "examples" / "fleet.yaml").is_file()


def test_the_example_runs_against_the_emulator(tmp_path: Path) -> None:
    code = re.findall(r"```python\n(.*?)```", README, re.DOTALL)[0]
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    with Emulator().run_in_thread() as emu:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OPENROUTER_")},
            "OPENROUTER_API_KEY": emu.management_key,
            "OPENROUTER_BASE_URL": emu.base_url,
        }
        done = run_script(script, env)
        assert done.status == 0, done.output
        key_id, label = done.output.splitlines()[0].split()
        assert label == "sk-...AbCd"  # the masked label, never the raw key
        assert "sk-proj-example-AbCd" not in done.output
        assert done.output.splitlines()[1:] == ["prod"]  # listed by name, once
        assert emu.store.live() == []  # it deleted what it made
        assert [op for op, _ in emu.received] == ["create", "update", "list", "delete"]
        assert emu.received[1] == ("update", {"allowed_models": None})
        assert emu.store.records[0].id == key_id
