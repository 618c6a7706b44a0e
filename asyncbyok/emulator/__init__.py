"""A local emulator of OpenRouter's BYOK API, for tests and development.

An ``aiohttp.web`` server that answers the five operations of ``/api/v1/byok`` the way
the vendored OpenAPI excerpt describes them, validates requests like the real service,
and can misbehave on purpose (seeded, reproducible faults) so clients can prove they
cope::

    from asyncbyok.emulator import Emulator, FaultConfig, Faults, RateLimit

    async with Emulator(
        rate_limit=RateLimit(rate=50, burst=10),
        faults=Faults({"create": FaultConfig(commit_then_drop_rate=0.1)}),
        seed=7,
    ) as emu:
        ...  # point a client at emu.base_url with emu.management_key
        assert len(emu.store.live()) == 3

Also: ``python -m asyncbyok.emulator --port 8080`` (see :mod:`asyncbyok.emulator.__main__`)
and the pytest fixture ``byok_emulator`` (:mod:`asyncbyok.emulator.pytest_plugin`, which
pytest loads by itself wherever asyncbyok is installed).

The names below are imported when first used (PEP 562), as ``asyncbyok``'s are: pytest
loads the fixture's plugin in every test run, and that should not cost the server's
imports (aiohttp's web framework) in runs that never start an emulator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import ApiVersion, ReceivedRequest, Stats
    from .faults import FaultConfig, FaultDecision, FaultPlan, Faults
    from .ratelimit import RateLimit
    from .replies import TimestampStyle
    from .server import Emulator, generate_key
    from .store import Record, Store, digest_key, mask_key

# Where each lazily imported name lives.
_HOMES: dict[str, str] = {
    "ApiVersion": "context",
    "Emulator": "server",
    "FaultConfig": "faults",
    "FaultDecision": "faults",
    "FaultPlan": "faults",
    "Faults": "faults",
    "RateLimit": "ratelimit",
    "ReceivedRequest": "context",
    "Record": "store",
    "Stats": "context",
    "Store": "store",
    "TimestampStyle": "replies",
    "digest_key": "store",
    "generate_key": "server",
    "mask_key": "store",
}

__all__ = [
    "ApiVersion",
    "Emulator",
    "FaultConfig",
    "FaultDecision",
    "FaultPlan",
    "Faults",
    "RateLimit",
    "ReceivedRequest",
    "Record",
    "Stats",
    "Store",
    "TimestampStyle",
    "digest_key",
    "generate_key",
    "mask_key",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'asyncbyok.emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # once is enough
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
