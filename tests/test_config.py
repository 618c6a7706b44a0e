"""Timeout and Limits: defaults resolved by what was given, never by comparing numbers."""

from __future__ import annotations

import attrs
import pytest

import asyncbyok
from asyncbyok import Limits, Timeout


def test_the_defaults() -> None:
    assert (Timeout().total, Timeout().connect, Timeout().read) == (60.0, 10.0, None)


@pytest.mark.parametrize("seconds", [0.5, 5, 30, 59, 60, 61, 3600])
def test_one_number_sets_all_three(seconds: float) -> None:
    # 60 included: it is the default total, and must not bring back the other defaults.
    timeout = Timeout(seconds)
    assert (timeout.total, timeout.connect, timeout.read) == (seconds, seconds, seconds)
    assert Timeout.coerce(seconds) == timeout


def test_keywords_override_the_positional_value_as_httpx_does() -> None:
    assert Timeout(60, connect=5) == Timeout(total=60, connect=5, read=60)
    assert Timeout(10, read=None) == Timeout(total=10, connect=10, read=None)
    assert Timeout(connect=5) == Timeout(total=60, connect=5, read=None)
    assert Timeout(total=20) == Timeout(total=20, connect=10, read=None)
    assert Timeout(read=20) == Timeout(total=60, connect=10, read=20)


def test_none_means_no_limit() -> None:
    assert Timeout(None) == Timeout(total=None, connect=None, read=None)
    assert Timeout.coerce(None) == Timeout(None)
    assert Timeout(None, connect=3).connect == 3


def test_coerce_keeps_a_timeout() -> None:
    timeout = Timeout(7, read=2)
    assert Timeout.coerce(timeout) is timeout


def test_values_are_checked() -> None:
    for bad in ({"total": 0}, {"connect": -1}, {"read": 0.0}):
        with pytest.raises(ValueError, match="positive"):
            Timeout(**bad)
    with pytest.raises(ValueError, match="positive"):
        Timeout(0)


def test_evolve_and_equality() -> None:
    assert attrs.evolve(Timeout(), read=5) == Timeout(total=60, connect=10, read=5)
    assert attrs.evolve(Timeout(60), connect=1) == Timeout(60, connect=1)
    assert Timeout(5) == Timeout(5.0)
    assert len({Timeout(5), Timeout(5.0), Timeout()}) == 2


def test_the_client_and_its_copies_resolve_timeouts_the_same_way() -> None:
    client = asyncbyok.Client(api_key="sk-or-v1-test", base_url="http://127.0.0.1:1")
    assert client.timeout == Timeout()
    assert client.with_options(timeout=60).timeout == Timeout(60, connect=60, read=60)
    assert client.with_options(timeout=59).timeout == Timeout(59, connect=59, read=59)
    assert asyncbyok.Client(
        api_key="sk-or-v1-test", base_url="http://127.0.0.1:1", timeout=None
    ).timeout == Timeout(None)


def test_limits() -> None:
    assert Limits().max_connections == 64
    with pytest.raises(ValueError, match="max_connections"):
        Limits(max_connections=0)


def test_the_response_size_limit() -> None:
    assert Limits().max_response_size == 16 * 1024 * 1024
    assert Limits(max_response_size=1).max_response_size == 1
    for bad in (0, -1, 1.5, True, "16M"):
        with pytest.raises(ValueError, match=r"Limits\.max_response_size must be a positive"):
            Limits(max_response_size=bad)  # type: ignore[arg-type]
    client = asyncbyok.Client(
        api_key="k", base_url="http://127.0.0.1:1", limits=Limits(max_response_size=5)
    )
    assert client.with_options(timeout=1)._shared.transport.limits.max_response_size == 5
