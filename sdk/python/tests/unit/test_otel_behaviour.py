"""Trace correlation as the user meets it: through log_episode, with real opentelemetry-sdk spans."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from opentelemetry import trace

import robotrace as rt

from ..support.fake_server import BASE_URL, FakeServer
from ..support.otel import active, make_tracer, unsampled_tracer
from .helpers import client_for

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7
BLOCK = {
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span_id": "00f067aa0ba902b7",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


def _sent_otel(server: FakeServer) -> Any:
    return server.routes("create")[-1].json().get("otel", "absent")


def test_active_span_is_attached_without_new_arguments(server: FakeServer) -> None:
    tracer, ids, _ = make_tracer()
    ids.trace_ids.append(TRACE_ID)
    ids.span_ids.append(SPAN_ID)
    with client_for(server) as client, tracer.start_as_current_span("rollout"):
        ep = client.log_episode(name="traced")
    assert _sent_otel(server) == BLOCK
    assert ep.otel == BLOCK


def test_no_active_span_no_otel_key(server: FakeServer) -> None:
    with client_for(server) as client:
        ep = client.log_episode()
    assert _sent_otel(server) == "absent"
    assert ep.otel is None


def test_unsampled_span_is_attached_with_flags_00(server: FakeServer) -> None:
    tracer, ids, _ = unsampled_tracer()
    ids.trace_ids.append(TRACE_ID)
    ids.span_ids.append(SPAN_ID)
    with client_for(server) as client, tracer.start_as_current_span("rollout"):
        client.log_episode()
    assert _sent_otel(server)["traceparent"].endswith("-00")


@pytest.mark.parametrize("how", ["argument", "env"])
def test_respect_sampled_drops_unsampled_spans(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    tracer, _, _ = unsampled_tracer()
    if how == "env":
        monkeypatch.setenv("ROBOTRACE_OTEL_RESPECT_SAMPLED", "1")
    options = {"otel_respect_sampled": True} if how == "argument" else {}
    with client_for(server, **options) as client, tracer.start_as_current_span("rollout"):
        client.log_episode()
    assert _sent_otel(server) == "absent"


def test_respect_sampled_still_attaches_sampled_spans(server: FakeServer) -> None:
    tracer, _, _ = make_tracer()
    with client_for(server, otel_respect_sampled=True) as client, tracer.start_as_current_span("rollout"):
        client.log_episode()
    assert _sent_otel(server)["traceparent"].endswith("-01")


def test_explicit_metadata_otel_is_sent_instead_of_the_ambient_span(server: FakeServer) -> None:
    tracer, _, _ = make_tracer()
    mine = {"traceparent": "00-11111111111111111111111111111111-2222222222222222-01"}
    with client_for(server) as client, tracer.start_as_current_span("rollout"):
        ep = client.log_episode(metadata={"otel": mine})
    body = server.routes("create")[0].json()
    assert "otel" not in body
    assert body["metadata"]["otel"] == mine
    assert ep.otel is None


def test_metadata_otel_none_opts_out_inside_a_span(server: FakeServer) -> None:
    tracer, _, _ = make_tracer()
    with client_for(server) as client, tracer.start_as_current_span("rollout"):
        client.log_episode(metadata={"otel": None})
    body = server.routes("create")[0].json()
    assert "otel" not in body
    assert "otel" not in body["metadata"]


def test_start_episode_keeps_the_span_active_at_start(server: FakeServer) -> None:
    tracer, ids, _ = make_tracer()
    ids.span_ids.extend([SPAN_ID, 0x1111111111111111])
    with client_for(server) as client:
        with tracer.start_as_current_span("A"):
            ep = client.start_episode(artifacts=[])
        with tracer.start_as_current_span("B"):
            ep.finalize()
    assert _sent_otel(server)["span_id"] == "00f067aa0ba902b7"
    assert "otel" not in server.routes("finalize")[0].json()


class ExplodingSpan(trace.NonRecordingSpan):
    def get_span_context(self) -> trace.SpanContext:
        raise RuntimeError("broken instrumentation")


def test_otel_raising_is_swallowed(server: FakeServer) -> None:
    with client_for(server) as client, active(ExplodingSpan(trace.INVALID_SPAN_CONTEXT)):
        ep = client.log_episode()
    assert ep.status == "ready"
    assert _sent_otel(server) == "absent"


def test_otel_not_installed_means_no_block(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    tracer, _, _ = make_tracer()
    with tracer.start_as_current_span("rollout"):
        monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)  # what an absent package looks like
        assert rt.capture_trace_context() is None
        with client_for(server) as client:
            client.log_episode()
    assert _sent_otel(server) == "absent"


@pytest.mark.parametrize("how", ["argument", "env"])
def test_link_span_sets_back_link_attributes(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    tracer, _, exporter = make_tracer()
    if how == "env":
        monkeypatch.setenv("ROBOTRACE_OTEL_LINK_SPAN", "1")
    options = {"link_span": True} if how == "argument" else {}
    with client_for(server, **options) as client, tracer.start_as_current_span("rollout"):
        ep = client.log_episode()
    (span,) = exporter.get_finished_spans()
    assert span.attributes == {
        "robotrace.episode_id": ep.id,
        "robotrace.episode_url": f"{BASE_URL}/portal/episodes/{ep.id}",
    }


def test_no_back_link_unless_asked(server: FakeServer) -> None:
    tracer, _, exporter = make_tracer()
    with client_for(server) as client, tracer.start_as_current_span("rollout"):
        client.log_episode()
    (span,) = exporter.get_finished_spans()
    assert not span.attributes
