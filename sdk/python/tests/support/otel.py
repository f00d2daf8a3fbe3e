"""Real opentelemetry-sdk tracers whose spans carry chosen ids, for tests and the integration suite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState


class FixedIdGenerator(IdGenerator):
    """Hands out the given ids next (then random ones), so a test knows its span's ids in advance."""

    def __init__(self) -> None:
        self.trace_ids: list[int] = []
        self.span_ids: list[int] = []
        self._random = RandomIdGenerator()

    def generate_trace_id(self) -> int:
        return self.trace_ids.pop(0) if self.trace_ids else self._random.generate_trace_id()

    def generate_span_id(self) -> int:
        return self.span_ids.pop(0) if self.span_ids else self._random.generate_span_id()


def make_tracer(sampler: Sampler = ALWAYS_ON) -> tuple[trace.Tracer, FixedIdGenerator, InMemorySpanExporter]:
    ids = FixedIdGenerator()
    exporter = InMemorySpanExporter()
    provider = TracerProvider(id_generator=ids, sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("robotrace-tests"), ids, exporter


def parent_based_tracer() -> tuple[trace.Tracer, FixedIdGenerator, InMemorySpanExporter]:
    return make_tracer(ParentBased(root=ALWAYS_ON))


def unsampled_tracer() -> tuple[trace.Tracer, FixedIdGenerator, InMemorySpanExporter]:
    return make_tracer(ALWAYS_OFF)


def span_context(case: dict[str, Any], *, is_remote: bool = False) -> SpanContext:
    """A real SpanContext from a vector's ``span_context`` (hex ids, integer flags, serialized tracestate)."""
    header = case["trace_state"]
    return SpanContext(
        trace_id=int(case["trace_id"], 16),
        span_id=int(case["span_id"], 16),
        is_remote=is_remote,
        trace_flags=TraceFlags(case["trace_flags"]),
        trace_state=TraceState.from_header([header]) if header else TraceState(),
    )


@contextmanager
def active(span: trace.Span) -> Iterator[None]:
    """Make ``span`` the current span, as ``start_as_current_span`` would, without starting one."""
    token = context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        context.detach(token)


def non_recording(case: dict[str, Any]) -> NonRecordingSpan:
    return NonRecordingSpan(span_context(case))
