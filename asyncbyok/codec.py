"""JSON <-> models: the one cattrs converter of asyncbyok, and how it is configured.

- :func:`unstructure` turns a model into a JSON-ready ``dict``: fields that are
  :data:`~asyncbyok.UNSET` are left out, ``None`` stays (JSON ``null``), enums become
  their strings, datetimes ISO 8601 strings, and a response's ``extra`` fields are put back.
- :func:`structure` turns decoded JSON into a model. For responses it is tolerant of
  servers of every age: a missing optional field becomes ``UNSET`` (or its documented
  default) and an unknown field is kept in ``extra``. It is strict about types: a string
  where a boolean belongs is an error, not ``True``.
- :func:`parse_request` reads a request body the way the API does (unknown and missing
  fields are errors), raising :class:`~asyncbyok.errors.ValidationError`. The emulator
  uses it; so can anything that reads requests from files.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from ._sentinel import UNSET, _UnsetType
from .errors import FieldError, ValidationError
from .models import (
    BYOKKey,
    BYOKKeyList,
    CreateBYOKKeyRequest,
    DeleteResult,
    UpdateBYOKKeyRequest,
    _OpenStrEnum,
)

__all__ = [
    "converter",
    "dumps",
    "format_datetime",
    "parse_datetime",
    "parse_request",
    "structure",
    "unstructure",
]

T = TypeVar("T")
Request = TypeVar("Request", CreateBYOKKeyRequest, UpdateBYOKKeyRequest)

converter = cattrs.Converter()
"""The converter. Configure it only through this module's functions."""

_RESPONSE_CLASSES = (BYOKKey, BYOKKeyList, DeleteResult)
_REQUEST_CLASSES = (CreateBYOKKeyRequest, UpdateBYOKKeyRequest)


# ---------------------------------------------------------------- datetimes


def parse_datetime(value: str) -> datetime:
    """An aware datetime from an ISO 8601 string; a naive one is taken as UTC."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, not {type(value).__name__}")
    # Python 3.10's fromisoformat does not take a trailing "Z".
    parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_datetime(value: datetime) -> str:
    """ISO 8601 with a ``Z`` for UTC, as the API writes ``created_at``."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# ---------------------------------------------------------------- strict primitives


def _strict(kind: type[T]) -> Callable[[Any, type], T]:
    """A structure hook that checks the type instead of converting (``bool("no")`` is True).

    ``type(v) is kind``: decoded JSON holds exact types, and it keeps ``True`` from
    passing for an ``int``.
    """

    def hook(value: Any, _: type) -> T:
        if type(value) is kind:
            return value
        raise TypeError(f"expected {kind.__name__}, not {type(value).__name__}")

    return hook


_PRIMITIVES = (str, bool, int)
for _kind in _PRIMITIVES:
    converter.register_structure_hook(_kind, _strict(_kind))
converter.register_structure_hook(datetime, lambda v, _: parse_datetime(v))
converter.register_unstructure_hook(datetime, format_datetime)
# UNSET passes through unstructuring untouched, so the class hooks below can drop it.
converter.register_unstructure_hook(_UnsetType, lambda v: v)
converter.register_unstructure_hook(_OpenStrEnum, lambda v: v.value)


def _structure_str_list(value: Any, _: type) -> list[str]:
    # cattrs would accept any iterable, turning "gpt-4" into ["g", "p", "t", ...].
    if type(value) is not list:
        raise TypeError(f"expected a list, not {type(value).__name__}")
    for item in value:
        if type(item) is not str:
            raise TypeError(f"expected a list of strings, not one holding {type(item).__name__}")
    return list(value)


converter.register_structure_hook_func(lambda t: t == list[str], _structure_str_list)


# ---------------------------------------------------------------- unions with UNSET / open enums


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return None


def _is_unset(arg: Any) -> bool:
    return typing.get_origin(arg) is typing.Literal and typing.get_args(arg) == (UNSET,)


def _is_model_union(tp: Any) -> bool:
    args = _union_args(tp)
    if args is None:
        return False
    has_open_enum = any(isinstance(a, type) and issubclass(a, _OpenStrEnum) for a in args)
    return has_open_enum or any(_is_unset(a) for a in args)


