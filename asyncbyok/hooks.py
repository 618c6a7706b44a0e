"""Event hooks, and what tracing sees: events that cannot carry a secret.

``Client(event_hooks={"request": [...], "response": [...], "error": [...]})``, in
httpx's shape. Each hook is a callable taking one event; it may be a plain function or
a coroutine function (awaited in place, so keep it quick)::

    def log_response(event: asyncbyok.ResponseEvent) -> None:
        print(event.operation, event.status, event.request_id, f"{event.elapsed:.3f}s")

    client = asyncbyok.Client(event_hooks={"response": [log_response]})

- ``"request"``: an attempt is about to go on the wire (:class:`RequestEvent`), after
  its turn (ramp, pacer, backoff gate) came;
- ``"response"``: an attempt got an answer, whatever its status (:class:`ResponseEvent`);
- ``"error"``: a call failed: the error it raises (:class:`ErrorEvent`), once per call.

The events are built here, field by field, from what is safe to show: the method, the
API path, statuses, request ids, counts, durations, and the credential's id and masked
label. They hold no request, no response, no exception and no header, so a hook (or a
span, see :mod:`asyncbyok.otel`) cannot reach the raw provider key, the management key
or a request body through them. A hook that raises is logged (``asyncbyok`` logger) and
the call goes on.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import attrs

from .errors import APIError, APIStatusError, FieldError, ValidationError
from .models import BYOKKey

if TYPE_CHECKING:
    from .response import APIResponse
    from .transport import RawResponse

__all__ = [
    "CallEvent",
    "CallResult",
    "ErrorEvent",
    "EventHooks",
    "Observer",
    "RequestEvent",
    "ResponseEvent",
]

logger = logging.getLogger("asyncbyok")

EventKind = Literal["request", "response", "error"]
EVENT_KINDS: tuple[EventKind, ...] = ("request", "response", "error")


def _operation(method: str, path: str) -> str:
    if path == "/byok":
        return "list" if method == "GET" else "create"
    return {"GET": "get", "PATCH": "update", "DELETE": "delete"}.get(method, method.lower())


@attrs.frozen(slots=True)
class CallEvent:
    """A call is starting (what tracing opens a call's span with)."""

    operation: str
    """``"create"``, ``"get"``, ``"update"``, ``"delete"`` or ``"list"`` (one page)."""
    method: str
    path: str
    """The API path, without the base URL or the query: ``/byok``, ``/byok/{id}``."""
    key_id: str | None
    """The credential's id, when the call names one (get, update, delete)."""
    query: str | None = None
    """A list page's query string (``offset=0&limit=100``), as sent."""

    @classmethod
    def of(cls, method: str, path: str, query: str | None = None) -> CallEvent:
        key_id = path[len("/byok/") :] if path.startswith("/byok/") else None
        return cls(_operation(method, path), method, path, key_id, query)


@attrs.frozen(slots=True)
class RequestEvent:
    """An attempt about to be sent."""

    operation: str
    method: str
    path: str
    key_id: str | None
    attempt: int
    """1 for the first attempt of the call, 2 for its first retry..."""
    waited: float
    """Seconds the attempt waited for its turn (ramp, pacer, backoff gate)."""
    retry_reason: str | None = None
    """For a retry: the class of the error the attempt before it met."""


@attrs.frozen(slots=True)
class ResponseEvent:
    """An attempt got an answer (any status: a 429 or a 500 is an answer too)."""

    operation: str
    method: str
    path: str
    key_id: str | None
    """The credential's id: the one the call names, or the one the answer holds."""
    attempt: int
    status: int
    request_id: str | None
    elapsed: float
    """Seconds the attempt took on the wire."""
    label: str | None = None
    """The credential's masked label (``"sk-...AbCd"``), when the answer is one."""


@attrs.frozen(slots=True)
class ErrorEvent:
    """A call failed (for ``"error"`` hooks), or an attempt got no answer (tracing)."""

    operation: str
    method: str
    path: str
    key_id: str | None
    attempt: int
    """The attempts sent (for a failed call), or the attempt's number."""
    error: str
    """The exception's class name: ``"RateLimitError"``, ``"APIConnectionError"``..."""
    status: int | None
    code: str | int | None
    """The API's ``error.code``, when the server sent one."""
    request_id: str | None
    elapsed: float
    """Seconds since the call (or the attempt) started."""


@attrs.frozen(slots=True)
class CallResult:
    """How a call ended (what tracing closes a call's span with)."""

    call: CallEvent
    attempts: int
    elapsed: float
    status: int | None
    request_id: str | None
    key_id: str | None
    label: str | None
    error: str | None
    """The class of the error the call raised; ``None`` when it succeeded."""
    code: str | int | None
    recovered: bool
    """A create or delete whose outcome was unknown, found done by a lookup."""
    lookups: int
    """Pages listed for this call's lookups (the safe-create rule)."""


Hook = Callable[[Any], object]
"""A hook: a function or coroutine function taking one event."""


class AttemptObserver(Protocol):
    def end(self, event: ResponseEvent | ErrorEvent) -> None: ...


class CallObserver(Protocol):
    def attempt(self, event: RequestEvent) -> AttemptObserver: ...

    def end(self, result: CallResult) -> None: ...


class Observer(Protocol):
    """What watches every call of a client and its copies (:mod:`asyncbyok.otel`).

    ``call`` runs as a call starts, in the caller's context: a tracer may make the call's
    span current there, and must end it in ``end`` (the same context). Everything an
    observer is given is an event of this module.
    """

    def call(self, event: CallEvent) -> CallObserver: ...


@attrs.frozen
class EventHooks:
    """The hooks of a client, by kind: see the module docstring."""

    request: tuple[Hook, ...] = ()
    response: tuple[Hook, ...] = ()
    error: tuple[Hook, ...] = ()

    @classmethod
    def coerce(cls, value: Mapping[str, Iterable[Hook]] | EventHooks | None) -> EventHooks | None:
        """*value* checked: known kinds, lists of callables. ``None`` or empty: no hooks."""
        if value is None or isinstance(value, EventHooks):
            return value if value else None
        if not isinstance(value, Mapping):
            raise _hooks_error("event_hooks", "must be a mapping of event kind to callables")
        kinds: dict[str, tuple[Hook, ...]] = {}
        for kind, hooks in value.items():
            if kind not in EVENT_KINDS:
                raise _hooks_error(f"event_hooks[{kind!r}]", f"must be one of {EVENT_KINDS}")
            if callable(hooks) or isinstance(hooks, (str, bytes)):
                raise _hooks_error(f"event_hooks[{kind!r}]", "must be a list of callables")
            kinds[kind] = tuple(hooks)
            for i, hook in enumerate(kinds[kind]):
                if not callable(hook):
                    raise _hooks_error(f"event_hooks[{kind!r}][{i}]", "must be callable")
        hooks_ = cls(**kinds)
        return hooks_ if hooks_ else None

    def __bool__(self) -> bool:
        return bool(self.request or self.response or self.error)


def _hooks_error(field: str, message: str) -> ValidationError:
    return ValidationError([FieldError(field, message)], subject="Client")


async def _emit(hooks: tuple[Hook, ...], event: object) -> None:
    for hook in hooks:
        try:
            result = hook(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.warning(
                "event hook %s raised on %s; the call goes on",
                getattr(hook, "__qualname__", repr(hook)),
                type(event).__name__,
                exc_info=True,
            )


# Pages listed by lookups: counted for the call whose lookup it is (see CallWatch).
_LOOKUPS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "asyncbyok_lookups", default=None
)


class CallWatch:
    """The hooks and observer of one call, fed by the layers of the request path.

    Made only when a client has hooks or an observer: without them, the request path
    does no work for either.
    """

    __slots__ = ("_call", "_counted", "_hooks", "_key_id", "_label", "_observed", "_started")

    def __init__(self, hooks: EventHooks | None, observer: Observer | None, event: CallEvent):
        self._call = event
        self._hooks = hooks or EventHooks()
        self._started = time.monotonic()
        self._counted: list[int] = [0]
        counting = _LOOKUPS.get()
        if counting is not None and event.operation == "list":
            counting[0] += 1  # this page is a lookup's
        self._observed = observer.call(event) if observer is not None else None
        self._key_id = event.key_id
        self._label: str | None = None

    # -- attempts -------------------------------------------------------------------

    async def attempt_started(
        self, number: int, waited: float, reason: str | None
    ) -> AttemptObserver | None:
        call = self._call
        event = RequestEvent(
            call.operation, call.method, call.path, call.key_id, number, waited, reason
        )
        observed = self._observed.attempt(event) if self._observed is not None else None
        if self._hooks.request:
            await _emit(self._hooks.request, event)
        return observed

    async def attempt_answered(
        self,
        observed: AttemptObserver | None,
        number: int,
        raw: RawResponse,
        request_id: str | None,
        parsed: object,
    ) -> None:
        key_id, label = _credential(parsed)
        if key_id is not None:
            self._key_id, self._label = key_id, label
        call = self._call
        event = ResponseEvent(
            call.operation,
            call.method,
            call.path,
            key_id or call.key_id,
            number,
            raw.status,
            request_id,
            raw.elapsed,
            label,
        )
        if observed is not None:
            observed.end(event)
        if self._hooks.response:
            await _emit(self._hooks.response, event)

    def attempt_failed(
        self, observed: AttemptObserver | None, number: int, exc: BaseException, elapsed: float
    ) -> None:
        """An attempt got no answer (its connection failed, it timed out)."""
        if observed is not None:
            observed.end(self._error_event(exc, number, elapsed))

    # -- the call ----------------------------------------------------------------------

    def lookups(self) -> contextvars.Token[list[int] | None]:
        """Count the pages a lookup lists from here on (undo with ``_LOOKUPS.reset``)."""
        return _LOOKUPS.set(self._counted)

    def succeeded(self, response: APIResponse[Any]) -> None:
        if self._observed is None:
            return
        key_id, label = _credential(response.parsed)
        result = CallResult(
            self._call,
            response.attempts,
            time.monotonic() - self._started,
            response.status,
            response.request_id,
            key_id or self._key_id,
            label or self._label,
            None,
            None,
            response.recovered,
            self._counted[0],
        )
        self._observed.end(result)

    async def failed(self, exc: BaseException) -> None:
        attempts = exc.attempts if isinstance(exc, APIError) else 0
        event = self._error_event(exc, attempts, time.monotonic() - self._started)
        if self._observed is not None:
            self._observed.end(
                CallResult(
                    self._call,
                    attempts,
                    event.elapsed,
                    event.status,
                    event.request_id,
                    self._key_id,
                    self._label,
                    event.error,
                    event.code,
                    False,
                    self._counted[0],
                )
            )
        if self._hooks.error and isinstance(exc, Exception):
            await _emit(self._hooks.error, event)

    def _error_event(self, exc: BaseException, attempt: int, elapsed: float) -> ErrorEvent:
        call = self._call
        status = getattr(exc, "status_code", None)
        code = exc.code if isinstance(exc, APIStatusError) else None
        request_id = getattr(exc, "request_id", None)
        return ErrorEvent(
            call.operation,
            call.method,
            call.path,
            self._key_id,
            attempt,
            type(exc).__name__,
            status if isinstance(status, int) else None,
            code if isinstance(code, (str, int)) else None,
            request_id if isinstance(request_id, str) else None,
            elapsed,
        )


def _credential(parsed: object) -> tuple[str | None, str | None]:
    """The id and label of a credential the answer holds (create, get, update)."""
    if isinstance(parsed, BYOKKey):
        return parsed.id, parsed.label
    return None, None


def reset_lookups(token: contextvars.Token[list[int] | None]) -> None:
    _LOOKUPS.reset(token)
