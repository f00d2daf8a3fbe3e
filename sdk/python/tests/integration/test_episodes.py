"""Against the real server: lifecycle, artifacts, failures, errors, retries without duplicates."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import robotrace as rt

from ..support.api import Api
from ..support.robotrace_server import RunningServer


def test_log_episode_round_trips_facts_and_bytes(
    client: rt.Client, api: Api, video: Path, tmp_path: Path
) -> None:
    actions = tmp_path / "actions.parquet"
    actions.write_bytes(b"PAR1" + b"\x01\x02" * 500 + b"PAR1")
    ep = client.log_episode(
        name="pick v3",
        source="sim",
        robot="arm-7",
        policy_version="pap-v3.2.1",
        env_version="cell-rev4",
        git_sha="abc1234",
        seed=8124,
        fps=30,
        duration_s=47.2,
        video=video,
        actions=actions,
        metadata={"task": "pick_and_place", "joints": {"__type": "robotrace.JointState", "positions": [0.1]}},
    )
    assert ep.status == "ready"
    assert ep.url == f"{client.base_url}/portal/episodes/{ep.id}"
    stored = api.episode(ep.id)
    assert {
        k: stored[k] for k in ("name", "source", "robot", "policy_version", "env_version", "git_sha")
    } == {
        "name": "pick v3",
        "source": "sim",
        "robot": "arm-7",
        "policy_version": "pap-v3.2.1",
        "env_version": "cell-rev4",
        "git_sha": "abc1234",
    }
    assert (stored["seed"], stored["fps"], stored["duration_s"]) == (8124, 30, 47.2)
    assert stored["metadata"]["joints"] == {"__type": "robotrace.JointState", "positions": [0.1]}
    assert stored["bytes_total"] == video.stat().st_size + actions.stat().st_size
    assert api.artifact(ep.id, "video") == video.read_bytes()
    assert api.artifact(ep.id, "actions") == actions.read_bytes()


def test_failing_run_is_failed_with_its_reason(client: rt.Client, api: Api) -> None:
    with pytest.raises(ZeroDivisionError), client.start_episode(name="crashes", artifacts=[]) as ep:
        _ = 1 / 0
    stored = api.episode(ep.id)
    assert stored["status"] == "failed"
    assert stored["metadata"]["failure_reason"] == "ZeroDivisionError: division by zero"


def test_log_episode_status_failed_with_failure_time(client: rt.Client, api: Api) -> None:
    ep = client.log_episode(name="collision", status="failed", duration_s=10, failure_time_s=6.5)
    stored = api.episode(ep.id)
    assert (stored["status"], stored["failure_time_s"]) == ("failed", 6.5)


def test_invalid_arguments_create_nothing(client: rt.Client, api: Api) -> None:
    name = f"never-created-{uuid.uuid4()}"
    with pytest.raises(rt.ArgumentError):
        client.log_episode(name=name, video="/definitely/missing.mp4")
    with pytest.raises(rt.ArgumentError):
        client.log_episode(name=name, seed="7")  # type: ignore[arg-type]
    assert api.list(q=name) == []


def test_bad_key_raises_auth_error_with_the_servers_words(robotrace_server: RunningServer) -> None:
    with (
        rt.Client(api_key="rt_wrong_0123456789abcdefghij", base_url=robotrace_server.base_url) as bad,
        pytest.raises(rt.AuthError) as caught,
    ):
        bad.log_episode(name="nope")
    assert caught.value.status_code == 401
    assert caught.value.code
    assert caught.value.request_id
    assert "API key" in caught.value.message


def test_unknown_episode_is_not_found(client: rt.Client) -> None:
    with pytest.raises(rt.NotFoundError):
        client.get_episode(str(uuid.uuid4()))


def test_refinalizing_with_another_status_conflicts(client: rt.Client) -> None:
    ep = client.start_episode(artifacts=[])
    ep.finalize(status="failed")
    with pytest.raises(rt.ConflictError):
        client._finalize_episode(ep.id, {"status": "ready"})


class LoseFirstCreateResponse(httpx.HTTPTransport):
    """The create reaches the server, but its answer is lost on the way back (a dropped connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = False
        self.create_keys: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/ingest/episode":
            self.create_keys.append(request.headers["Idempotency-Key"])
        response = super().handle_request(request)
        if not self.lost and request.url.path == "/api/ingest/episode":
            self.lost = True
            response.read()
            response.close()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


def test_a_create_whose_answer_was_lost_is_retried_under_the_same_idempotency_key(
    robotrace_server: RunningServer, api: Api
) -> None:
    # The SDK's half of "no duplicate episode": the retry carries the first try's key, so a server that
    # stores Idempotency-Key'd answers (issue 8) replays the first episode instead of creating a second.
    name = f"lost-answer-{uuid.uuid4()}"
    transport = LoseFirstCreateResponse()
    with rt.Client(
        api_key=robotrace_server.api_key, base_url=robotrace_server.base_url, transport=transport
    ) as flaky:
        ep = flaky.log_episode(name=name)
    assert transport.lost
    assert len(transport.create_keys) == 2
    assert transport.create_keys[0] == transport.create_keys[1]
    assert api.episode(ep.id)["status"] == "ready"


def test_one_client_shared_by_threads(client: rt.Client, api: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(max_workers=4) as pool:
        episodes = list(pool.map(lambda i: client.log_episode(name=f"thread-{tag}-{i}", seed=i), range(8)))
    assert len({ep.id for ep in episodes}) == 8
    assert sorted(api.episode(ep.id)["seed"] for ep in episodes) == list(range(8))


def test_async_client_against_the_server(robotrace_server: RunningServer, api: Api, video: Path) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("async")

    async def main() -> tuple[rt.AsyncEpisode, rt.AsyncEpisode, str]:
        async with rt.AsyncClient(
            api_key=robotrace_server.api_key, base_url=robotrace_server.base_url
        ) as client:
            with tracer.start_as_current_span("rollout") as span:
                logged = await client.log_episode(name="async rollout", video=video)
                span_id = f"{span.get_span_context().span_id:016x}"
            with pytest.raises(RuntimeError):
                async with await client.start_episode(name="async crash", artifacts=[]) as crashed:
                    raise RuntimeError("motor stalled")
            return logged, crashed, span_id

    logged, crashed, span_id = asyncio.run(main())
    stored = api.episode(logged.id)
    assert (stored["status"], stored["metadata"]["otel"]["span_id"]) == ("ready", span_id)
    assert api.artifact(logged.id, "video") == video.read_bytes()
    failed = api.episode(crashed.id)
    assert (failed["status"], failed["metadata"]["failure_reason"]) == (
        "failed",
        "RuntimeError: motor stalled",
    )


class TamperedUploadUrls(httpx.HTTPTransport):
    """Sends uploads with a broken signature, as a URL mangled by a proxy would arrive."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            request.url = request.url.copy_set_param("sig", "not-the-signature")
        return super().handle_request(request)


def test_a_refused_upload_fails_the_episode_with_the_reason(
    robotrace_server: RunningServer, api: Api, video: Path
) -> None:
    name = f"refused-upload-{uuid.uuid4()}"
    with (
        rt.Client(
            api_key=robotrace_server.api_key,
            base_url=robotrace_server.base_url,
            transport=TamperedUploadUrls(),
        ) as client,
        pytest.raises(rt.APIError) as caught,
    ):
        client.log_episode(name=name, video=video)
    assert caught.value.status_code == 403
    (stored,) = api.list(q=name)
    assert stored["status"] == "failed"
    assert stored["metadata"]["failure_reason"].startswith("upload of video failed: Invalid signature")
