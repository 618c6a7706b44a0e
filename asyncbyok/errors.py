"""Every exception asyncbyok raises, and the one function that maps a response to one.

The tree::

    AsyncBYOKError
    ├── ValidationError (also ValueError)     bad input, caught before any request is sent
    ├── InsecureURLError (also ValueError)    plain http:// to a host beyond loopback
    ├── DuplicateNameError                    ensure(), get_by_name(): several have that name
    ├── UnreadableStateError                  apply: the server listed items it can't read
    ├── ClientClosedError                     the client was closed before or during the call
    ├── EventLoopError (also RuntimeError)    the client is in use by another event loop
    └── APIError                              anything that went wrong talking to the API
        ├── APIStatusError                    the server answered with a 4xx/5xx status
        │   ├── BadRequestError               400
        │   ├── AuthenticationError           401
        │   ├── PermissionDeniedError         403
        │   ├── NotFoundError                 404
        │   ├── ConflictError                 409
        │   ├── RateLimitError                429 (retry_after: seconds, when given)
        │   └── InternalServerError           5xx
        ├── APIConnectionError                no response: refused, reset, DNS, TLS ...
        │   └── APITimeoutError               no response in time
        ├── APIResponseValidationError        a 2xx whose body is not what the API documents
        └── ResponseTooLargeError             a body over Limits.max_response_size (not retried)

A client without an API key raises :class:`AsyncBYOKError` itself.

Error bodies follow the API: ``{"error": {"code": int, "message": str, "metadata": ...}}``,
possibly with ``user_id`` and ``openrouter_metadata`` beside ``error``. A body that is not
JSON, or JSON of another shape, still yields the class chosen by the status code, with the
start of the body as its message.

Nothing here ever holds a management key or a raw provider key: requests are not kept on
exceptions, only the method and the URL (which carries neither). The aiohttp exception an
:class:`APIConnectionError` is chained to has been scrubbed of them first
(``asyncbyok._scrub``). Messages taken from a response are cut to
``MAX_MESSAGE_LENGTH`` characters (``asyncbyok._error_body``).

Every exception here survives :mod:`pickle` (``multiprocessing``, process pools) with its
message and attributes; its ``__cause__`` and traceback stay behind, as for any exception.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from multidict import CIMultiDict

from ._error_body import cut_message, decode_error_body
from ._headers import find_request_id, find_retry_after

if TYPE_CHECKING:
    from .models import BYOKKey

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBYOKError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "DuplicateNameError",
    "EventLoopError",
    "FieldError",
    "InsecureURLError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "UnreadableStateError",
    "ValidationError",
    "error_from_response",
    "status_error_class",
]


def _rebuild(cls: type[AsyncBYOKError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Unpickle an :class:`AsyncBYOKError` without calling its ``__init__``."""
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class AsyncBYOKError(Exception):
    """Base class of every exception raised by asyncbyok."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls cls(*self.args) when unpickling, which fails for
        # keyword-only arguments (TypeError) and garbles any __init__ that builds its
        # message from other arguments (ValidationError). Rebuild from the state instead.
        return (_rebuild, (type(self), self.args, dict(vars(self))))


@attrs.frozen
class FieldError:
    """One invalid field: where it is (``allowed_models[3]``) and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ValidationError(AsyncBYOKError, ValueError):
    """Input that the API would refuse, or a setting the client can't use (``base_url``),
    caught before anything was sent.

    ``errors`` lists every bad field, each with its path, so one round of fixes is enough::

        >>> from asyncbyok import CreateBYOKKeyRequest
        >>> CreateBYOKKeyRequest(provider="openai", key="", name="x" * 256)
        Traceback (most recent call last):
        asyncbyok.errors.ValidationError: 2 invalid fields in CreateBYOKKeyRequest
          key: must not be empty
          name: must be at most 255 characters (got 256)

    Messages never contain the value of a secret field.
    """

    def __init__(self, errors: Sequence[FieldError], *, subject: str = "input") -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.subject = subject
        count = len(self.errors)
        head = f"{count} invalid field{'s' if count != 1 else ''} in {subject}"
        super().__init__("\n  ".join([head, *map(str, self.errors)]))

    @property
    def paths(self) -> list[str]:
        """The paths of the invalid fields, in the order found."""
        return [e.path for e in self.errors]


