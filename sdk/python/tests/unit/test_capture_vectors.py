"""Every `capture` vector of spec/trace-context-vectors.json, three ways: the pure function on a real
SpanContext, the active span seen through the OTel API, and a span started by a real SDK TracerProvider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import trace

import robotrace as rt

from ..conftest import capture_vectors
from ..support.otel import active, non_recording, parent_based_tracer, span_context

CASES = capture_vectors()


def _ids(case: dict[str, Any]) -> str:
    return str(case["name"])


def test_the_vectors_file_has_capture_cases() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_pure_function(case: dict[str, Any]) -> None:
    block = rt.trace_block(span_context(case["span_context"]), case.get("respect_sampled", False))
    assert block == case["expect"]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_active_span_through_the_api(case: dict[str, Any]) -> None:
    with active(non_recording(case["span_context"])):
        block = rt.capture_trace_context(respect_sampled=case.get("respect_sampled", False))
    assert block == case["expect"]


def _sdk_can_produce(case: dict[str, Any]) -> bool:
    ctx = case["span_context"]
    return ctx["trace_flags"] in (0, 1) and int(ctx["trace_id"], 16) != 0 and int(ctx["span_id"], 16) != 0


@pytest.mark.parametrize("case", [c for c in CASES if _sdk_can_produce(c)], ids=_ids)
def test_span_started_by_the_real_sdk(case: dict[str, Any]) -> None:
    """The SDK's span inherits trace id, sampled bit and tracestate from a remote parent; its span id comes
    from our id generator. (A child's flags come from sampling, so other flag bytes are covered above.)"""
    tracer, ids, _ = parent_based_tracer()
    parent = trace.NonRecordingSpan(span_context(case["span_context"], is_remote=True))
    ids.span_ids.append(int(case["span_context"]["span_id"], 16))
    with trace.use_span(parent), tracer.start_as_current_span("rollout") as span:
        assert span.get_span_context().span_id == int(case["span_context"]["span_id"], 16)
        block = rt.capture_trace_context(respect_sampled=case.get("respect_sampled", False))
    assert block == case["expect"]


@dataclass(frozen=True)
class PlainSpanContext:
    """A SpanContext-like that is not OTel's: ids as ints, tracestate already serialized."""

    trace_id: int
    span_id: int
    trace_flags: int
    trace_state: str


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_pure_function_on_a_span_context_like(case: dict[str, Any]) -> None:
    ctx = case["span_context"]
    plain = PlainSpanContext(
        int(ctx["trace_id"], 16), int(ctx["span_id"], 16), ctx["trace_flags"], ctx["trace_state"]
    )
    assert rt.trace_block(plain, case.get("respect_sampled", False)) == case["expect"]


def test_otel_span_context_tuple_layout_is_what_capture_unpacks() -> None:
    # trace_block reads OTel's SpanContext by unpacking its declared tuple; this pins that layout.
    with_state = next(c for c in CASES if c["span_context"]["trace_state"])
    ctx = span_context(with_state["span_context"])
    assert tuple(ctx)[:5] == (ctx.trace_id, ctx.span_id, ctx.is_remote, ctx.trace_flags, ctx.trace_state)
    assert tuple(ctx)[5] is ctx.is_valid
