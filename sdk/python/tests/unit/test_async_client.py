"""AsyncClient: the same wire behaviour as Client, awaited."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

import robotrace as rt
from robotrace._http import CHUNK_SIZE

from ..support.fake_server import API_KEY, BASE_URL, FakeServer, error
from ..support.otel import make_tracer


class AsyncSleepRecorder:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _client(server: FakeServer, **options: object) -> rt.AsyncClient:
    client = rt.AsyncClient(
        api_key=API_KEY,
        base_url=BASE_URL,
        transport=server.async_transport(),
        **options,  # type: ignore[arg-type]
    )
    return client


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "run.mp4"
    path.write_bytes(b"v" * (2 * 1024 * 1024 + 3))
    return path


def test_log_episode_streams_and_finalizes(video: Path) -> None:
    server = FakeServer()

    async def main() -> rt.AsyncEpisode:
        async with _client(server) as client:
            return await client.log_episode(name="async", seed=1, video=video, duration_s=2.0)

    ep = asyncio.run(main())
    assert ep.status == "ready"
    create, put, final = server.requests
    sent = create.json()
    assert int(sent.pop("started_at_unix_ns")) <= time.time_ns() - 2_000_000_000  # now - duration_s
    assert sent == {"source": "real", "request_uploads": ["video"], "name": "async", "seed": 1}
    assert put.chunks == -(-video.stat().st_size // CHUNK_SIZE)  # streamed, chunk by chunk
    assert put.headers["Content-Type"] == "video/mp4"
    assert "Authorization" not in put.headers
    assert server.uploads[(ep.id, "video")] == video.read_bytes()
    assert final.json() == {"status": "ready", "duration_s": 2.0, "bytes_total": video.stat().st_size}


def test_retries_with_one_idempotency_key_and_async_sleep() -> None:
    server = FakeServer()
    server.fail_next("create", httpx.ConnectError("refused"), error(503, "busy", "busy"))
    sleep = AsyncSleepRecorder()

    async def main() -> None:
        async with _client(server) as client:
            client._session._sleep = sleep
            await client.log_episode()

    asyncio.run(main())
    creates = server.routes("create")
    assert len(creates) == 3
    assert len({c.headers["Idempotency-Key"] for c in creates}) == 1
    assert len(sleep.waits) == 2


def test_async_with_marks_failed_with_the_reason() -> None:
    server = FakeServer()

    async def main() -> None:
        async with _client(server) as client, await client.start_episode(artifacts=[]):
            raise ValueError("joint limit")

    with pytest.raises(ValueError, match="joint limit"):
        asyncio.run(main())
    assert server.routes("finalize")[0].json() == {
        "status": "failed",
        "metadata": {"failure_reason": "ValueError: joint limit"},
    }


def test_span_active_in_the_coroutine_is_attached() -> None:
    server = FakeServer()
    tracer, ids, _ = make_tracer()
    ids.span_ids.append(0x00F067AA0BA902B7)

    async def main() -> None:
        async with _client(server) as client:
            with tracer.start_as_current_span("rollout"):
                # A task started inside the span inherits its context.
                await asyncio.create_task(client.log_episode())

    asyncio.run(main())
    assert server.routes("create")[0].json()["otel"]["span_id"] == "00f067aa0ba902b7"


def test_errors_are_the_same_classes() -> None:
    server = FakeServer()
    server.fail_next("create", error(401, "bad key", "unauthorized"))

    async def main() -> None:
        async with _client(server) as client:
            await client.start_episode()

    with pytest.raises(rt.AuthError, match="bad key"):
        asyncio.run(main())