class InsecureURLError(AsyncBYOKError, ValueError):
    """The management key would travel in clear text over plain ``http://``.

    Raised by ``Client()`` for an ``http://`` base URL whose host is not loopback, unless
    ``allow_insecure_http=True``.
    """


class DuplicateNameError(AsyncBYOKError):
    """Several credentials share the name that ``client.byok.ensure(...)`` or
    ``client.byok.get_by_name(...)`` was asked for.

    ``keys`` holds every one of them (:class:`~asyncbyok.models.BYOKKey`), oldest first as
    the server listed them; the message names their ids. Delete or rename all but one,
    then call again.
    """

    def __init__(
        self,
        *,
        name: str,
        provider: str,
        workspace_id: str | None,
        keys: Sequence[BYOKKey],
    ) -> None:
        self.name = name
        self.provider = provider
        self.workspace_id = workspace_id
        self.keys: tuple[BYOKKey, ...] = tuple(keys)
        where = f" in workspace {workspace_id}" if workspace_id else ""
        ids = ", ".join(k.id for k in self.keys)
        super().__init__(
            f"{len(self.keys)} {provider} credentials are named {name!r}{where}: {ids}; "
            "delete or rename all but one"
        )


class UnreadableStateError(AsyncBYOKError):
    """A listing that a plan needs held items this release cannot read.

    ``asyncbyok.apply`` refuses to plan then: a credential it can't read may be one the
    manifest manages, and planning without it could create a duplicate or prune the wrong
    one. ``items`` holds them (:class:`~asyncbyok.models.UndecodableItem`: index, raw item,
    what was wrong, ``id``); fix or delete them, or upgrade asyncbyok.
    """

    def __init__(self, provider: str, workspace_id: str | None, items: Sequence[Any]) -> None:
        self.provider = provider
        self.workspace_id = workspace_id
        self.items = tuple(items)
        where = f"{provider} in workspace {workspace_id}" if workspace_id else provider
        ids = ", ".join(str(getattr(i, "id", None) or f"#{i.index}") for i in self.items)
        super().__init__(
            f"the server listed {len(self.items)} credential(s) of {where} that could not be "
            f"read ({ids}); refusing to plan over them, which could duplicate or prune one"
        )


class ClientClosedError(AsyncBYOKError):
    """The client was closed: by ``aclose()`` while this call was in flight, or before it.

    Raised promptly by every call in flight when the client closes, and by every call made
    after; never ``asyncio.CancelledError``, which is for tasks that were cancelled.
    """


class EventLoopError(AsyncBYOKError, RuntimeError):
    """The client is in use by another event loop that is still open.

    A client follows its user from one event loop to the next (a fresh connection pool
    each time) once the earlier loop has ended, as with consecutive ``asyncio.run`` calls.
    Two loops at once, say one per thread, need one client each.
    """


class APIError(AsyncBYOKError):
    """Base class of errors met while talking to the API.

    ``method`` and ``url`` say which call failed; ``attempts`` how many times it was sent.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.attempts = 1


class APIStatusError(APIError):
    """The server answered with an error status.

    Attributes:

    - ``status_code``: the HTTP status (``status`` is the same number, an older name);
    - ``code``: the body's ``error.code``, or ``None`` when the server sent none;
    - ``message``, ``metadata`` (``error.metadata``), ``request_id``;
    - ``headers``: the response's headers, read without regard to case;
    - ``retry_after``: the wait the server asked for, in seconds (``Retry-After`` in any
      form, or ``retry-after-ms``), or ``None``; ``retry_after_coarse``: whether it came
      in whole seconds (so the true wait may be up to a second shorter);
    - ``body``: the decoded JSON, or the text when it was not JSON.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: object = None,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code: int = _one_status(status_code, status)
        self.code = code
        self.metadata = metadata
        self.request_id = request_id
        self.headers: Mapping[str, str] = CIMultiDict(headers or {})
        self.retry_after, self.retry_after_coarse = find_retry_after(self.headers)
        self.body = body

    @property
    def status(self) -> int:
        """The HTTP status: the same as ``status_code``, under its older name."""
        return self.status_code

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        rid = f" [request id {self.request_id}]" if self.request_id else ""
        return f"{self.status_code} {self.message}{where}{rid}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


