"""The scale scenarios in the results (issue 16): their targets and their sections.

:func:`benchmarks.report.evaluate_targets` adds :func:`scale_targets`, and
:func:`benchmarks.report.render_markdown` the sections of :data:`SECTIONS`. Each section's
table has a ``target`` column saying, row by row, whether the issue's targets were met.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .report import _num, _table, _target, _x

__all__ = ["SECTIONS", "scale_targets"]


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[met]


def _ran(scenarios: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The results of scenario *name*, if it ran without an error."""
    s: dict[str, Any] | None = scenarios.get(name)
    return s if s is not None and "error" not in s else None


# ------------------------------------------------------------------ targets


def _large_targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    p = s["params"]
    for account in p["accounts"]:
        rows = {r["kind"]: r for r in s["results"].values() if r["account"] == account}
        worst = max((r["vs_bound"] for r in rows.values() if r["vs_bound"]), default=None)
        listings = max(r["full_listings_max"] for r in rows.values())
        per_kind = "; ".join(
            f"{kind}: {_x(r['vs_bound'])} bound, {_num(r['full_listings_max'], 2)} listings, "
            f"{_x(r['vs_ideal'])} N / rate, {_num(r['duplicates_max'])} duplicates, "
            f"{_num(r['missing_max'])} missing"
            for kind, r in rows.items()
        )
        out.append(
            _target(
                f"large account of {account:,}: create_many of {p['creates']:,}, "
                "time vs (creates sent + list requests) / rate",
                f"<= {p['targets']['vs_bound']:g}x, <= {p['targets']['full_listings']:g} "
                "listings, 0 duplicates, 0 missing",
                worst,
                all(r["met"] for r in rows.values()) if rows else None,
                f"worst listings {_num(listings, 2)}; {per_kind}",
            )
        )
    return out


def _ensure_target(name: str, s: dict[str, Any]) -> dict[str, Any]:
    p = s["params"]
    rows = s["results"]
    worst = max((r["full_listings_max"] for r in rows.values()), default=None)
    detail = "; ".join(
        f"{key}: {_num(r['full_listings_max'], 2)} listings, {_num(r['created_max'])} created"
        for key, r in rows.items()
    )
    return _target(
        name,
        f"<= {p['targets']['full_listings']:g} listings, {p['missing_names']:,} created, "
        "0 duplicates",
        worst,
        all(r["met"] for r in rows.values()) if rows else None,
        detail,
        unit="",
    )


def _replica_targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    p, t = s["params"], s["params"]["targets"]
    out = []
    for mode in p["modes"]:
        rows = [r for r in s["results"].values() if r["mode"] == mode]
        worst = max((r["slowest_vs_ideal"] for r in rows if r["slowest_vs_ideal"]), default=None)
        missed = [f"k={r['k']} {r['kind']}" for r in rows if not r["met"]]
        reference = mode == p["reference"]
        detail = (
            "independent clients, the reference: no target; "
            if reference
            else f"missed: {', '.join(missed)}; "
            if missed
            else "every k and limiter; "
        )
        detail += "; ".join(
            f"k={r['k']} {r['kind']}: {_x(r['slowest_vs_ideal'])}, "
            f"{_num(r['fastest_vs_slowest'], 2)}, {_num(r['per_create_429s'], 3)}"
            for r in rows
        )
        out.append(
            _target(
                f"replicas, {mode}: slowest / (k N / rate), fastest / slowest, 429s per create",
                f"<= {t['slowest_vs_ideal']:g}x, >= {t['fastest_vs_slowest']:g}, "
                f"<= {t['per_create_429s']:g}, 0 duplicates",
                worst,
                None if reference or not rows else not missed,
                detail,
            )
        )
    return out


