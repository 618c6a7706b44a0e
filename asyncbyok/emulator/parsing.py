"""Reading request bodies the way the API does: strictly, every problem reported at once.

The client checks what it sends when it builds a request model; a server must also refuse
what no model would hold: unknown fields, missing required ones, a body that is not an
object. :func:`parse_request` does both, for the emulator's handlers.

One client check is not the API's: the models refuse a ``key`` with surrounding white
space (a newline from a file is a mistake the client catches), but the API takes any
non-empty key, so the emulator stores such a key as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ..errors import FieldError, ValidationError
from ..models import CreateBYOKKeyRequest, UpdateBYOKKeyRequest, request_fields

__all__ = ["parse_request"]

Request = TypeVar("Request", CreateBYOKKeyRequest, UpdateBYOKKeyRequest)

# A valid stand-in for a missing required field (every one is a string), so that one pass
# also reports every other error of the body.
_PLACEHOLDER = "placeholder"


def parse_request(cls: type[Request], data: Any) -> Request:
    """Read a request body (decoded JSON) strictly, as the API does.

    Unknown fields, missing required fields, wrong types, ``null`` where it is not allowed
    and values past the API's limits are all reported in one
    :class:`~asyncbyok.errors.ValidationError`::

        >>> parse_request(UpdateBYOKKeyRequest, {"name": None, "colour": "red"})
        Traceback (most recent call last):
        asyncbyok.errors.ValidationError: 1 invalid field in UpdateBYOKKeyRequest
          colour: unknown field
    """
    subject = cls.__name__
    if not isinstance(data, Mapping):
        raise ValidationError([FieldError("$", "must be a JSON object")], subject=subject)
    fields = request_fields(cls)
    names = {f.name for f in fields}
    errors = [FieldError(k, "unknown field") for k in data if k not in names]
    missing = [f.name for f in fields if f.required and f.name not in data]
    errors += [FieldError(k, "is required") for k in missing]
    kwargs = {k: v for k, v in data.items() if k in names}
    kwargs.update(dict.fromkeys(missing, _PLACEHOLDER))
    key = kwargs.get("key")
    padded = isinstance(key, str) and key != key.strip()  # valid for the API, see above
    if padded:
        kwargs["key"] = _PLACEHOLDER
    try:
        request = cls(**kwargs)
    except ValidationError as exc:
        errors += exc.errors
    if errors:
        raise ValidationError(errors, subject=subject)
    if padded:
        object.__setattr__(request, "key", key)  # frozen: set as attrs' own __init__ does
    return request
