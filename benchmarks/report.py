"""Results out: ``results.json``, ``results.md`` (tables) and ``throughput.png`` (plot)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["evaluate_targets", "render_markdown", "write_plot", "write_results"]

Row = dict[str, Any]


def _num(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}{suffix}"
    return str(value)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _x(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}x"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


# ------------------------------------------------------------------ targets


def _target(
    name: str, goal: str, value: Any, met: bool | None, detail: str = "", unit: str = "x"
) -> dict[str, Any]:
    return {
        "target": name,
        "goal": goal,
        "value": value,
        "unit": unit,
        "met": met,
        "detail": detail,
    }


def _limits_target(limits: dict[str, Any]) -> dict[str, Any]:
    """One target for every (kind, form): the worst ratio, and which combinations missed."""
    results = limits["results"]
    missed = []
    worst: tuple[float, str] | None = None
    for combo, r in results.items():
        ratio = r.get("vs_ideal_max")
        ok = (
            ratio is not None
            and ratio <= 1.2
            and bool(r.get("finished"))
            and r.get("duplicates_max") == 0
            and r.get("missing_max") == 0
        )
        if not ok:
            missed.append(
                f"{combo} ({_x(ratio)}, {_num(r.get('duplicates_max'))} duplicates, "
                f"{_num(r.get('missing_max'))} missing)"
            )
        if ratio is not None and (worst is None or ratio > worst[0]):
            worst = (ratio, combo)
    detail = f"worst: {worst[1]}" if worst else ""
    detail += f"; missed: {', '.join(missed)}" if missed else "; 0 duplicates, 0 missing in all"
    p = limits["params"]
    return _target(
        f"limits: {len(results)} kind x Retry-After combinations, time vs N / rate",
        "<= 1.2x each, 0 duplicates, 0 missing",
        worst[0] if worst else None,
        (not missed) if results else None,
        f"{p['creates']:,} creates at {p['rate']:g}/s; {detail}",
    )


def evaluate_targets(scenarios: dict[str, Any], *, concurrency: int) -> list[dict[str, Any]]:
    """The issue's targets, each with the figure measured and whether it was met."""
    out: list[dict[str, Any]] = []

    def check(v: float | None, ok: Callable[[float], bool]) -> bool | None:
        return None if v is None else ok(v)

    for key, where in (("create", ""), ("create_lean", " (lean server)")):
        create = scenarios.get(key)
        if not create or "error" in create:
            continue
        row = create["by_concurrency"].get(str(concurrency), {})
        ratios = row.get("ratios", {})
        v = ratios.get("rps_vs_aiohttp")
        out.append(
            _target(
                f"create throughput vs raw aiohttp, c={concurrency}{where}",
                ">= 0.9x",
                v,
                check(v, lambda x: x >= 0.9),
            )
        )
        v = ratios.get("cpu_vs_aiohttp")
        out.append(
            _target(
                f"client CPU per create vs raw aiohttp, c={concurrency}{where}",
                "<= 1.2x",
                v,
                check(v, lambda x: x <= 1.2),
            )
        )
    create = scenarios.get("create")
    if create and "error" not in create:
        row = create["by_concurrency"].get(str(concurrency), {})
        ratios = row.get("ratios", {})
        v = ratios.get("rps_vs_openrouter")
        out.append(
            _target(
                f"create throughput vs official SDK, c={concurrency}",
                ">= 10x",
                v,
                check(v, lambda x: x >= 10),
            )
        )
    listing = scenarios.get("list")
    if listing and "error" not in listing:
        v = listing["speedup"].get("vs_aiohttp_sequential")
        complete = listing["results"].get("asyncbyok", {}).get("complete")
        out.append(
            _target(
                "list all: speedup over a sequential walk",
                ">= 5x, every key once",
                v,
                check(v, lambda x: x >= 5 and bool(complete)),
                "" if complete else "asyncbyok's listing was incomplete",
            )
        )
    bulk = scenarios.get("bulk")
    if bulk and "error" not in bulk:
        ours = bulk["results"].get("asyncbyok", {})
        v = ours.get("vs_ideal")
        dup = ours.get("duplicates_max")
        out.append(
            _target(
                "bulk under 200 req/s: time vs N / rate",
                "<= 1.2x",
                v,
                check(v, lambda x: x <= 1.2 and bool(ours.get("finished"))),
                f"{_num(ours.get('server_429s'))} 429s; {_num(ours.get('missing'))} missing",
            )
        )
        out.append(_target("bulk: duplicates", "0", dup, check(dup, lambda x: x == 0), unit=""))
    limits = scenarios.get("limits")
    if limits and "error" not in limits:
        out.append(_limits_target(limits))
    idle = scenarios.get("idle")
    if idle and "error" not in idle:
        v = idle.get("ratio_over_aiohttp", idle.get("ratio"))
        out.append(
            _target(
                "idle then burst: a client that met 429s vs a fresh one, over raw aiohttp's",
                "<= 1.2x",
                v,
                check(v, lambda x: x <= 1.2),
                f"asyncbyok {_x(idle.get('ratio'))} ({_num(idle.get('long_lived_s'), 3)} s vs "
                f"{_num(idle.get('fresh_s'), 3)} s), aiohttp {_x(idle.get('aiohttp_ratio'))} "
                f"({_num(idle.get('aiohttp_long_lived_s'), 3)} s vs "
                f"{_num(idle.get('aiohttp_fresh_s'), 3)} s); "
                f"limiter relaxed: {_num(idle.get('limiter_relaxed'))}",
            )
        )
    faults = scenarios.get("faults")
    if faults and "error" not in faults:
        ours = faults["results"].get("asyncbyok", {})
        v = ours.get("completion")
        dup = ours.get("duplicates_max")
        out.append(
            _target(
                "faults: completion, zero duplicates",
                "100%, 0 duplicates",
                v,
                check(v, lambda x: x >= 1.0 and dup == 0),
                f"{_num(dup)} duplicates",
                unit="",
            )
        )
        v = ours.get("lists_per_ambiguous_max")
        out.append(
            _target(
                "faults: list requests per ambiguous failure",
                "<= 1",
                v,
                check(v, lambda x: x <= 1.0),
                f"{_num(ours.get('list_requests'))} list requests, "
                f"{_num(ours.get('ambiguous'))} ambiguous failures (median round); "
                "worst round shown",
                unit="",
            )
        )
    startup = scenarios.get("startup")
    started = startup is not None and "error" not in startup
    if startup is not None and started:
        reference = startup["reference"]
        goal = startup["target_ratio"]
        for name, row in startup["commands"].items():
            if name == reference:
                continue
            v = row.get("ratio_to_openrouter")
            out.append(
                _target(
                    f"startup: `{name}` vs `{reference}` (wall time)",
                    f"<= {goal:g}x",
                    v,
                    check(v, lambda x: x <= goal),
                    f"{_num(row['median_ms'], 1)} ms vs "
                    f"{_num(startup['commands'].get(reference, {}).get('median_ms'), 1)} ms",
                )
            )
    imports = scenarios.get("import")
    if imports and "error" not in imports:
        v = imports.get("ratio_vs_openrouter")
        # With the startup scenario's wall times, the target is judged there (issue 12:
        # side by side, wall time); this figure stays as the breakdown's.
        out.append(
            _target(
                "import time vs official SDK (-X importtime, cumulative)",
                "see startup" if started else "<= 0.5x",
                v,
                None if started else check(v, lambda x: x <= 0.5),
                "the 0.5x target is judged on wall time (startup)" if started else "",
            )
        )
    memory = scenarios.get("memory")
    if memory and "error" not in memory:
        out.append(
            _target(
                f"memory flat while iterating {memory['params']['keys']:,} keys",
                "flat",
                memory.get("traced_peak_mb"),
                memory.get("flat"),
                f"RSS growth {_num(memory.get('rss_growth_mb'), 1)} MB, "
                f"traced growth {_num(memory.get('traced_growth_mb'), 2)} MB",
                unit=" MB peak traced",
            )
        )
    # Imported here: benchmarks.scale_report builds on this module's helpers.
    from .scale_report import scale_targets

    out += scale_targets(scenarios)
    return out


