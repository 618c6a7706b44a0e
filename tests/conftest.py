"""Test-wide settings: the emulator fixture, and Hypothesis tuned for a shared 2-core machine."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# This machine is shared and noisy: no per-example deadline, and no health check on how
# fast inputs are generated (timing is for benchmarks, never for tests).
settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