def _one_status(status_code: int | None, status: int | None) -> int:
    """The status given as ``status_code=`` or, the older spelling, ``status=``."""
    if status_code is None and status is None:
        raise TypeError("status_code is required")
    if status_code is not None and status is not None and status_code != status:
        raise TypeError("give status_code or status, not two different values")
    return status_code if status_code is not None else status  # type: ignore[return-value]


class BadRequestError(APIStatusError):
    """400: the server refused the request's parameters or body."""


class AuthenticationError(APIStatusError):
    """401: no management key, or one the server does not know."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but may not manage BYOK credentials (not a management key)."""


class NotFoundError(APIStatusError):
    """404: no such credential (or it was deleted); from ``get_by_name``, none of that name
    (the listing found none: no 404 was sent)."""


class ConflictError(APIStatusError):
    """409: the update conflicts with the credential's current state."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's wait in seconds, if given.

    ``sent_early`` is true when the client sent the refused request before the moment an
    earlier 429 named: as a probe of a whole-second ``Retry-After``, or released when a
    probe was accepted (see :mod:`asyncbyok.pacing`). Such a refusal is the client's own
    guess gone wrong, so it does not count against the call's ``max_retries``.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if retry_after is not None:  # given: it wins over the headers
            self.retry_after, self.retry_after_coarse = retry_after, False
        self.sent_early = False


class InternalServerError(APIStatusError):
    """5xx: the server failed. For a create, the credential may or may not exist."""


class APIConnectionError(APIError):
    """No usable response: the connection failed, was reset, or the body was cut off."""

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        method: str | None = None,
        url: str | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, method=method, url=url)
        #: False only when the failure certainly came before the request left this host
        #: (for example, connection refused); True when the server may have seen it.
        self.request_sent = request_sent

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        return f"{self.message}{where}"


class APITimeoutError(APIConnectionError):
    """No response within the configured timeout."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        method: str | None = None,
        url: str | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, method=method, url=url, request_sent=request_sent)


class ResponseTooLargeError(APIError):
    """A response body over ``Limits.max_response_size`` bytes: reading stopped there.

    The limit counts bytes after decompression, so a small compressed body that expands
    without end (a "gzip bomb") stops at the limit too; a ``Content-Length`` over it is
    refused before the body is read. ``limit`` is the limit, ``received`` the bytes read
    (or announced by ``Content-Length``) when reading stopped, ``status_code`` (also
    ``status``) the response's status.

    Not retried: a server that sent a body this large will most likely send it again.
    For a create, the credential may exist; look it up before creating again.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        received: int,
        status_code: int,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.limit = limit
        self.received = received
        self.status_code = status_code
        self.request_id = request_id

    @property
    def status(self) -> int:
        """The HTTP status: the same as ``status_code``, under its older name."""
        return self.status_code

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method and self.url else ""
        return f"{self.message}{where}"


class APIResponseValidationError(APIError):
    """A success status whose body is not the documented shape.

    ``status_code`` (also ``status``) is the HTTP status, ``body`` what was received.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: object = None,
        request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code: int = _one_status(status_code, status)
        self.body = body
        self.request_id = request_id

    @property
    def status(self) -> int:
        """The HTTP status: the same as ``status_code``, under its older name."""
        return self.status_code


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an error *status*."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes | str | object,
    *,
    method: str | None = None,
    url: str | None = None,
) -> APIStatusError:
    """Map an error response to its exception. Pure: no I/O, never raises itself.

    >>> err = error_from_response(404, {"x-request-id": "r1"},
    ...                           b'{"error": {"code": 404, "message": "Resource not found"}}')
    >>> type(err).__name__, err.status_code, err.code, err.message, err.request_id
    ('NotFoundError', 404, 404, 'Resource not found', 'r1')
    >>> error_from_response(502, {}, b"Bad Gateway").code is None  # no error.code sent
    True
    """
    decoded, message, code, metadata = decode_error_body(body)
    cls = status_error_class(status)
    message = cut_message(message) if message else f"HTTP {status}"
    common: dict[str, Any] = {
        "status_code": status,
        "code": code,
        "metadata": metadata,
        "request_id": find_request_id(headers),
        "headers": headers,
        "body": decoded,
        "method": method,
        "url": url,
    }
    return cls(message, **common)