# ------------------------------------------------------------------ markdown


def _md_create(s: dict[str, Any], title: str = "## 1. Create throughput") -> list[str]:
    names = s["contenders"]
    lines = [
        title,
        "",
        f"{s['params']['creates']:,} creates per measurement "
        f"({s['params']['creates_at_concurrency_1']:,} at concurrency 1), or as many as start "
        f"within {s['params']['max_seconds']:g} s, after {s['params']['warmup']} warm-up "
        f"creates; median of {s['params']['rounds']} rounds, contenders alternating. Every "
        "contender gets a pool of `concurrency` connections.",
        "",
        "Requests per second (higher is better):",
        "",
    ]
    header = ["concurrency", *names, "asyncbyok / aiohttp", "asyncbyok / openrouter"]
    rows = []
    for c, row in s["by_concurrency"].items():
        r = row["ratios"]
        rows.append(
            [
                c,
                *(_num(row[n]["rps"]) for n in names),
                _x(r["rps_vs_aiohttp"]),
                _x(r["rps_vs_openrouter"], 1),
            ]
        )
    lines += _table(header, rows)
    lines += ["", "Client CPU µs per request (lower is better; server CPU in brackets):", ""]
    rows = []
    for c, row in s["by_concurrency"].items():
        rows.append(
            [
                c,
                *(f"{_num(row[n]['cpu_us'])} ({_num(row[n]['server_cpu_us'])})" for n in names),
                _x(row["ratios"]["cpu_vs_aiohttp"]),
                _x(row["ratios"]["cpu_vs_openrouter"]),
            ]
        )
    lines += _table(["concurrency", *names, "asyncbyok / aiohttp", "asyncbyok / openrouter"], rows)
    failed = {
        f"{n} c={c}": row[n]["failed"]
        for c, row in s["by_concurrency"].items()
        for n in names
        if row[n]["failed"]
    }
    if failed:
        lines += ["", f"Failed creates: {failed}."]
    if title == "## 1. Create throughput":
        lines += ["", "![Throughput against concurrency](throughput.png)"]
    return [*lines, ""]


