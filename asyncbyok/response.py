""":class:`APIResponse`: a parsed result with the facts of the exchange that produced it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

import attrs

__all__ = ["APIResponse"]

T = TypeVar("T")


@attrs.frozen
class APIResponse(Generic[T]):
    """A parsed result with the facts of the HTTP exchange that produced it.

    ``attempts`` counts every attempt of the call that was sent; ``elapsed`` is seconds
    from the first attempt to the end, backoff included; ``method`` and ``url`` are the
    call's.

    ``recovered`` is true when a create or delete whose outcome was unknown was resolved
    by a lookup instead of a response of its own: the credential an earlier attempt
    stored was found (create), or was found gone (delete). ``status``, ``headers`` and
    ``request_id`` are then those of the lookup's response that showed it (``GET``).
    """

    parsed: T
    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    request_id: str | None
    attempts: int
    elapsed: float
    method: str
    url: str
    recovered: bool = False
