"""Against the real server: the episode's start on this machine's clock (``started_at_unix_ns``, issue 15) is
stored and anchors the trace alignment (``GET /api/episodes/{id}/trace`` answers it with no trace source)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace import TracerProvider

import robotrace as rt

from ..support.api import Api
from ..support.robotrace_server import RunningServer


def alignment(server: RunningServer, episode_id: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{server.base_url}/api/episodes/{episode_id}/trace",
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=30,
    )
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()["alignment"]
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The alignment uses the start only for an episode that carries trace context, so each runs inside a span.
TRACER = TracerProvider().get_tracer("started-at-test")


def test_start_episode_sends_the_moment_it_started(
    client: rt.Client, robotrace_server: RunningServer
) -> None:
    with TRACER.start_as_current_span("rollout"):
        before = time.time_ns()
        with client.start_episode(name="started at", artifacts=[]) as ep:
            after = time.time_ns()
    found = alignment(robotrace_server, ep.id)
    assert found["anchor"] == "client_start"
    assert before <= int(found["start_unix_ns"]) <= after


def test_log_episode_sends_now_minus_its_duration(client: rt.Client, robotrace_server: RunningServer) -> None:
    with TRACER.start_as_current_span("rollout"):
        before = time.time_ns()
        ep = client.log_episode(name="logged", duration_s=12.25)
        after = time.time_ns()
    start = int(alignment(robotrace_server, ep.id)["start_unix_ns"])
    assert before - 12_250_000_000 <= start <= after - 12_250_000_000


def test_log_episode_without_a_duration_sends_no_start(
    client: rt.Client, robotrace_server: RunningServer
) -> None:
    with TRACER.start_as_current_span("rollout"):
        ep = client.log_episode(name="no duration")
    assert alignment(robotrace_server, ep.id)["anchor"] != "client_start"


def test_async_start_episode_sends_its_start(robotrace_server: RunningServer) -> None:
    async def main() -> tuple[int, int, str]:
        async with rt.AsyncClient(
            api_key=robotrace_server.api_key, base_url=robotrace_server.base_url, verbose=False
        ) as client:
            with TRACER.start_as_current_span("rollout"):
                before = time.time_ns()
                ep = await client.start_episode(name="async started at", artifacts=[])
                after = time.time_ns()
                await ep.finalize()
            return before, after, ep.id

    before, after, episode_id = asyncio.run(main())
    found = alignment(robotrace_server, episode_id)
    assert found["anchor"] == "client_start"
    assert before <= int(found["start_unix_ns"]) <= after


def test_a_spooled_episode_keeps_the_start_of_the_call_not_of_its_delivery(
    robotrace_server: RunningServer, api: Api, tmp_path: Path
) -> None:
    robot = f"spooled-start-{uuid.uuid4().hex[:8]}"
    spool = tmp_path / "spool"
    offline = rt.Client(
        api_key=robotrace_server.api_key,
        base_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: the record stays in the spool
        delivery="background",
        spool_dir=spool,
        flush_timeout=0,
        max_retries=0,
        verbose=False,
    )
    with TRACER.start_as_current_span("rollout"):
        before = time.time_ns()
        offline.log_episode(name="spooled", robot=robot, duration_s=2.5)
    offline.close()
    spooled_by = time.time_ns()  # nothing has reached a server yet

    online = rt.Client(
        api_key=robotrace_server.api_key,
        base_url=robotrace_server.base_url,
        delivery="background",
        spool_dir=spool,
        verbose=False,
    )
    try:
        assert online.flush(timeout=60) is True
    finally:
        online.close()
    [stored] = api.list(robot=robot)
    found = alignment(robotrace_server, str(stored["id"]))
    assert found["anchor"] == "client_start"
    assert before - 2_500_000_000 <= int(found["start_unix_ns"]) <= spooled_by - 2_500_000_000
