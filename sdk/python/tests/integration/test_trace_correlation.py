"""Against the real server: the otel block stored for an episode is exactly the span it was logged in."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, TraceFlags, TraceState

import robotrace as rt

from ..support.api import Api
from ..support.otel import make_tracer, unsampled_tracer
from ..support.robotrace_server import RunningServer


def _expected(ctx: SpanContext) -> dict[str, str]:
    return {
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "traceparent": f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}",
    }


def test_episode_in_a_real_span_stores_that_span(client: rt.Client, api: Api, video: Path) -> None:
    # The stock SDK setup a user has: default id generator and sampler (which also sets the W3C
    # random-trace-id flag bit, so the flags byte here is not simply 01).
    tracer = TracerProvider().get_tracer("training")
    with tracer.start_as_current_span("rollout") as span:
        ep = client.log_episode(name="traced rollout", video=video, seed=7)
        ctx = span.get_span_context()
    stored = api.episode(ep.id)
    assert stored["status"] == "ready"
    assert stored["metadata"]["otel"] == _expected(ctx)
    assert stored["otel"] == _expected(ctx)
    assert [e["id"] for e in api.list(trace_id=f"{ctx.trace_id:032x}")] == [ep.id]
    assert api.artifact(ep.id, "video") == video.read_bytes()


def test_no_span_no_otel(client: rt.Client, api: Api) -> None:
    stored = api.episode(client.log_episode(name="untraced").id)
    assert "otel" not in stored["metadata"]
    assert stored.get("otel") is None


def test_unsampled_span_is_attached_with_flags_00(client: rt.Client, api: Api) -> None:
    tracer, _, _ = unsampled_tracer()
    with tracer.start_as_current_span("rollout") as span:
        ep = client.log_episode(name="unsampled")
        ctx = span.get_span_context()
    stored = api.episode(ep.id)["metadata"]["otel"]
    assert stored == _expected(ctx)
    assert stored["traceparent"].endswith("-00")


def test_respect_sampled_stores_no_block_for_unsampled(robotrace_server: RunningServer, api: Api) -> None:
    tracer, _, _ = unsampled_tracer()
    rt.init(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url, otel_respect_sampled=True)
    with tracer.start_as_current_span("rollout"):
        ep = rt.log_episode(name="respect sampled")
    assert "otel" not in api.episode(ep.id)["metadata"]


def test_tracestate_from_a_remote_parent_is_stored(client: rt.Client, api: Api) -> None:
    tracer, _, _ = make_tracer()
    parent = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0x1111111111111111,
        is_remote=True,
        trace_flags=TraceFlags(1),
        trace_state=TraceState.from_header(["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]),
    )
    with trace.use_span(trace.NonRecordingSpan(parent)), tracer.start_as_current_span("step") as span:
        ep = client.log_episode(name="with tracestate")
        ctx = span.get_span_context()
    stored = api.episode(ep.id)["metadata"]["otel"]
    assert stored == {**_expected(ctx), "tracestate": "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}


def test_start_episode_in_span_a_finalized_in_span_b_keeps_a(
    client: rt.Client, api: Api, video: Path
) -> None:
    tracer, _, _ = make_tracer()
    with tracer.start_as_current_span("A") as span_a:
        ep = client.start_episode(name="long run", artifacts=["video"])
        ctx_a = span_a.get_span_context()
    with tracer.start_as_current_span("B"):
        ep.upload_video(video)
        ep.finalize(duration_s=4.0)
    stored = api.episode(ep.id)
    assert stored["status"] == "ready"
    assert stored["duration_s"] == 4.0
    assert stored["metadata"]["otel"] == _expected(ctx_a)


def test_link_span_tags_the_span_with_the_episode(client: rt.Client, robotrace_server: RunningServer) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with (
        rt.Client(
            api_key=robotrace_server.api_key, base_url=robotrace_server.base_url, link_span=True
        ) as linked,
        provider.get_tracer("t").start_as_current_span("rollout"),
    ):
        ep = linked.log_episode(name="linked")
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["robotrace.episode_id"] == ep.id
    assert span.attributes["robotrace.episode_url"] == f"{robotrace_server.base_url}/portal/episodes/{ep.id}"


def test_explicit_metadata_otel_is_what_gets_stored(client: rt.Client, api: Api) -> None:
    tracer, _, _ = make_tracer()
    mine = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    with tracer.start_as_current_span("ambient"):
        ep = client.log_episode(name="explicit", metadata={"otel": mine, "task": "pick"})
    stored = api.episode(ep.id)["metadata"]
    assert stored["task"] == "pick"
    assert stored["otel"] == {
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "traceparent": mine["traceparent"],
    }


def test_metadata_otel_none_opts_out(client: rt.Client, api: Api) -> None:
    tracer, _, _ = make_tracer()
    with tracer.start_as_current_span("ambient"):
        ep = client.log_episode(name="opted out", metadata={"otel": None})
    assert "otel" not in api.episode(ep.id)["metadata"]


def test_a_rejected_otel_block_comes_back_as_a_warning(client: rt.Client, api: Api) -> None:
    # Uppercase hex is not W3C trace context: the server drops the block, keeps the episode, and says so.
    bad = {"trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736", "span_id": "00f067aa0ba902b7"}
    ep = client.log_episode(name="bad block", metadata={"otel": bad})
    assert ep.status == "ready"
    assert ep.warnings
    assert "otel" not in api.episode(ep.id)["metadata"]
