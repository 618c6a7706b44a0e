"""Benchmarks: asyncbyok against raw aiohttp, raw httpx and the official SDK.

Run ``python -m benchmarks`` (see :mod:`benchmarks.run`). Not part of the test suite;
``tests/test_benchmarks_smoke.py`` runs ``--quick`` so the harness cannot rot.
"""
