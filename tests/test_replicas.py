"""Replicas: separate processes, each with its own client, on one key and one limit.

Their speed and fairness are measured by ``python -m benchmarks`` (the replicas
scenario); these check what must hold whatever the machine's load.
"""

from __future__ import annotations

import pytest

from benchmarks.emulator_process import EmulatorProcess
from benchmarks.replicas import run_replicas


@pytest.mark.slow  # four processes, a few seconds under a limit
@pytest.mark.parametrize("headers", ["x-ratelimit", "ietf"])
@pytest.mark.parametrize("kind", ["bucket", "window"])
def test_replicas_follow_the_servers_count_and_are_rarely_refused(kind: str, headers: str) -> None:
    # The IETF draft's count is in whole seconds: for a bucket it says nothing of the
    # rate, for a window nothing of when it turns; what is left of the quota still leads.
    with EmulatorProcess(seed=41) as emu:
        emu.configure(rate=200, burst=20, kind=kind, state_headers=headers)
        outcome = run_replicas(emu, k=4, creates=150, concurrency=32, rate=200, tag=kind)
    assert outcome["ok"] == 600
    assert outcome["duplicates"] == 0
    assert all(outcome["coordinated"])  # each paced by the server's count
    assert outcome["429s_per_create"] <= 0.1
