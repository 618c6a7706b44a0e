"""Seeded fault injection: which requests fail, how, and how late.

A :class:`Faults` maps operations (``"list"``, ``"create"``, ``"get"``, ``"update"``,
``"delete"``, or ``"*"`` for every operation without its own entry) to a
:class:`FaultConfig`. A :class:`FaultPlan` turns that configuration into one
:class:`FaultDecision` per request.

Reproducibility: the plan keeps one ``random.Random`` per operation, seeded from the
emulator's seed and the operation's name, and draws exactly three numbers per request
whatever the configuration. So the n-th ``create`` meets the same fate in every run with
the same seed, whatever the other operations did and whether faults were switched on
before it.

Faults are drawn only for requests that passed authentication and the rate limit, so
a 401 or a 429 never consumes a draw.

Kinds of fault (at most one per request, plus ``latency`` which adds to any of them):

``reset``
    The connection is reset before the body is read; nothing is stored.
``error``
    Answered 500, 502 or 503 before anything is done; nothing is stored.
``slow``
    The request is handled only after ``slow_seconds`` (long enough to beat a client
    timeout). The change is made *after* the delay, even when the client has given up,
    as a slow real server would: the client cannot know whether it happened.
``conflict``
    ``update`` only: answered 409 before anything is changed.
``commit_then_error``
    The change is stored, then the answer is a 500.
``commit_then_drop``
    The change is stored, then the connection is closed without an answer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = [
    "FAULT_KINDS",
    "OPERATIONS",
    "FaultConfig",
    "FaultDecision",
    "FaultKind",
    "FaultPlan",
    "Faults",
    "Operation",
]

Operation = Literal["list", "create", "get", "update", "delete"]
OPERATIONS: tuple[Operation, ...] = ("list", "create", "get", "update", "delete")

FaultKind = Literal[
    "latency", "reset", "error", "slow", "conflict", "commit_then_error", "commit_then_drop"
]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "latency",
    "reset",
    "error",
    "slow",
    "conflict",
    "commit_then_error",
    "commit_then_drop",
)


def _rate(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, not {value!r}")


def _seconds(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0.0:  # also refuses NaN
        raise ValueError(f"{attribute.name} must be at least 0 seconds, not {value!r}")


@attrs.frozen(kw_only=True)
class FaultConfig:
    """The faults of one operation. Rates are fractions of its requests (0 to 1)::

        FaultConfig(latency_range=(0.01, 0.05), error_rate=0.1, commit_then_drop_rate=0.02)

    The rates of ``reset``, ``error``, ``slow``, ``conflict``, ``commit_then_error`` and
    ``commit_then_drop`` exclude each other, so they may add up to at most 1.
    ``conflict_rate`` has an effect on ``update`` only.
    """

    latency: float = attrs.field(default=0.0, validator=_seconds)
    """Seconds added to every request (use this or ``latency_range``)."""
    latency_range: tuple[float, float] | None = None
    """(min, max) seconds: a uniformly random delay added to every request."""
    error_rate: float = attrs.field(default=0.0, validator=_rate)
    error_statuses: tuple[int, ...] = (500, 502, 503)
    """The statuses ``error`` picks from, evenly."""
    commit_then_error_rate: float = attrs.field(default=0.0, validator=_rate)
    commit_then_drop_rate: float = attrs.field(default=0.0, validator=_rate)
    reset_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_rate: float = attrs.field(default=0.0, validator=_rate)
    slow_seconds: float = attrs.field(default=5.0, validator=_seconds)
    conflict_rate: float = attrs.field(default=0.0, validator=_rate)

    def __attrs_post_init__(self) -> None:
        if self.latency_range is not None:
            low, high = self.latency_range
            if not 0.0 <= low <= high:
                raise ValueError("latency_range must be (min, max) with 0 <= min <= max")
            if self.latency:
                raise ValueError("give latency or latency_range, not both")
        if not self.error_statuses or not all(500 <= s <= 599 for s in self.error_statuses):
            raise ValueError("error_statuses must be one or more 5xx statuses")
        total = sum(rate for _, rate in self.exclusive_rates("update"))
        if total > 1.0 + 1e-9:
            raise ValueError(f"the exclusive fault rates add up to {total:.3f}, more than 1")

    def exclusive_rates(self, operation: str) -> list[tuple[FaultKind, float]]:
        """The mutually exclusive kinds and their rates, in the order the plan draws them."""
        conflict = self.conflict_rate if operation == "update" else 0.0
        return [
            ("reset", self.reset_rate),
            ("error", self.error_rate),
            ("slow", self.slow_rate),
            ("conflict", conflict),
            ("commit_then_error", self.commit_then_error_rate),
            ("commit_then_drop", self.commit_then_drop_rate),
        ]


def _rules(value: Mapping[str, FaultConfig]) -> Mapping[str, FaultConfig]:
    unknown = set(value) - {*OPERATIONS, "*"}
    if unknown:
        raise ValueError(f"unknown operations {sorted(unknown)}; use {[*OPERATIONS, '*']}")
    return dict(value)


@attrs.frozen
class Faults:
    """Fault configuration per operation; ``"*"`` covers operations without their own::

    Faults({"create": FaultConfig(commit_then_drop_rate=0.1), "*": FaultConfig(latency=0.01)})
    Faults.everywhere(error_rate=0.05)  # the same FaultConfig for every operation
    """

    rules: Mapping[str, FaultConfig] = attrs.field(factory=dict, converter=_rules)

    @classmethod
    def everywhere(cls, **config: Any) -> Faults:
        """The same :class:`FaultConfig` (built from *config*) for every operation."""
        return cls({"*": FaultConfig(**config)})

    def for_operation(self, operation: str) -> FaultConfig | None:
        """The configuration that applies to *operation*, if any."""
        return self.rules.get(operation, self.rules.get("*"))


@attrs.frozen
class FaultDecision:
    """What happens to one request: at most one ``kind``, plus ``latency`` seconds."""

    kind: FaultKind | None = None
    latency: float = 0.0
    status: int = 500
    """The status of an ``error``."""
    slow_seconds: float = 0.0


NO_FAULT = FaultDecision()


class FaultPlan:
    """Draws a :class:`FaultDecision` per request from seeded per-operation generators."""

    def __init__(self, faults: Faults, *, seed: int) -> None:
        self.faults = faults
        self.seed = seed
        self._rngs: dict[str, random.Random] = {}
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Start every operation's sequence again from *seed*."""
        self.seed = seed
        # A string seed is hashed with SHA-512, so it does not depend on PYTHONHASHSEED.
        self._rngs = {op: random.Random(f"{seed}/{op}") for op in OPERATIONS}

    def decide(self, operation: str) -> FaultDecision:
        """The fate of the next request of *operation*."""
        rng = self._rngs.get(operation)
        if rng is None:
            return NO_FAULT
        # Always three draws, so the sequence does not depend on the configuration.
        pick, spread, which = rng.random(), rng.random(), rng.random()
        config = self.faults.for_operation(operation)
        if config is None:
            return NO_FAULT
        latency = config.latency
        if config.latency_range is not None:
            low, high = config.latency_range
            latency = low + (high - low) * spread
        kind: FaultKind | None = None
        threshold = 0.0
        for candidate, rate in config.exclusive_rates(operation):
            threshold += rate
            if pick < threshold:
                kind = candidate
                break
        statuses = config.error_statuses
        return FaultDecision(
            kind=kind,
            latency=latency,
            status=statuses[min(int(which * len(statuses)), len(statuses) - 1)],
            slow_seconds=config.slow_seconds if kind == "slow" else 0.0,
        )
