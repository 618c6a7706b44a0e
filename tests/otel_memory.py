"""OpenTelemetry's SDK, exporting to memory: what the tests of asyncbyok.otel read."""

from __future__ import annotations

import urllib.parse
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from asyncbyok.emulator import Emulator
from asyncbyok.otel import Instrumentation, instrument

__all__ = ["Telemetry", "attempts_of", "attrs", "parent_id", "port", "span_id"]


class Telemetry:
    """A tracer provider and a meter provider of their own, exporting to memory."""

    def __init__(self, **tracer_options: Any) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(**tracer_options)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self, client: Any) -> Instrumentation:
        return instrument(client, self.tracer_provider, self.meter_provider)

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def calls(self) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.kind is SpanKind.INTERNAL]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.spans() if parent_id(s) == span_id(parent)]

    def points(self, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
        """The data points of metric *name*, by their attributes."""
        data = self.reader.get_metrics_data()
        assert data is not None
        found = {}
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found[frozenset(point.attributes.items())] = point
        return found


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def port(emu: Emulator) -> int | None:
    return urllib.parse.urlsplit(emu.base_url).port


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def attempts_of(telemetry: Telemetry, call: ReadableSpan) -> list[ReadableSpan]:
    attempts = telemetry.children(call)
    assert all(a.kind is SpanKind.CLIENT for a in attempts)
    return sorted(attempts, key=lambda a: a.start_time or 0)
