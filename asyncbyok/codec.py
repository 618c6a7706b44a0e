"""JSON <-> models: how asyncbyok configures cattrs, the cattrs way.

:func:`configure_converter` teaches a converter you own the models' rules;
:func:`make_converter` returns a new, configured one. The module keeps one default
converter, made by :func:`make_converter`, behind :func:`structure`, :func:`unstructure`
and :func:`dumps`::

    >>> from asyncbyok.codec import make_converter
    >>> from asyncbyok import UpdateBYOKKeyRequest
    >>> make_converter().unstructure(UpdateBYOKKeyRequest(name=None))
    {'name': None}

The rules:

- Unstructuring leaves out fields that are :data:`~asyncbyok.UNSET`, keeps ``None``
  (JSON ``null``), turns enums into their strings and datetimes into RFC 3339, and puts a
  response's ``extra`` fields back.
- Structuring is strict about types (a string where a boolean belongs is an error, not
  ``True``) and tolerant of servers of every age: a missing optional field becomes
  ``UNSET`` (or its documented default), an unknown one is kept in ``extra``, a
  ``created_at`` in any RFC 3339 form is read (:func:`parse_datetime`) and one that is not
  a timestamp is kept as sent, and a list item that is not a credential is set aside in
  ``BYOKKeyList.undecodable`` instead of failing the page.
"""

from __future__ import annotations

import enum
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from ._sentinel import UNSET
from .errors import FieldError, ValidationError
from .models import (
    BYOKKey,
    BYOKKeyList,
    CreateBYOKKeyRequest,
    DeleteResult,
    UndecodableItem,
    UpdateBYOKKeyRequest,
    wire_fields,
)

__all__ = [
    "configure_converter",
    "converter",
    "describe_error",
    "dumps",
    "format_datetime",
    "make_converter",
    "parse_datetime",
    "read_timestamp",
    "structure",
    "unstructure",
]

T = TypeVar("T")

# ---------------------------------------------------------------- RFC 3339 timestamps

# RFC 3339 section 5.6, plus what its note and real servers allow: a "t" or a space for
# the "T", any case of "Z", no offset at all (read as UTC), an offset without its colon.
# Written out because datetime.fromisoformat on Python 3.10 takes none of "Z", "z", "t"
# or fractions other than 3 or 6 digits.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?",
    re.ASCII,
)


# The API's own forms ("2025-08-24T10:30:00Z", 3 or 6 fractional digits, an offset with a
# colon): what Python 3.10's datetime.fromisoformat reads too, at C speed, once "Z" is
# spelled "+00:00". Everything else takes the general path.
_COMMON = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3}(?:\d{3})?)?(?:Z|[+-]\d\d:\d\d)", re.ASCII
)


def parse_datetime(value: str) -> datetime:
    """An aware ``datetime`` from an RFC 3339 timestamp; raises ``ValueError`` otherwise.

    >>> parse_datetime("2025-08-24t10:30:00.123456789z")
    datetime.datetime(2025, 8, 24, 10, 30, 0, 123456, tzinfo=datetime.timezone.utc)
    >>> parse_datetime("2025-08-24T05:00:00-05:30").isoformat()
    '2025-08-24T05:00:00-05:30'

    Fractions of any length are cut to microseconds; a leap second (``:60``) is the first
    moment of the next minute; no offset, ``Z`` and ``-00:00`` all mean UTC.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 string, not {type(value).__name__}")
    if _COMMON.fullmatch(value):
        try:
            return datetime.fromisoformat(value[:-1] + "+00:00" if value[-1] == "Z" else value)
        except ValueError:
            pass  # a leap second, an offset past 23:59 ...: the general path says what
    match = _RFC3339.fullmatch(value)
    shown = value if len(value) <= 40 else value[:40] + "..."
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {shown!r}")
    try:
        return _from_match(match)
    except (ValueError, OverflowError) as exc:  # Feb 30, hour 24, past year 9999 ...
        raise ValueError(f"not an RFC 3339 timestamp: {shown!r} ({exc})") from None


def _from_match(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    microsecond = int(((match[7] or "") + "000000")[:6])
    tz = timezone.utc
    if match[9]:
        hours, minutes = int(match[10]), int(match[11])
        if hours > 23 or minutes > 59:
            raise ValueError("offset out of range")
        offset = timedelta(hours=hours, minutes=minutes)
        if offset:
            tz = timezone(-offset if match[9] == "-" else offset)
    leap = second == 60
    parsed = datetime(year, month, day, hour, minute, 59 if leap else second, microsecond, tz)
    return parsed + timedelta(seconds=1) if leap else parsed


def read_timestamp(value: Any) -> datetime | None:
    """:func:`parse_datetime` for any JSON value: ``None`` where there is no timestamp."""
    try:
        return parse_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None


def format_datetime(value: datetime) -> str:
    """RFC 3339 with a ``Z`` for UTC, as the API writes ``created_at``."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# ---------------------------------------------------------------- strict primitives

