"""The five BYOK operations, as ``aiohttp`` handlers, validating input like the API.

Bodies are read with :func:`~asyncbyok.emulator.parsing.parse_request` (the same rules the client
checks before sending), plus what only a server can check: the provider must be one it
knows, the merged state of a PATCH may not be both ``is_byok_only`` and ``is_fallback``,
and a server of an older age (:data:`~asyncbyok.emulator.context.HIDDEN_FIELDS`) refuses
fields it does not know. Every refusal is a 400 listing every bad field at once::

    {"error": {"code": 400, "message": "name: must be at most 255 characters (got 256); ..."}}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web

from .._constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from .._sentinel import UNSET
from .._validation import UUID_PATTERN
from ..errors import FieldError, ValidationError
from ..models import BYOKKey, CreateBYOKKeyRequest, ProviderSlug, UpdateBYOKKeyRequest, wire_fields
from .context import CONTEXT, HIDDEN_FIELDS, ApiVersion, AppContext, ReceivedRequest
from .parsing import parse_request
from .replies import ErrorReply, TimestampStyle, format_timestamp, json_response
from .store import Record

__all__ = ["create_key", "delete_key", "get_key", "list_keys", "render", "update_key"]

RequestT = TypeVar("RequestT", CreateBYOKKeyRequest, UpdateBYOKKeyRequest)

KNOWN_PROVIDERS = frozenset(p.value for p in ProviderSlug)
# A message lists at most this many field errors; a 10 000-item list of wrong types
# should not produce a megabyte of error text.
_MAX_ERRORS_IN_MESSAGE = 20
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


_WIRE_ORDER = wire_fields(BYOKKey)


def render(
    record: Record, api_version: ApiVersion = "newest", timestamp_style: TimestampStyle = "z"
) -> dict[str, Any]:
    """A record as the JSON a server of *api_version* returns, ``created_at`` in a style.

    Built straight from the record (its settings are stored JSON-ready), in the order of
    :class:`~asyncbyok.models.BYOKKey`'s fields: a listing renders thousands of these, and
    going through the model and the converter tripled the emulator's cost per page.
    """
    settings = record.settings
    hidden = HIDDEN_FIELDS[api_version]
    data: dict[str, Any] = {}
    for name in _WIRE_ORDER:
        if name in hidden:
            continue
        if name == "created_at":
            data[name] = format_timestamp(record.created_at, timestamp_style, record.sort_order)
        elif name in settings:
            value = settings[name]
            data[name] = list(value) if isinstance(value, list) else value
        else:
            data[name] = getattr(record, name)
    return data


def _render(ctx: AppContext, record: Record) -> dict[str, Any]:
    return render(record, ctx.api_version, ctx.timestamp_style)


def _short(value: str, limit: int = 60) -> str:
    """``repr`` of a user-supplied string, cut so error messages stay small."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _bad_request(errors: Sequence[FieldError]) -> ErrorReply:
    shown = [str(e) for e in errors[:_MAX_ERRORS_IN_MESSAGE]]
    if len(errors) > _MAX_ERRORS_IN_MESSAGE:
        shown.append(f"and {len(errors) - _MAX_ERRORS_IN_MESSAGE} more")
    return ErrorReply(400, "; ".join(shown))


# ------------------------------------------------------------------ reading requests


def _reject_constant(name: str) -> Any:
    # Python's json takes NaN and Infinity; JSON (RFC 8259) and real servers do not.
    raise ValueError(f"{name} is not JSON")


def _redacted(data: Any) -> Any:
    if isinstance(data, dict) and "key" in data:
        return {**data, "key": "<redacted>"}
    return data


async def _read_json(request: web.Request, operation: str) -> Any:
    """The decoded JSON body, or a 400 for a wrong content type or a body that is not JSON."""
    ctx = request.app[CONTEXT]
    if request.content_type != "application/json":
        ctx.received.append(ReceivedRequest(operation, None))
        raise ErrorReply(400, "Content-Type must be application/json")
    raw = await request.read()
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        ctx.received.append(ReceivedRequest(operation, None))
        raise ErrorReply(400, "Request body is not valid JSON") from None
    ctx.received.append(ReceivedRequest(operation, _redacted(data)))
    return data


def _server_checks(data: Any, api_version: ApiVersion) -> list[FieldError]:
    """The checks a client cannot make: fields this server age lacks, unknown providers."""
    if not isinstance(data, Mapping):
        return []
    errors = [FieldError(k, "unknown field") for k in HIDDEN_FIELDS[api_version] if k in data]
    provider = data.get("provider")
    if isinstance(provider, str) and provider and provider not in KNOWN_PROVIDERS:
        errors.append(FieldError("provider", f"unknown provider {_short(provider)}"))
    return errors


