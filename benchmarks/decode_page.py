"""Micro-benchmark: decoding one 100-item list page, cattrs converter vs plain json.loads.

    python -m benchmarks.decode_page [--rounds 7] [--number 2000]

Both sides start from the same bytes; the ratio (not the absolute figure) is the result.
"""

from __future__ import annotations

import argparse
import json
import statistics
import timeit
import uuid

from asyncbyok import BYOKKeyList
from asyncbyok.codec import structure


def page_bytes(items: int = 100) -> bytes:
    """A realistic page: the newest response shape, every field present."""
    data = [
        {
            "id": str(uuid.UUID(int=i)),
            "provider": "openai",
            "workspace_id": "550e8400-e29b-41d4-a716-446655440000",
            "label": "sk-...AbCd",
            "name": f"Production OpenAI Key {i}",
            "disabled": False,
            "is_fallback": False,
            "allowed_models": ["openai/gpt-4o", "openai/gpt-4o-mini"],
            "allowed_user_ids": None,
            "allowed_api_key_hashes": None,
            "sort_order": i,
            "created_at": "2025-08-24T10:30:00Z",
            "declared_region": "europe",
            "declared_zdr": None,
            "is_byok_only": False,
            "is_required": False,
        }
        for i in range(items)
    ]
    return json.dumps({"data": data, "total_count": items}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()
    body = page_bytes()
    assert len(structure(json.loads(body), BYOKKeyList).data) == 100

    def plain() -> object:
        return json.loads(body)

    def models() -> object:
        return structure(json.loads(body), BYOKKeyList)

    results: dict[str, list[float]] = {"json.loads": [], "json.loads + cattrs": []}
    for _ in range(args.rounds):  # alternate, so both see the same machine load
        for label, fn in (("json.loads", plain), ("json.loads + cattrs", models)):
            seconds = timeit.timeit(fn, number=args.number)
            results[label].append(seconds / args.number * 1e6)
    medians = {label: statistics.median(v) for label, v in results.items()}
    for label, us in medians.items():
        print(f"{label:22s} {us:8.1f} us/page (median of {args.rounds} rounds)")
    ratio = medians["json.loads + cattrs"] / medians["json.loads"]
    cattrs_only = medians["json.loads + cattrs"] - medians["json.loads"]
    print(f"cattrs structuring alone: {cattrs_only:.1f} us/page; total is {ratio:.1f}x json.loads")


if __name__ == "__main__":
    main()