_PRIMITIVES = (str, bool, int)
_JSON_SCALARS = frozenset({str, bool, int, float, type(None)})


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


def _structure_str_list(value: Any, _: type) -> list[str]:
    # cattrs would accept any iterable, turning "gpt-4" into ["g", "p", "t", ...].
    if type(value) is not list:
        raise TypeError(f"expected a list, not {type(value).__name__}")
    for item in value:
        if type(item) is not str:
            raise TypeError(f"expected a list of strings, not one holding {type(item).__name__}")
    return list(value)


def _is_str_enum(tp: Any) -> bool:
    """The models' open enums (``ProviderSlug``, ``DeclaredRegion``): ``str`` enums."""
    return isinstance(tp, type) and issubclass(tp, enum.Enum) and issubclass(tp, str)


def _configure_primitives(conv: cattrs.Converter) -> None:
    for kind in _PRIMITIVES:
        conv.register_structure_hook(kind, _strict(kind))
    conv.register_structure_hook(datetime, lambda v, _: parse_datetime(v))
    conv.register_unstructure_hook(datetime, format_datetime)
    conv.register_structure_hook_func(lambda t: t == list[str], _structure_str_list)
    conv.register_unstructure_hook_func(_is_str_enum, lambda v: v.value)


# ---------------------------------------------------------------- unions with UNSET / open enums


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return None


def _is_unset(arg: Any) -> bool:
    return typing.get_origin(arg) is typing.Literal and typing.get_args(arg) == (UNSET,)


def _is_model_union(tp: Any) -> bool:
    args = _union_args(tp)
    return args is not None and any(_is_str_enum(a) or _is_unset(a) for a in args)


