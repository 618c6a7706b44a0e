"""The one sentinel for "not given": :data:`UNSET`.

JSON has three states for an optional, nullable field and Python's ``None`` covers only
one of them::

    UNSET   -> the key is left out of the JSON ("leave as is" / "server default")
    None    -> the key is sent as JSON ``null`` ("no restriction" / "clear")
    value   -> the key is sent with that value

``UNSET`` is the single member of an :class:`enum.Enum`, which makes it a true singleton
that survives :mod:`pickle`, :func:`copy.copy` and :func:`copy.deepcopy`, and lets type
checkers narrow ``x: T | Unset`` with ``x is UNSET``.
"""

from __future__ import annotations

import enum
from typing import Final, Literal

__all__ = ["UNSET", "Unset"]


class _UnsetType(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    __str__ = __repr__

    def __bool__(self) -> Literal[False]:
        return False


Unset = Literal[_UnsetType.UNSET]
"""The type of :data:`UNSET`, for annotations: ``name: str | None | Unset = UNSET``."""

UNSET: Final = _UnsetType.UNSET
"""Leave this field out of the request (distinct from ``None``, which sends ``null``)."""
