"""Helpers of ``tests/test_docs.py``: reading the code blocks of ``docs/`` and running them."""