def _md_create_lean(s: dict[str, Any]) -> list[str]:
    lines = _md_create(s, "## 1b. Create throughput against a lean server")
    note = [
        "The same measurement against `benchmarks/lean_server.py`, which answers every",
        "request with prepared bytes (a few µs of server CPU): the emulator's ~230 µs per",
        "request hide a client's own cost; here nothing does.",
        "",
    ]
    return lines[:2] + note + lines[2:]


def _md_list(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    ours = s["results"].get("asyncbyok", {}).get("seconds")
    lines = [
        "## 2. List all keys",
        "",
        f"{p['keys']:,} keys, {p['latency_s'] * 1000:g} ms of emulator latency per list request,"
        f" pages of {p['page_size']}; median of {p['rounds']} rounds. {_sentence(p['note'])}.",
        "",
    ]
    rows = []
    for name, r in s["results"].items():
        rows.append(
            [
                name,
                _num(r["seconds"], 3),
                _num(r["requests"]),
                _num(r["cpu_ms"], 1),
                _num(r["complete"]),
                _x(r["seconds"] / ours if ours and r["seconds"] else None, 1),
            ]
        )
    header = ["contender", "seconds", "requests", "client CPU ms", "all keys once", "vs asyncbyok"]
    return [*lines, *_table(header, rows), ""]


def _md_bulk(title: str, s: dict[str, Any], *, rate: bool) -> list[str]:
    p = s["params"]
    if rate:
        intro = (
            f"{p['creates']:,} creates, limit {p['rate']:g} req/s (burst {p['burst']}), "
            f"concurrency {p['concurrency']}; ideal N / rate = {p['ideal_s']:.2f} s "
            f"((N - burst) / rate = {p['ideal_after_burst_s']:.2f} s). "
            f"Median of {p['rounds']} round(s); stopped after {p['cap_s']:g} s. "
            f"Official SDK: {p['openrouter']}."
        )
    else:
        intro = (
            f"{p['creates']:,} creates, {p['error_rate']:.0%} answered 5xx and "
            f"{p['commit_then_error_rate']:.0%} stored then answered 500 "
            f"(faults on `{p['faults_on']}`), concurrency {p['concurrency']}; "
            f"median of {p['rounds']} round(s); stopped after {p['cap_s']:g} s. "
            f"{_sentence(p['note'])}."
        )
    header = ["contender", "seconds", "finished", "ok / failed (client)", "stored", "duplicates"]
    header += ["vs ideal", "429s (client / server)"] if rate else ["completion"]
    header += ["create + list requests", "errors"]
    rows = []
    for name, r in s["results"].items():
        row = [
            name,
            _num(r["seconds"], 2),
            _num(r["finished"]),
            f"{_num(r['ok'])} / {_num(r['failed'])}",
            _num(r["stored_distinct"]),
            _num(r["duplicates_max"]),
        ]
        if rate:
            row += [
                _x(r["vs_ideal"]),
                f"{_num(r['client_429s'])} / {_num(r['server_429s'])}",
            ]
        else:
            row += [_num(r["completion"] * 100 if r["completion"] is not None else None, 1, "%")]
        row += [
            f"{_num(r['create_requests'])} + {_num(r['list_requests'])}",
            ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "-",
        ]
        rows.append(row)
    return [title, "", intro, "", *_table(header, rows), ""]


def _md_limits(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    lines = [
        "## 3b. Every rate-limit kind and Retry-After form",
        "",
        f"asyncbyok alone: `client.byok.create_many` of {p['creates']:,} credentials, "
        f"concurrency {p['concurrency']}, default settings, against {p['rate']:g} req/s as a "
        f"token bucket (burst {p['burst']}) or a fixed one-second window, the 429s carrying "
        "`Retry-After` in whole seconds (`seconds`), fractional seconds (`fractional`), only "
        "`retry-after-ms` (`ms`), both whole seconds and `retry-after-ms` (`both`), or "
        f"nothing (`none`). Ideal N / rate = {p['ideal_s']:.2f} s; median of "
        f"{p['rounds']} round(s); stopped after {p['cap_s']:g} s.",
        "",
        "Seconds, time / ideal, and the 429s the server sent (every figure of every "
        "round is in `results.json`):",
        "",
    ]
    rows = []
    for kind in p["kinds"]:
        row = [f"`{kind}`"]
        for form in p["forms"]:
            r = s["results"].get(f"{kind}/{form}")
            if r is None:
                row.append("-")
                continue
            cell = f"{_num(r['seconds'], 2)} s ({_x(r['vs_ideal'])}), {_num(r['server_429s'])} 429s"
            if not r["finished"]:
                cell += ", **stopped**"
            row.append(cell)
        rows.append(row)
    lines += _table(["limiter", *(f"`{f}`" for f in p["forms"])], rows)
    bad = {
        combo: f"{_num(r['duplicates_max'])} duplicates, {_num(r['missing_max'])} missing"
        for combo, r in s["results"].items()
        if r["duplicates_max"] or r["missing_max"]
    }
    failed = {combo: r["errors"] for combo, r in s["results"].items() if r["errors"]}
    lines += [""]
    if bad:
        lines += [f"Not exact: {bad}.", ""]
    else:
        lines += ["Every combination: 0 duplicates, 0 missing.", ""]
    if failed:
        lines += [f"Creates that failed, by error: {failed}.", ""]
    return lines


def _md_idle(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    failed = {k: v for k, v in s.get("errors", s["failed"]).items() if v}
    lines = [
        "## 3c. Idle, then a burst",
        "",
        f"A long-lived client makes {p['gets']} concurrent `client.byok.get` calls into a "
        f"limit of {p['rate']:g} req/s, burst {p['burst']} ({p['limit']}), so it meets 429s "
        f"and its adaptive rate limiter switches on; then {p['quiet_s']:g} s of quiet while "
        f"the limit is lifted; then {p['gets']} concurrent gets again. A fresh client makes "
        "the same bursts and quiet against the unlimited server (its first burst opens the "
        "same connections; the second is timed). Raw aiohttp does both the same way, as the "
        "control: what is slower after 429s whatever the client is the machine's, not the "
        f"client's. Median of {p['rounds']} round(s), the four in a rotating order.",
        "",
    ]
    rows = [
        [
            "long-lived (after the quiet)",
            _num(s["long_lived_s"], 3),
            ", ".join(f"{x:.3f}" for x in s["long_lived_s_samples"]),
        ],
        ["fresh", _num(s["fresh_s"], 3), ", ".join(f"{x:.3f}" for x in s["fresh_s_samples"])],
    ]
    for kind in ("long_lived", "fresh"):
        if f"aiohttp_{kind}_s" in s:
            samples = s[f"aiohttp_{kind}_s_samples"]
            rows.append(
                [
                    f"raw aiohttp, {kind.replace('_', '-')}",
                    _num(s[f"aiohttp_{kind}_s"], 3),
                    ", ".join(f"{x:.3f}" for x in samples),
                ]
            )
    lines += _table(["client", "seconds", "every round"], rows)
    control = ""
    if s.get("aiohttp_ratio") is not None:
        control = (
            f" Raw aiohttp through the same bursts and quiet (each 429 sent again after its "
            f"`Retry-After`): {_x(s['aiohttp_ratio'])}; what asyncbyok's own state adds, "
            f"the one ratio over the other: {_x(s.get('ratio_over_aiohttp'))}."
        )
    lines += [
        "",
        f"Long-lived / fresh: {_x(s['ratio'])}.{control} Into the limit: "
        f"{_num(s['into_limit_s'], 2)} s, {_num(s['into_limit_429s'])} 429s; the limiter "
        f"switched on: {_num(s['limiter_switched_on'])}; relaxed by the second burst: "
        f"{_num(s['limiter_relaxed'])}; still on after it: {_num(s['limiter_on_after'])}.",
        "",
    ]
    if failed:
        lines += [
            f"Gets that failed, by error: {failed}. The gets run with the default retry "
            "policy: one that runs out of retries into the limit raises; the timed bursts "
            "are the ones after the quiet.",
            "",
        ]
    return lines


def _md_faults(s: dict[str, Any]) -> list[str]:
    lines = _md_bulk("## 4. Faults", s, rate=False)
    ours = s["results"].get("asyncbyok")
    if ours:
        lines += [
            f"Reconcile cost (asyncbyok): {_num(ours['lists_per_ambiguous'], 2)} list requests "
            f"per ambiguous failure (median round; worst "
            f"{_num(ours['lists_per_ambiguous_max'], 2)}): {_num(ours['list_requests'])} list "
            f"requests for {_num(ours['ambiguous'])} ambiguous failures, that is "
            f"{s['params']['ambiguous']}.",
            "",
        ]
    return lines


def _md_import(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    lines = [
        "## 5a. Import time",
        "",
        f"`{p['method']}`, median of {p['rounds']} fresh interpreters each, alternating "
        f"(after one warm-up each). *Ready to call*: {p['ready_method']}.",
        "",
    ]
    rows = []
    for module, ms in s["ms"].items():
        deps = s["largest_dependencies_ms"].get(module, {})
        rows.append(
            [
                f"`import {module}`",
                _num(ms, 1),
                _num(s["ready_ms"].get(module), 1),
                ", ".join(f"{k} {v:.0f}" for k, v in list(deps.items())[:5]),
            ]
        )
    header = ["module", "import ms", "ready to call ms", "largest dependencies (ms, cumulative)"]
    lines += _table(header, rows)
    lines += [
        "",
        f"asyncbyok / openrouter: import {_x(s['ratio_vs_openrouter'])}, "
        f"ready to call {_x(s['ready_ratio_vs_openrouter'])}.",
        "",
    ]
    return lines


def _md_startup(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    reference = s["reference"]
    lines = [
        "## 5b. Startup",
        "",
        f"Wall time of each command in a fresh interpreter, side by side with `{reference}` "
        f"(the official SDK): {p['warmup']} warm-up run(s) each, then {p['rounds']} rounds "
        "running every command once in a rotating order, as `python -m benchmarks.startup` "
        f"does; medians. Target: at most {s['target_ratio']:g}x `{reference}`.",
        "",
    ]
    rows = []
    for name, r in s["commands"].items():
        ratio = r.get("ratio_to_openrouter")
        if name == reference:
            verdict = "reference"
        elif ratio is None:
            verdict = "-"
        else:
            verdict = "met" if ratio <= s["target_ratio"] else "**missed**"
        rows.append(
            [
                f"`{p['commands'].get(name, name)}`",
                _num(r["median_ms"], 1),
                _num(r.get("min_ms"), 1),
                _num(r.get("stdev_ms"), 1),
                _x(ratio),
                verdict,
            ]
        )
    header = ["command", "median ms", "min ms", "stdev ms", f"vs `{reference}`", "target"]
    return [*lines, *_table(header, rows), ""]


def _md_memory(s: dict[str, Any]) -> list[str]:
    lines = [
        "## 5c. Memory while iterating",
        "",
        f"`async for key in client.byok.list()` over {s['params']['keys']:,} keys in a fresh "
        f"process, tracemalloc on; sampled every {s['params']['every']:,} keys. Peak traced: "
        f"{s['traced_peak_mb']:.2f} MB; RSS at start {s['rss_start_mb']:.1f} MB; "
        f"flat: {_num(s['flat'])}; {s['keys']:,} keys in {s['seconds']:.1f} s.",
        "",
    ]
    rows = [[_num(x["keys"]), _num(x["rss_mb"], 1), _num(x["traced_mb"], 2)] for x in s["samples"]]
    return [*lines, *_table(["keys", "RSS MB", "traced MB"], rows), ""]


def render_markdown(results: dict[str, Any]) -> str:
    """The whole results file as Markdown."""
    meta = results["meta"]
    lines = [
        "# asyncbyok benchmarks",
        "",
        f"Command: `{meta['command']}` ({'quick' if meta['quick'] else 'full'} mode), "
        f"{meta['started']}, {meta['duration_s']:.0f} s.",
        "",
        f"Machine: {meta['machine']}; Python {meta['python']}; "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + ". The emulator runs in its own process: client CPU is this process's alone.",
        "",
    ]
    for rerun in meta.get("reruns", []):
        lines += [
            f"Re-run: `{rerun['command']}`, {rerun['started']}, {rerun['duration_s']:.0f} s "
            f"(scenarios {', '.join(rerun['only'])}).",
            "",
        ]
    if meta["quick"]:
        lines += ["**Quick mode: tiny sizes, to check the harness. These are not results.**", ""]
    lines += ["## Targets", ""]
    rows = []
    for t in results["targets"]:
        value, unit = t["value"], t.get("unit", "")
        if isinstance(value, float) and not value.is_integer():
            shown = f"{value:.2f}{unit}"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = f"{value:,.0f}{unit}"
        else:
            shown = _num(value)
        rows.append(
            [
                t["target"],
                t["goal"],
                shown,
                {True: "met", False: "**missed**", None: "-"}[t["met"]],
                t["detail"] or "",
            ]
        )
    lines += _table(["target", "goal", "measured", "", "notes"], rows)
    lines.append("")
    sc = results["scenarios"]
    sections: list[tuple[str, Callable[[dict[str, Any]], list[str]]]] = [
        ("create", _md_create),
        ("create_lean", _md_create_lean),
        ("list", _md_list),
        ("bulk", lambda s: _md_bulk("## 3. Bulk under a rate limit", s, rate=True)),
        ("limits", _md_limits),
        ("idle", _md_idle),
        ("faults", _md_faults),
        ("import", _md_import),
        ("startup", _md_startup),
        ("memory", _md_memory),
    ]
    from .scale_report import SECTIONS  # here: it builds on this module's helpers

    sections += SECTIONS
    for key, render in sections:
        s = sc.get(key)
        if s is None:
            continue
        if "error" in s:
            lines += [f"## {key}", "", f"Failed: `{s['error']}`", ""]
            continue
        lines += render(s)
        if s.get("skipped"):
            lines += [f"Skipped: {s['skipped']}", ""]
    if results.get("profile"):
        lines += [
            "## Profile: asyncbyok creates",
            "",
            f"`{results['profile']['file']}` (cProfile, {results['profile']['creates']} creates"
            f" at concurrency {results['profile']['concurrency']}); the top functions by own "
            "time:",
            "",
            "```",
            *results["profile"]["top"],
            "```",
            "",
        ]
    if results.get("plot_skipped"):
        lines = [line for line in lines if not line.startswith("![Throughput")]
        lines += [f"Plot not drawn: {results['plot_skipped']}", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ files


def write_plot(results: dict[str, Any], path: Path) -> str | None:
    """Throughput and client CPU against concurrency; the reason if it cannot be drawn."""
    create = results["scenarios"].get("create")
    if not create or "error" in create:
        return "no create-throughput results"
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]')"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = create["by_concurrency"]
    xs = [int(c) for c in table]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in create["contenders"]:
        rps = [table[str(c)][name]["rps"] for c in xs]
        cpu = [table[str(c)][name]["cpu_us"] for c in xs]
        left.plot(xs, rps, marker="o", label=name)
        right.plot(xs, cpu, marker="o", label=name)
    left.set_ylim(bottom=0)
    right.set_yscale("log")  # the contenders differ by 20x
    for ax, title, ylabel in (
        (left, "Create throughput (higher is better)", "requests / s"),
        (right, "Client CPU per create (lower is better)", "µs CPU / request (log scale)"),
    ):
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.set_xlabel("concurrency")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, alpha=0.3, which="both")
        ax.legend()
    mode = "quick mode, not results" if results["meta"]["quick"] else "median of rounds"
    fig.suptitle(f"asyncbyok vs raw aiohttp, raw httpx and the official SDK ({mode})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


def write_results(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``results.json``, ``results.md`` and ``throughput.png`` into *out*."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "md": out / "results.md", "png": out / "throughput.png"}
    skipped = write_plot(results, paths["png"])
    if skipped:
        results["plot_skipped"] = skipped
        del paths["png"]
    paths["json"].write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(results), encoding="utf-8")
    return paths
