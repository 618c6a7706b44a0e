"""``python -m benchmarks.startup``: how long the command and the SDK take to start, side by
side with the official SDK's import.

::

    python -m benchmarks.startup                  # 30 rounds, about half a minute
    python -m benchmarks.startup --rounds 5 --out /tmp/startup

Four commands, each a fresh interpreter, timed by wall clock:

- ``asyncbyok --help`` and ``asyncbyok plan --help`` (the console script);
- ``python -c "import asyncbyok"``;
- ``python -c "import openrouter"`` (the official SDK: the reference, ratio 1.0).

Like hyperfine, each command first runs a few times unmeasured (warm disk cache), then the
measured runs alternate: every round runs every command once, in a rotating order, so a
slow moment of the machine falls on all of them alike. The ratio of each command's median
to the reference median is the figure the targets are about (at most 0.5). The results go
to ``startup.json`` and ``startup.md`` in ``benchmarks/results/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE = "import openrouter"
TARGET_RATIO = 0.5


def _script() -> list[str]:
    """The installed ``asyncbyok`` script beside this interpreter, else ``python -m``."""
    beside = Path(sys.executable).with_name("asyncbyok")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("asyncbyok")
    return [found] if found else [sys.executable, "-m", "asyncbyok.cli"]


def commands() -> dict[str, list[str]]:
    """Name -> argv of every command measured."""
    script = _script()
    return {
        "asyncbyok --help": [*script, "--help"],
        "asyncbyok plan --help": [*script, "plan", "--help"],
        "import asyncbyok": [sys.executable, "-c", "import asyncbyok"],
        REFERENCE: [sys.executable, "-c", "import openrouter"],
    }


def _once(argv: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def measure(argvs: dict[str, list[str]], *, rounds: int, warmup: int) -> dict[str, list[float]]:
    """Wall times in seconds, by command, from *rounds* alternating rounds."""
    names = list(argvs)
    for _ in range(warmup):
        for name in names:
            _once(argvs[name])
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_once(argvs[name]))
    return times


def summarize(times: dict[str, list[float]]) -> dict[str, Any]:
    """Mean, median, min, max and standard deviation (ms) and the ratio to the reference."""
    reference = statistics.median(times[REFERENCE])
    rows = {}
    for name, samples in times.items():
        median = statistics.median(samples)
        rows[name] = {
            "runs": len(samples),
            "mean_ms": round(1000 * statistics.fmean(samples), 1),
            "median_ms": round(1000 * median, 1),
            "min_ms": round(1000 * min(samples), 1),
            "max_ms": round(1000 * max(samples), 1),
            "stdev_ms": round(1000 * statistics.stdev(samples), 1) if len(samples) > 1 else 0.0,
            "ratio_to_openrouter": round(median / reference, 3),
        }
    return rows


def markdown(result: dict[str, Any]) -> str:
    """The results as a Markdown page section."""
    lines = [
        "# Startup",
        "",
        f"Wall time of a fresh interpreter, {result['rounds']} alternating rounds after "
        f"{result['warmup']} warm-up runs each (`python -m benchmarks.startup`), "
        f"{result['when']} on {result['machine']}. Ratio: median over the median of "
        f"`import openrouter` (the official SDK); the target is at most {TARGET_RATIO}.",
        "",
        "| command | median ms | mean ms | min ms | stdev ms | ratio to openrouter | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in result["commands"].items():
        target = (
            "reference"
            if name == REFERENCE
            else ("met" if row["ratio_to_openrouter"] <= TARGET_RATIO else "missed")
        )
        lines.append(
            f"| `{name}` | {row['median_ms']} | {row['mean_ms']} | {row['min_ms']} | "
            f"{row['stdev_ms']} | {row['ratio_to_openrouter']:.2f} | {target} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table, write ``startup.json`` and ``startup.md``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--rounds", type=int, default=30, help="measured runs of each command")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs of each first")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the results")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be at least 1 and --warmup at least 0")

    times = measure(commands(), rounds=args.rounds, warmup=args.warmup)
    result = {
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "rounds": args.rounds,
        "warmup": args.warmup,
        "target_ratio": TARGET_RATIO,
        "commands": summarize(times),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "startup.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    (args.out / "startup.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
