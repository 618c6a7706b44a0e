"""What an answer means: :func:`decode_response` reads one (the model it holds, or the
error it stands for), and :class:`APIResponse` carries a parsed result with the facts of
the exchange that produced it. Pure: no sockets (see :mod:`asyncbyok.sansio` for the
request side)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs
import cattrs

from . import codec
from ._headers import find_request_id
from .errors import APIResponseValidationError, error_from_response

__all__ = ["APIResponse", "decode_response"]

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


def _unwrap(decoded: Any) -> Any:
    if not isinstance(decoded, Mapping) or "data" not in decoded:
        raise ValueError('expected an object with a "data" member')
    return decoded["data"]


def decode_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    cls: type[T],
    *,
    envelope: bool,
    method: str | None = None,
    url: str | None = None,
) -> T:
    """The model in a success response, or raise the error the response stands for.

    *cls* is what the body holds: :class:`~asyncbyok.models.BYOKKey`,
    :class:`~asyncbyok.models.BYOKKeyList` or :class:`~asyncbyok.models.DeleteResult`.
    *envelope* says whether it comes wrapped in ``{"data": ...}``: create, get and update
    answer so; the list page and the delete result are bare.

    A body that does not fit raises :class:`~asyncbyok.errors.APIResponseValidationError`
    naming the fields. Decoding is tolerant where the API is loose (see
    :mod:`asyncbyok.codec`): a ``created_at`` that is no timestamp, or a list item that is
    no credential, costs neither the call nor the page.
    """
    if not 200 <= status < 300:
        raise error_from_response(status, headers, body, method=method, url=url)
    try:
        decoded = json.loads(body)
        return codec.structure(_unwrap(decoded) if envelope else decoded, cls)
    except (ValueError, TypeError, RecursionError, cattrs.BaseValidationError) as exc:
        detail = codec.describe_error(exc)
        raise APIResponseValidationError(
            f"unexpected {status} response body for {cls.__name__}: {detail}",
            status=status,
            body=body[:1000].decode("utf-8", "replace"),
            request_id=find_request_id(headers),
            method=method,
            url=url,
        ) from exc