def scale_targets(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue 16 targets of the scale scenarios that ran."""
    out = []
    if large := _ran(scenarios, "large_account"):
        out += _large_targets(large)
    if many := _ran(scenarios, "ensure_many"):
        n = many["params"]["names"]
        out.append(_ensure_target(f"ensure_many of {n:,} names: listings of the scope", many))
    if aged := _ran(scenarios, "ensure_max_age"):
        p = aged["params"]
        name = f"{p['calls']} ensure(max_age={p['max_age_s']:g}) calls: listings in all"
        out.append(_ensure_target(name, aged))
    if fleet := _ran(scenarios, "replicas"):
        out += _replica_targets(fleet)
    return out


# ------------------------------------------------------------------ markdown


def _limit(p: dict[str, Any]) -> str:
    kinds = " and ".join(
        f"a token bucket (burst {p['burst']})" if k == "bucket" else "a fixed one-second window"
        for k in p["kinds"]
    )
    return f"{p['rate']:g} requests/s as {kinds}, 429s with whole-second `Retry-After`"


def _md_large(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    lines = [
        "## 6a. Bulk into a large account",
        "",
        f"`client.byok.create_many` of {p['creates']:,} `openai` credentials into an account "
        f"already holding {' and '.join(f'{a:,}' for a in p['accounts'])} of them, "
        f"{p['commit_then_error_rate']:.0%} of creates stored and then answered 500, under "
        f"{_limit(p)}; default settings. *Bound*: (create requests + list requests, as the "
        "server counted them) / rate, the least those requests take under the limit. "
        "*Listings*: list requests / the requests of one listing of the scope after the run "
        "(pages of 100 overlapping by 5: 1 + ceil((S - 100) / 95)). Times and ratios are "
        f"medians of {p['rounds']} round(s), the limiters alternating; listings, duplicates "
        "and missing names are the worst round's.",
        "",
    ]
    header = ["account", "limiter", "seconds", "vs bound (<= 1.2x)", "listings (<= 2)"]
    header += ["vs N / rate", "creates + lists sent", "429s", "ambiguous", "duplicates"]
    header += ["missing", "target"]
    rows = [
        [
            f"{r['account']:,}",
            f"`{r['kind']}`",
            _num(r["seconds"], 2),
            _x(r["vs_bound"]),
            _num(r["full_listings_max"], 2),
            _x(r["vs_ideal"]),
            f"{_num(r['create_requests'])} + {_num(r['list_requests'])}",
            _num(r["server_429s"]),
            _num(r["ambiguous"]),
            _num(r["duplicates_max"]),
            _num(r["missing_max"]),
            _verdict(r["met"]) + ("" if r["finished"] else ", stopped"),
        ]
        for r in s["results"].values()
    ]
    return [*lines, *_table(header, rows), ""]


def _ensure_rows(
    s: dict[str, Any], first: Callable[[dict[str, Any]], list[str]]
) -> list[list[str]]:
    return [
        [
            *first(r),
            _num(r["seconds"], 2),
            _num(r["full_listings_max"], 2),
            f"{_num(r['created_min'])} - {_num(r['created_max'])}"
            if r["created_min"] != r["created_max"]
            else _num(r["created_max"]),
            f"{_num(r['list_requests'])} + {_num(r['create_requests'])}",
            _num(r["server_429s"]),
            _num(r["duplicates_max"]),
            _num(r["failed_max"]),
            _verdict(r["met"]) + ("" if r["finished"] else ", stopped"),
        ]
        for r in s["results"].values()
    ]


def _md_ensure_many(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    lines = [
        "## 6b. ensure_many in a large account",
        "",
        f"`client.byok.ensure_many` of {p['names']:,} names in an account of "
        f"{p['account']:,} `openai` credentials: {p['names'] - p['missing_names']:,} of the "
        f"names already stored, {p['missing_names']:,} missing, under {_limit(p)}; default "
        "settings. *Listings*: list requests / the requests of one listing of the account "
        f"({p['listing_requests']:,}); *created*: the server's 201s. Median of "
        f"{p['rounds']} round(s); counts are the worst round's.",
        "",
    ]
    header = ["limiter", "seconds", "listings (<= 1.2)", f"created (= {p['missing_names']:,})"]
    header += ["list + create requests", "429s", "duplicates", "failed", "target"]
    rows = _ensure_rows(s, lambda r: [f"`{r['kind']}`"])
    return [*lines, *_table(header, rows), ""]


def _md_ensure_max_age(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    lines = [
        "## 6c. Single ensures with max_age",
        "",
        f"{p['calls']} calls of `client.byok.ensure(provider=..., name=..., key=..., "
        f"max_age={p['max_age_s']:g})` in one client, one after another or all at once, in an "
        f"account of {p['account']:,} credentials; {p['missing_names']} of the names are "
        f"missing. Under {_limit(p)}. *Listings in all*: the calls' list requests / the "
        f"requests of one listing of the account ({p['listing_requests']:,}). Median of "
        f"{p['rounds']} round(s); counts are the worst round's.",
        "",
    ]
    header = ["limiter", "calls", "seconds", "listings in all (<= 2)"]
    header += [f"created (= {p['missing_names']})", "list + create requests", "429s"]
    header += ["duplicates", "failed", "target"]
    rows = _ensure_rows(s, lambda r: [f"`{r['kind']}`", r["variant"]])
    return [*lines, *_table(header, rows), ""]


def _md_replicas(s: dict[str, Any]) -> list[str]:
    p = s["params"]
    lines = [
        "## 6d. Replicas on one key",
        "",
        f"k processes, each with its own `Client` on one management key, each "
        f"`create_many` of {p['creates']:,} / k credentials (concurrency {p['concurrency']}), "
        f"started together under {_limit(p)}. Ideal: all {p['creates']:,} at the limit's "
        f"rate, {p['ideal_s']:g} s. Coordination: `independent` (no rate-limit headers, no "
        "Redis: the reference, not expected to meet the targets), `x-ratelimit` and `ietf` "
        "(the server's count on every answer), `redis` (no headers; one pace shared "
        "through Redis). Each figure: the median of "
        f"{p['rounds']} round(s), the modes alternating, and the worst round in brackets.",
        "",
    ]
    header = ["k", "limiter", "coordination", "slowest / ideal (<= 1.2x)"]
    header += ["fastest / slowest (>= 0.85)", "429s per create (<= 0.1)"]
    header += ["led by the server's count", "duplicates", "target"]
    rows = []
    for r in s["results"].values():
        verdict = _verdict(r["met"])
        if r["mode"] == p["reference"]:
            verdict += " (reference)"
        rows.append(
            [
                str(r["k"]),
                f"`{r['kind']}`",
                f"`{r['mode']}`",
                f"{_x(r['slowest_vs_ideal'])} ({_x(r['slowest_vs_ideal_max'])})",
                f"{_num(r['fastest_vs_slowest'], 2)} ({_num(r['fastest_vs_slowest_min'], 2)})",
                f"{_num(r['per_create_429s'], 3)} ({_num(r['per_create_429s_max'], 3)})",
                "-" if r["coordinated"] is None else f"{r['coordinated']:.0%}",
                _num(r["duplicates_max"]),
                verdict + ("" if r["finished"] and r["complete"] else ", incomplete"),
            ]
        )
    return [*lines, *_table(header, rows), ""]


SECTIONS: list[tuple[str, Callable[[dict[str, Any]], list[str]]]] = [
    ("large_account", _md_large),
    ("ensure_many", _md_ensure_many),
    ("ensure_max_age", _md_ensure_max_age),
    ("replicas", _md_replicas),
]
"""(scenario, its section's renderer), in the order of the results page."""