def _union_hook(conv: cattrs.Converter, tp: Any) -> Callable[[Any, Any], Any]:
    """Structure ``X | None | Unset`` and ``OpenEnum | str``.

    UNSET never comes from JSON (a missing key takes the field default), so it is dropped
    from the union. An open enum paired with ``str`` takes any string; the field's attrs
    converter turns known values into members.
    """
    args = [a for a in _union_args(tp) or () if not _is_unset(a)]
    nullable = type(None) in args
    rest = [a for a in args if a is not type(None)]
    if any(_is_str_enum(a) for a in rest):
        rest = [str]
    inner: Any = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007

    if inner in _PRIMITIVES:  # the common case, checked inline: this is the hot path

        def primitive_hook(value: Any, _: Any) -> Any:
            if type(value) is inner or (value is None and nullable):
                return value
            expected = f"{inner.__name__}{' or null' if nullable else ''}"
            raise TypeError(f"expected {expected}, not {type(value).__name__}")

        return primitive_hook

    structure_inner = conv.get_structure_hook(inner)

    def hook(value: Any, _: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise TypeError("expected a value, not null")
        return structure_inner(value, inner)

    return hook


# ---------------------------------------------------------------- responses


def describe_error(exc: Exception, path: str = "$") -> str:
    """A decoding error as text, each problem with its JSON path (``$.disabled``) under *path*."""
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(m.replace("@ $", f"@ {path}", 1) for m in cattrs.transform_error(exc))
    return f"{exc} @ {path}"


def _response_structurer(
    conv: cattrs.Converter, cls: type[T], **overrides: Any
) -> Callable[[Any, type], T]:
    """Structure *cls* from a JSON object, keeping unknown fields in ``extra``.

    The fast function skips cattrs' per-field error bookkeeping; only when it fails is the
    body decoded again with it, to name every bad field in the error.
    """
    known = frozenset(wire_fields(cls))
    names = attrs.fields_dict(typing.cast(Any, cls))
    skip = {name: override(omit=True) for name in names if name not in known}
    options = {"_cattrs_forbid_extra_keys": False, **skip, **overrides}
    fast = make_dict_structure_fn(cls, conv, _cattrs_detailed_validation=False, **options)
    detailed = make_dict_structure_fn(cls, conv, _cattrs_detailed_validation=True, **options)

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


def _key_structurer(conv: cattrs.Converter) -> Callable[[Any, type], BYOKKey]:
    # created_at is read here, not by cattrs: any value is accepted and kept as sent.
    structure = _response_structurer(conv, BYOKKey, created_at=override(omit=True))

    def hook(data: Any, cls: type) -> BYOKKey:
        key = structure(data, cls)
        if "created_at" in data:
            raw = data["created_at"]
            object.__setattr__(key, "created_at", read_timestamp(raw))
            object.__setattr__(key, "created_at_raw", raw)
        return key

    return hook


def _page_structurer(conv: cattrs.Converter) -> Callable[[Any, type], BYOKKeyList]:
    structure_key = _key_structurer(conv)

    def item(index: int, raw: Any) -> BYOKKey | UndecodableItem:
        try:
            return structure_key(raw, BYOKKey)
        # Whatever an item holds, it must not cost the page its other items: any error
        # here sets this one item aside, with the reason.
        except Exception as exc:
            return UndecodableItem(
                index=index, raw=raw, error=describe_error(exc, f"$.data[{index}]")
            )

    def items(value: Any, _: type) -> list[BYOKKey | UndecodableItem]:
        if type(value) is not list:
            raise TypeError(f"expected a list, not {type(value).__name__}")
        return [item(i, raw) for i, raw in enumerate(value)]

    structure = _response_structurer(conv, BYOKKeyList, data=override(struct_hook=items))

    def hook(data: Any, cls: type) -> BYOKKeyList:
        page = structure(data, cls)
        decoded: list[Any] = page.data
        if any(type(x) is UndecodableItem for x in decoded):
            object.__setattr__(page, "data", [x for x in decoded if type(x) is BYOKKey])
            bad = [x for x in decoded if type(x) is UndecodableItem]
            object.__setattr__(page, "undecodable", bad)
        return page

    return hook


def _unstructurer(
    conv: cattrs.Converter,
    cls: type[Any],
    finish: Callable[[Any, dict[str, Any]], None] | None = None,
) -> Callable[[Any], dict[str, Any]]:
    """A model as a JSON object: its wire fields but UNSET ones, then ``extra`` back in;
    *finish* puts back what decoding took apart (see :func:`_restore_created_at`)."""
    names = wire_fields(cls)
    has_extra = "extra" in attrs.fields_dict(cls)
    unstructure_value = conv.unstructure

    def hook(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = dict(obj.extra) if has_extra else {}
        for name in names:
            value = getattr(obj, name)
            if value is UNSET:
                continue
            # JSON scalars and open enums directly: cattrs' dispatch is for the rest
            if value.__class__ in _JSON_SCALARS:
                out[name] = value
            elif isinstance(value, enum.Enum):
                out[name] = value.value
            else:
                out[name] = unstructure_value(value)
        if finish is not None:
            finish(obj, out)
        return out

    return hook


def _restore_created_at(key: BYOKKey, out: dict[str, Any]) -> None:
    if key.created_at_raw is not UNSET:
        out["created_at"] = key.created_at_raw  # exactly what was sent
    elif key.created_at is None:
        del out["created_at"]  # nothing was sent


def _restore_undecodable(page: BYOKKeyList, out: dict[str, Any]) -> None:
    for item in sorted(page.undecodable, key=lambda x: x.index):  # back where they were
        out["data"].insert(item.index, item.raw)


# ---------------------------------------------------------------- the converter


def configure_converter(conv: cattrs.Converter) -> None:
    """Teach *conv* the models' wire rules (see the module docstring). Returns nothing."""
    _configure_primitives(conv)
    conv.register_structure_hook_factory(_is_model_union, lambda tp: _union_hook(conv, tp))
    conv.register_structure_hook(BYOKKey, _key_structurer(conv))
    conv.register_structure_hook(BYOKKeyList, _page_structurer(conv))
    conv.register_structure_hook(DeleteResult, _response_structurer(conv, DeleteResult))
    conv.register_unstructure_hook(BYOKKey, _unstructurer(conv, BYOKKey, _restore_created_at))
    conv.register_unstructure_hook(
        BYOKKeyList, _unstructurer(conv, BYOKKeyList, _restore_undecodable)
    )
    conv.register_unstructure_hook(DeleteResult, _unstructurer(conv, DeleteResult))
    for request in (CreateBYOKKeyRequest, UpdateBYOKKeyRequest):
        conv.register_unstructure_hook(request, _unstructurer(conv, request))
        # Read strictly (unknown fields are errors); the class checks the values.
        conv.register_structure_hook(
            request, make_dict_structure_fn(request, conv, _cattrs_forbid_extra_keys=True)
        )


def make_converter() -> cattrs.Converter:
    """A new converter configured by :func:`configure_converter`."""
    conv = cattrs.Converter()
    configure_converter(conv)
    return conv


converter = make_converter()
"""The default converter, used by the functions below. Make your own to configure more."""


def unstructure(obj: Any) -> Any:
    """A model as JSON-ready data; ``UNSET`` fields are left out."""
    return converter.unstructure(obj)


def structure(data: Any, cls: type[T]) -> T:
    """Decoded JSON as an instance of *cls* (raises cattrs' ``ClassValidationError``)."""
    return converter.structure(data, cls)


def dumps(obj: Any) -> bytes:
    """A model as compact UTF-8 JSON bytes, ready to send.

    A string holding a lone surrogate (``"\\ud800"``, which a server may send and a
    model may hold) is not UTF-8: it raises :class:`~asyncbyok.ValidationError` naming
    the field, never a bare ``UnicodeEncodeError``, and never echoes a raw key.
    """
    data = unstructure(obj)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        pass  # raised below, outside the handler: its context would hold the raw key
    problems = [
        FieldError(path, f"holds a lone surrogate (character {at}): it is not UTF-8")
        for path, at in _lone_surrogates(data, "")
    ]
    subject = type(obj).__name__ if attrs.has(type(obj)) else "request body"
    raise ValidationError(problems or [FieldError("$", "is not UTF-8")], subject=subject)


def _lone_surrogates(data: Any, path: str) -> list[tuple[str, int]]:
    """Where a string in decoded JSON *data* is not UTF-8: (path, character index)."""
    if isinstance(data, str):
        try:
            data.encode()
        except UnicodeEncodeError as exc:
            return [(path or "$", exc.start)]
        return []
    if isinstance(data, Mapping):
        items: Any = ((f"{path}.{k}" if path else str(k), v) for k, v in data.items())
    elif isinstance(data, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(data))
    else:
        return []
    return [found for sub, value in items for found in _lone_surrogates(value, sub)]
