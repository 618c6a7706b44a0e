"""OpenTelemetry: a span for each call, one for each of its attempts, and metrics.

Install the extra (``pip install 'asyncbyok[otel]'``: the OpenTelemetry API only) and
instrument a client::

    from asyncbyok.otel import instrument

    client = asyncbyok.Client()
    instrumentation = instrument(client)  # the global providers, or pass your own
    ...
    instrumentation.uninstrument()

Every ``with_options`` copy of the client is traced too: they share what ``instrument``
sets. Instrumenting a client again replaces its instrumentation.

A call is an ``INTERNAL`` span named ``asyncbyok byok.<operation>``, made current while
the call runs, so the lookups a safe create makes (list pages) are its children. Each
attempt of the call is a ``CLIENT`` span following OpenTelemetry's HTTP client semantic
conventions, named after the method and the route (``POST /api/v1/byok``,
``GET /api/v1/byok/{id}``). The guide "OpenTelemetry" lists every attribute and metric.

What the spans and metrics say comes only from the events of :mod:`asyncbyok.hooks`:
plain values (method, path, statuses, counts, durations, a credential's id), never a
request, a response, a header or an exception. So no span or data point can carry the
raw provider key or the management key, whatever the code here does with them.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import metrics, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError as exc:  # pragma: no cover - the extra is installed in the tests
    raise ImportError(
        "asyncbyok.otel needs the OpenTelemetry API (opentelemetry-api): "
        "pip install 'asyncbyok[otel]'"
    ) from exc

from ._version import __version__
from .client import Client
from .hooks import CallEvent, CallResult, ErrorEvent, RequestEvent, ResponseEvent

if TYPE_CHECKING:
    from .hooks import Observer
    from .sync import SyncClient

__all__ = ["Instrumentation", "instrument"]

SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
# The buckets the HTTP semantic conventions advise for http.client.request.duration (the
# SDK's default ones are for milliseconds: every call would land in the first bucket).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
# A turn is usually immediate; under a 429 or a Retry-After it may take a minute.
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_ERROR = Status(StatusCode.ERROR)


class Instrumentation:
    """What :func:`instrument` did to a client; :meth:`uninstrument` undoes it."""

    def __init__(self, client: Client, observer: Observer) -> None:
        self._client = client
        self._observer = observer

    @property
    def active(self) -> bool:
        """Whether the client's calls are traced by this instrumentation (not undone,
        nor replaced by a later :func:`instrument`)."""
        return self._client._shared.observer is self._observer

    def uninstrument(self) -> None:
        """Stop tracing the client and its copies (calls in flight end their spans).

        Does nothing if the client was instrumented again since: that instrumentation
        stays.
        """
        if self.active:
            self._client._shared.observer = None


def instrument(
    client: Client | SyncClient,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Instrumentation:
    """Trace every call of *client* (and of its ``with_options`` copies), and measure them.

    *tracer_provider* and *meter_provider*: OpenTelemetry's global providers when
    ``None``. A :class:`~asyncbyok.sync.SyncClient` is instrumented through the async
    client it runs.
    """
    inner = getattr(client, "_client", client)  # a SyncClient's async client
    if not isinstance(inner, Client):
        raise TypeError(f"instrument() takes an asyncbyok client, not {type(client).__name__}")
    tracer = trace.get_tracer("asyncbyok", __version__, tracer_provider, schema_url=SCHEMA_URL)
    meter = metrics.get_meter("asyncbyok", __version__, meter_provider, schema_url=SCHEMA_URL)
    observer = _Telemetry(inner.base_url, tracer, _Instruments(meter))
    inner._shared.observer = observer
    return Instrumentation(inner, observer)


class _Instruments:
    """The metrics, made once per :func:`instrument`."""

    def __init__(self, meter: metrics.Meter) -> None:
        self.calls = meter.create_counter(
            "asyncbyok.client.calls", "{call}", "API calls made, by operation and outcome"
        )
        self.attempts = meter.create_counter(
            "asyncbyok.client.attempts", "{attempt}", "Requests sent, retries included"
        )
        self.rate_limited = meter.create_counter(
            "asyncbyok.client.rate_limited", "{response}", "429 answers received"
        )
        self.wait = meter.create_histogram(
            "asyncbyok.client.wait",
            "s",
            "How long an attempt waited for its turn (ramp, pacer, backoff gate)",
            explicit_bucket_boundaries_advisory=WAIT_BUCKETS,
        )
        self.listings = meter.create_counter(
            "asyncbyok.client.reconcile.listings",
            "{page}",
            "Pages listed to learn the outcome of a write (safe create)",
        )
        self.duration = meter.create_histogram(
            "http.client.request.duration",
            "s",
            "Duration of HTTP client requests",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )


class _Route:
    """What is the same for every call of one operation: names and attributes, built once.

    The attribute dicts are shared by every span and data point that uses them, and
    never changed after they are built.
    """

    __slots__ = (
        "attempt_attributes",
        "attempt_name",
        "call_attributes",
        "call_name",
        "operation",
        "outcomes",
        "results",
        "server",
    )

    def __init__(self, event: CallEvent, server: dict[str, Any], base_path: str) -> None:
        route = event.path if event.key_id is None else "/byok/{id}"  # the id: cardinality
        template = base_path + route
        self.operation = {"asyncbyok.operation": event.operation}
        self.call_name = f"asyncbyok byok.{event.operation}"
        self.call_attributes = self.operation
        self.attempt_name = f"{event.method} {template}"
        self.server = {"http.request.method": event.method, **server, **self.operation}
        self.attempt_attributes = {**self.server, "url.template": template}
        self.outcomes: dict[tuple[int | None, str | None], dict[str, Any]] = {}  # attempts
        self.results: dict[str | None, dict[str, Any]] = {}  # a call's, for metrics

    def outcome(self, status: int | None, error: str | None) -> dict[str, Any]:
        """The metric attributes of an attempt that got *status*, or failed with *error*."""
        key = (status, error)
        found = self.outcomes.get(key)
        if found is None:
            found = dict(self.server)
            if status is not None:
                found["http.response.status_code"] = status
            if error is not None:
                found["error.type"] = error
            self.outcomes[key] = found
        return found

    def result(self, error: str | None) -> dict[str, Any]:
        """The metric attributes of a call that ended with *error* (``None``: success)."""
        found = self.results.get(error)
        if found is None:
            found = self.operation if error is None else {**self.operation, "error.type": error}
            self.results[error] = found
        return found


class _Telemetry:
    """The observer :func:`instrument` gives a client (:class:`asyncbyok.hooks.Observer`)."""

    def __init__(self, base_url: str, tracer: trace.Tracer, instruments: _Instruments) -> None:
        parsed = urllib.parse.urlsplit(base_url)  # checked by the client: no userinfo
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.server = {"server.address": parsed.hostname or "", "server.port": port}
        self.base_url = base_url
        self.base_path = parsed.path.rstrip("/")
        self.tracer = tracer
        self.instruments = instruments
        self.routes: dict[tuple[str, str, bool], _Route] = {}

    def call(self, event: CallEvent) -> _CallSpan:
        key = (event.operation, event.method, event.key_id is None)
        route = self.routes.get(key)
        if route is None:
            route = self.routes[key] = _Route(event, self.server, self.base_path)
        return _CallSpan(self, route, event)


class _CallSpan:
    """A call's span: current in the caller's context from :meth:`_Telemetry.call` to
    :meth:`end` (both run in the caller's task)."""

    __slots__ = ("_context", "_event", "_route", "_span", "_token", "_tracing", "_url")

    def __init__(self, tracing: _Telemetry, route: _Route, event: CallEvent) -> None:
        self._tracing = tracing
        self._route = route
        self._event = event
        attributes = route.call_attributes
        if event.key_id is not None:
            attributes = {**attributes, "asyncbyok.key_id": event.key_id}
        span = self._span = tracing.tracer.start_span(
            route.call_name, kind=SpanKind.INTERNAL, attributes=attributes
        )
        self._context = trace.set_span_in_context(span)
        self._token = otel_context.attach(self._context)
        url = tracing.base_url + event.path
        self._url = url if event.query is None else f"{url}?{event.query}"

    def attempt(self, event: RequestEvent) -> _AttemptSpan:
        route = self._route
        attributes = {**route.attempt_attributes, "url.full": self._url}
        attributes["asyncbyok.wait"] = event.waited
        if event.attempt > 1:
            attributes["http.request.resend_count"] = event.attempt - 1
            if event.retry_reason is not None:
                attributes["asyncbyok.retry.reason"] = event.retry_reason
        tracing = self._tracing
        span = tracing.tracer.start_span(
            route.attempt_name, self._context, SpanKind.CLIENT, attributes
        )
        tracing.instruments.wait.record(event.waited, route.operation)
        return _AttemptSpan(tracing.instruments, route, span)

    def end(self, result: CallResult) -> None:
        otel_context.detach(self._token)
        span = self._span
        if span.is_recording():
            attributes: dict[str, Any] = {"asyncbyok.attempts": result.attempts}
            if result.key_id is not None and self._event.key_id is None:
                attributes["asyncbyok.key_id"] = result.key_id  # a create's new id
            if result.recovered:
                attributes["asyncbyok.recovered"] = True
            if result.lookups:
                attributes["asyncbyok.reconcile.listings"] = result.lookups
            if result.error is not None:
                attributes["error.type"] = result.error
                span.set_status(_ERROR)
            span.set_attributes(attributes)
        span.end()
        instruments = self._tracing.instruments
        instruments.calls.add(1, self._route.result(result.error))
        if result.lookups:
            instruments.listings.add(result.lookups, self._route.operation)


class _AttemptSpan:
    """An attempt's span, ended by its answer or by the error that took its place."""

    __slots__ = ("_instruments", "_route", "_span")

    def __init__(self, instruments: _Instruments, route: _Route, span: trace.Span) -> None:
        self._instruments = instruments
        self._route = route
        self._span = span

    def end(self, event: ResponseEvent | ErrorEvent) -> None:
        status: int | None
        if isinstance(event, ResponseEvent):
            status = event.status
            error = str(status) if status >= 400 else None  # an error on a CLIENT span
        else:  # no answer: the class of the error raised
            status, error = event.status, event.error
        span = self._span
        if span.is_recording():
            attributes: dict[str, Any] = {}
            if status is not None:
                attributes["http.response.status_code"] = status
            if error is not None:
                attributes["error.type"] = error
                span.set_status(_ERROR)
            if event.request_id is not None:
                attributes["asyncbyok.request_id"] = event.request_id
            span.set_attributes(attributes)
        span.end()
        instruments = self._instruments
        outcome = self._route.outcome(status, error)
        instruments.attempts.add(1, outcome)
        instruments.duration.record(event.elapsed, outcome)
        if status == 429:
            instruments.rate_limited.add(1, self._route.operation)