def _parse_body(cls: type[RequestT], data: Any, api_version: ApiVersion) -> RequestT:
    errors: list[FieldError] = []
    request: RequestT | None = None
    try:
        request = parse_request(cls, data)
    except ValidationError as exc:
        errors.extend(exc.errors)
    errors.extend(_server_checks(data, api_version))
    if errors or request is None:
        raise _bad_request(errors)
    return request


def _int_param(
    query: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int | None
) -> tuple[int, FieldError | None]:
    text = query.get(name)
    if text is None:
        return default, None
    bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
    if not _DIGITS.fullmatch(text):
        return default, FieldError(name, f"must be an integer {bound} (got {_short(text)})")
    # Past 18 digits the exact value cannot matter (and int() of huge strings is slow).
    value = int(text) if len(text) <= 18 else 10**18
    if value < minimum or (maximum is not None and value > maximum):
        return default, FieldError(name, f"must be an integer {bound} (got {_short(text)})")
    return value, None


def _record_id(request: web.Request) -> str:
    """The path's id, normalised; a 404 when it is not a UUID (nothing could match it)."""
    record_id = request.match_info["id"]
    if not UUID_PATTERN.fullmatch(record_id):
        raise ErrorReply(404)
    return record_id.lower()


def _live(ctx: AppContext, record_id: str) -> Record:
    record = ctx.store.get(record_id)
    if record is None:
        raise ErrorReply(404)
    return record


# ------------------------------------------------------------------ the operations


async def list_keys(request: web.Request) -> web.Response:
    """``GET /byok``: one page of live credentials of a workspace, in creation order."""
    ctx = request.app[CONTEXT]
    ctx.received.append(ReceivedRequest("list", None))
    query = request.query
    errors: list[FieldError] = []
    offset, error = _int_param(query, "offset", default=0, minimum=0, maximum=None)
    errors += [error] if error else []
    limit, error = _int_param(
        query, "limit", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE
    )
    errors += [error] if error else []
    workspace_id = query.get("workspace_id", ctx.store.default_workspace_id)
    if not UUID_PATTERN.fullmatch(workspace_id):
        errors.append(FieldError("workspace_id", f"must be a UUID (got {_short(workspace_id)})"))
    provider = query.get("provider")
    if provider is not None and provider not in KNOWN_PROVIDERS:
        errors.append(FieldError("provider", f"unknown provider {_short(provider)}"))
    if errors:
        raise _bad_request(errors)
    page, total = ctx.store.page(
        workspace_id=workspace_id.lower(), provider=provider, offset=offset, limit=limit
    )
    data = [_render(ctx, r) for r in page]
    return json_response({"data": data, "total_count": total})


async def create_key(request: web.Request) -> web.Response:
    """``POST /byok``: store a credential; 201 with it (label masked, key never returned)."""
    ctx = request.app[CONTEXT]
    body = _parse_body(CreateBYOKKeyRequest, await _read_json(request, "create"), ctx.api_version)
    record = ctx.store.create(body)
    return json_response({"data": _render(ctx, record)}, 201)


async def get_key(request: web.Request) -> web.Response:
    """``GET /byok/{id}``: one live credential, else 404."""
    ctx = request.app[CONTEXT]
    ctx.received.append(ReceivedRequest("get", None))
    record = _live(ctx, _record_id(request))
    return json_response({"data": _render(ctx, record)})


async def update_key(request: web.Request) -> web.Response:
    """``PATCH /byok/{id}``: change the fields given; ``key`` rotates the key in place."""
    ctx = request.app[CONTEXT]
    record_id = _record_id(request)
    body = _parse_body(UpdateBYOKKeyRequest, await _read_json(request, "update"), ctx.api_version)
    record = _live(ctx, record_id)
    # The API refuses a credential that would end up both byok-only and a fallback,
    # whether both flags come in this body or one was already set.
    byok_only = record.is_byok_only if body.is_byok_only is UNSET else body.is_byok_only
    fallback = record.is_fallback if body.is_fallback is UNSET else body.is_fallback
    if byok_only is True and fallback is True:
        raise _bad_request([FieldError("is_byok_only", "cannot be true together with is_fallback")])
    updated = ctx.store.update(record_id, body)
    if updated is None:  # deleted meanwhile (the store is shared with test threads)
        raise ErrorReply(404)
    return json_response({"data": _render(ctx, updated)})


async def delete_key(request: web.Request) -> web.Response:
    """``DELETE /byok/{id}``: soft delete; the credential disappears from list and get."""
    ctx = request.app[CONTEXT]
    ctx.received.append(ReceivedRequest("delete", None))
    if not ctx.store.delete(_record_id(request)):
        raise ErrorReply(404)
    return json_response({"deleted": True})
