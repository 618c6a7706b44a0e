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
and the pytest fixture ``byok_emulator``
(``pytest_plugins = ["asyncbyok.emulator.pytest_plugin"]``).
"""

from .context import ApiVersion, ReceivedRequest, Stats
from .faults import FaultConfig, FaultDecision, FaultPlan, Faults
from .ratelimit import RateLimit
from .replies import TimestampStyle
from .server import Emulator, generate_key
from .store import Record, Store, digest_key, mask_key

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
