"""Memory stays bounded: each hostile body read in a child process under an address-space
limit, at the sizes the security review used (a 1 GiB gzip bomb, a 400 MB body).

The child caps its own address space (``RLIMIT_AS``) at :data:`ADDRESS_SPACE_MIB`: a
client that buffers a body without bound dies there of ``MemoryError`` (which the child
reports) instead of taking the machine with it. The default ``max_response_size`` is
16 MiB; the child, Python and aiohttp included, reserves well under 100 MiB.
"""

from __future__ import annotations

import sys

import pytest

from .memory import CASES, probe
from .server import HostileServer, Sizes

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is Linux's")

ADDRESS_SPACE_MIB = 512  # the old client needed 1237 MiB (400 MB body) to 18 GiB (endless)


@pytest.mark.parametrize("mode", sorted(CASES))
async def test_a_hostile_body_is_refused_within_bounded_memory(mode: str) -> None:
    async with HostileServer(Sizes()) as server:
        report = await probe(server, mode, as_limit_mib=ADDRESS_SPACE_MIB)
    assert report["error"] == "ResponseTooLargeError", report
    assert "max_response_size" in report["message"]
    assert not report["leaked"]
    assert report["chain"] == ["ResponseTooLargeError"]  # nothing from aiohttp behind it