def _make_union_hook(tp: Any) -> Callable[[Any, Any], Any]:
    """Structure ``X | None | Unset`` and ``OpenEnum | str``.

    UNSET never comes from JSON (a missing key takes the field default), so it is dropped
    from the union. An open enum paired with ``str`` takes any string; the field's attrs
    converter turns known values into members.
    """
    args = [a for a in _union_args(tp) or () if not _is_unset(a)]
    nullable = type(None) in args
    rest = [a for a in args if a is not type(None)]
    if any(isinstance(a, type) and issubclass(a, _OpenStrEnum) for a in rest):
        rest = [str]
    inner: Any = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    structure_inner = converter.get_structure_hook(inner)

    if inner in _PRIMITIVES:  # the common case, checked inline: this is the hot path

        def primitive_hook(value: Any, _: Any) -> Any:
            if type(value) is inner or (value is None and nullable):
                return value
            expected = f"{inner.__name__}{' or null' if nullable else ''}"
            raise TypeError(f"expected {expected}, not {type(value).__name__}")

        return primitive_hook

    def hook(value: Any, _: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise TypeError("expected a value, not null")
        return structure_inner(value, inner)

    return hook


converter.register_structure_hook_factory(_is_model_union, _make_union_hook)


# ---------------------------------------------------------------- responses: keep unknown fields


def _response_hook(cls: type[T]) -> Callable[[Any, type], T]:
    known = frozenset(a.name for a in attrs.fields(cls)) - {"extra"}  # type: ignore[arg-type]
    # The fast function skips cattrs' per-field error bookkeeping; only when it fails is
    # the body decoded again with it, to name every bad field in the error.
    fast = make_dict_structure_fn(
        cls, converter, _cattrs_forbid_extra_keys=False, _cattrs_detailed_validation=False
    )
    detailed = make_dict_structure_fn(
        cls, converter, _cattrs_forbid_extra_keys=False, _cattrs_detailed_validation=True
    )

    def hook(data: Any, _: type) -> T:
        if not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object, not {type(data).__name__}")
        try:
            obj = fast(data, cls)
        except Exception:
            detailed(data, cls)  # raises ClassValidationError naming the fields
            raise
        unknown = data.keys() - known
        if unknown:
            # Frozen class: attrs itself sets fields this way in __init__.
            object.__setattr__(obj, "extra", {k: data[k] for k in unknown})
        return obj

    return hook


_JSON_SCALARS = frozenset({str, bool, int, float, type(None)})


def _unstructure_hook(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    names = [a.name for a in attrs.fields(cls) if a.name != "extra"]
    has_extra = "extra" in attrs.fields_dict(cls)
    unstructure_value = converter.unstructure

    def hook(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = dict(obj.extra) if has_extra else {}
        for name in names:
            value = getattr(obj, name)
            if value is UNSET:
                continue
            # JSON scalars and open enums directly: cattrs' dispatch is for the rest
            if value.__class__ in _JSON_SCALARS:
                out[name] = value
            elif isinstance(value, _OpenStrEnum):
                out[name] = value.value
            else:
                out[name] = unstructure_value(value)
        return out

    return hook


for _response in _RESPONSE_CLASSES:
    converter.register_structure_hook(_response, _response_hook(_response))
for _model in (*_RESPONSE_CLASSES, *_REQUEST_CLASSES):
    converter.register_unstructure_hook(_model, _unstructure_hook(_model))


# ---------------------------------------------------------------- requests: read like the API


_REQUIRED = {CreateBYOKKeyRequest: ("provider", "key"), UpdateBYOKKeyRequest: ()}
# Valid stand-ins for missing required fields, so one pass reports every other error too.
_PLACEHOLDERS = {"provider": "openai", "key": "placeholder"}


def parse_request(cls: type[Request], data: Any) -> Request:
    """Read a request body (decoded JSON) strictly, as the API does.

    Unknown fields, missing required fields, wrong types, ``null`` where it is not allowed
    and values past the API's limits are all reported in one
    :class:`~asyncbyok.errors.ValidationError`.
    """
    subject = cls.__name__
    if not isinstance(data, Mapping):
        raise ValidationError([FieldError("$", "must be a JSON object")], subject=subject)
    fields = attrs.fields_dict(cls)
    errors = [FieldError(k, "unknown field") for k in data if k not in fields]
    missing = [k for k in _REQUIRED[cls] if k not in data]
    errors += [FieldError(k, "is required") for k in missing]
    kwargs = {k: v for k, v in data.items() if k in fields}
    kwargs.update({k: _PLACEHOLDERS[k] for k in missing})
    try:
        request = cls(**kwargs)
    except ValidationError as exc:
        errors += exc.errors
    if errors:
        raise ValidationError(errors, subject=subject)
    return request


for _request in _REQUEST_CLASSES:
    converter.register_structure_hook(_request, lambda data, cls: parse_request(cls, data))


# ---------------------------------------------------------------- the public functions


def unstructure(obj: Any) -> Any:
    """A model as JSON-ready data; ``UNSET`` fields are left out."""
    return converter.unstructure(obj)


def structure(data: Any, cls: type[T]) -> T:
    """Decoded JSON as an instance of *cls* (raises cattrs' ``ClassValidationError``)."""
    return converter.structure(data, cls)


def dumps(obj: Any) -> bytes:
    """A model as compact UTF-8 JSON bytes, ready to send."""
    return json.dumps(unstructure(obj), separators=(",", ":"), ensure_ascii=False).encode()
