"""A real client nobody here wrote: the official robotrace-dev 0.3.0, unmodified, against our server."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

import robotrace


def _get(server: Any, path: str) -> httpx.Response:
    return httpx.get(
        server.base_url + path, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=30
    )


def test_this_is_the_official_package() -> None:
    assert importlib.metadata.version("robotrace-dev") == "0.3.0"
    assert robotrace.__version__ == "0.3.0"
    assert "site-packages" in robotrace.__file__


def test_official_sdk_logs_a_traced_episode_with_a_video(robotrace_server: Any, tmp_path: Path) -> None:
    video = tmp_path / "rollout.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 64)
    tracer = TracerProvider().get_tracer("official-sdk-test")

    client = robotrace.Client(
        api_key=robotrace_server.api_key, base_url=robotrace_server.base_url, verbose=False
    )
    try:
        with tracer.start_as_current_span("rollout") as span:
            episode = client.log_episode(
                name="official sdk rollout",
                policy_version="pap-v3.2.1",
                env_version="cell-rev4",
                git_sha="abc1234",
                seed=8124,
                fps=30,
                duration_s=3.5,
                video=str(video),
                metadata={"task": "pick_and_place"},
            )
            ctx = span.get_span_context()
    finally:
        client.close()

    assert episode.status == "ready"
    response = _get(robotrace_server, f"/api/episodes/{episode.id}")
    assert response.status_code == 200, response.text
    stored = response.json()
    trace_id, span_id = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    expected = {
        "trace_id": trace_id,
        "span_id": span_id,
        "traceparent": f"00-{trace_id}-{span_id}-{int(ctx.trace_flags):02x}",
    }
    assert stored["metadata"]["otel"] == expected
    assert stored["status"] == "ready"
    assert stored["metadata"]["task"] == "pick_and_place"
    assert stored["duration_s"] == 3.5

    redirect = _get(robotrace_server, f"/api/episodes/{episode.id}/artifact/video")
    assert redirect.status_code == 302
    signed = httpx.get(httpx.URL(robotrace_server.base_url).join(redirect.headers["Location"]), timeout=30)
    assert signed.status_code == 200
    assert signed.content == video.read_bytes()


def test_official_sdk_bad_key_raises_its_auth_error(robotrace_server: Any) -> None:
    client = robotrace.Client(
        api_key="rt_not_a_real_key_0123456789", base_url=robotrace_server.base_url, verbose=False
    )
    try:
        with pytest.raises(robotrace.AuthError) as caught:
            client.log_episode(name="should not exist")
    finally:
        client.close()
    assert caught.value.status_code == 401
    assert "API key" in str(caught.value)
