"""Retries: network errors, 408, 429 and 5xx are retried (4 tries at most) with one Idempotency-Key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

import robotrace as rt
from robotrace._retry import RetryPolicy, is_retryable_status, parse_retry_after

from ..support.fake_server import FakeServer, error
from .helpers import SleepRecorder, client_for


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried_with_the_same_idempotency_key(
    server: FakeServer, sleep: SleepRecorder, status: int
) -> None:
    server.fail_next("create", error(status, "busy", "busy"), error(status, "busy", "busy"))
    with client_for(server, sleep) as client:
        ep = client.log_episode(name="retry me")
    assert ep.status == "ready"
    creates = server.routes("create")
    assert len(creates) == 3
    assert len({c.headers["Idempotency-Key"] for c in creates}) == 1
    assert len(server.episodes) == 1
    assert len(sleep.waits) == 2


def test_finalize_retries_reuse_its_own_idempotency_key(server: FakeServer, sleep: SleepRecorder) -> None:
    server.fail_next("finalize", httpx.ReadTimeout("slow"), error(503, "down", "unavailable"))
    with client_for(server, sleep) as client:
        client.log_episode(name="x")
    finals = server.routes("finalize")
    assert len(finals) == 3
    keys = {f.headers["Idempotency-Key"] for f in finals}
    assert len(keys) == 1
    assert keys != {server.routes("create")[0].headers["Idempotency-Key"]}


def test_network_errors_are_retried(server: FakeServer, sleep: SleepRecorder) -> None:
    server.fail_next("create", httpx.ConnectError("refused"), httpx.RemoteProtocolError("reset"))
    with client_for(server, sleep) as client:
        assert client.log_episode().status == "ready"
    assert len(server.routes("create")) == 3


def test_gives_up_after_four_tries_with_the_last_error(server: FakeServer, sleep: SleepRecorder) -> None:
    server.fail_next("create", *[error(503, "maintenance", "unavailable")] * 4)
    with client_for(server, sleep) as client, pytest.raises(rt.ServerError) as caught:
        client.log_episode()
    assert len(server.routes("create")) == 4
    assert caught.value.status_code == 503
    assert caught.value.message == "maintenance"
    assert len(sleep.waits) == 3


def test_network_failure_after_four_tries_is_a_transport_error(
    server: FakeServer, sleep: SleepRecorder
) -> None:
    server.fail_next("create", *[httpx.ConnectError("refused")] * 4)
    with client_for(server, sleep) as client, pytest.raises(rt.TransportError, match="4 tries"):
        client.log_episode()
    assert server.routes("finalize") == []


@pytest.mark.parametrize(("header", "wait"), [("2", 2.0), ("120", 30.0), ("0", 0.0)])
def test_retry_after_is_honoured_up_to_30_seconds(
    server: FakeServer, sleep: SleepRecorder, header: str, wait: float
) -> None:
    server.fail_next("create", error(429, "slow down", "rate_limited", headers={"Retry-After": header}))
    with client_for(server, sleep) as client:
        client.log_episode()
    assert sleep.waits == [wait]


def test_rate_limit_error_carries_retry_after(server: FakeServer, sleep: SleepRecorder) -> None:
    server.fail_next("create", *[error(429, "quota", "rate_limited", headers={"Retry-After": "7"})] * 4)
    with client_for(server, sleep) as client, pytest.raises(rt.RateLimitError) as caught:
        client.log_episode()
    assert caught.value.retry_after == 7
    assert sleep.waits == [7.0, 7.0, 7.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_answers_are_not_retried(server: FakeServer, sleep: SleepRecorder, status: int) -> None:
    server.fail_next("create", error(status, "no", "nope"))
    with client_for(server, sleep) as client, pytest.raises(rt.APIError):
        client.log_episode()
    assert len(server.routes("create")) == 1
    assert sleep.waits == []


def test_upload_retry_resends_the_whole_file(
    server: FakeServer, sleep: SleepRecorder, tmp_path: Path
) -> None:
    video = tmp_path / "run.mp4"
    video.write_bytes(b"frame" * 1000)
    server.fail_next("upload", error(503, "busy", "busy"), httpx.WriteError("broken pipe"))
    with client_for(server, sleep) as client:
        ep = client.log_episode(video=video)
    assert ep.status == "ready"
    assert len(server.routes("upload")) == 3
    assert server.uploads[(ep.id, "video")] == video.read_bytes()


def test_expired_upload_url_is_renewed_once_then_fails_the_episode_with_a_clear_error(
    server: FakeServer, sleep: SleepRecorder, tmp_path: Path
) -> None:
    video = tmp_path / "run.mp4"
    video.write_bytes(b"frame")
    expired = error(403, "signed URL expired", "url_expired")
    server.fail_next("upload", expired, expired)
    with client_for(server, sleep) as client, pytest.raises(rt.URLExpiredError) as caught:
        client.log_episode(video=video)
    assert "refused again with the fresh upload URL" in str(caught.value)
    assert "new episode" not in str(caught.value)
    assert caught.value.code == "url_expired"
    assert [r.json() for r in server.routes("upload_url")] == [{"kind": "video"}]
    assert len(server.routes("upload")) == 2  # the first URL, then the fresh one; never a third
    assert sleep.waits == []  # a refusal is an answer, not a transient failure
    final = server.routes("finalize")[0].json()
    assert final["status"] == "failed"
    assert final["metadata"]["failure_reason"].startswith("upload of video failed: signed URL expired")


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy()
    assert [policy.delay_s(n, None, rand=lambda: 0.999999) for n in (1, 2, 3, 4, 5, 6)] == pytest.approx(
        [1.0, 2.0, 4.0, 8.0, 8.0, 8.0], rel=1e-5
    )
    assert policy.delay_s(3, None, rand=lambda: 0.0) == 0.0
    assert policy.delay_s(1, 99.0) == 30.0


def test_retryable_statuses() -> None:
    assert [s for s in range(400, 600) if is_retryable_status(s)] == [408, 429, *range(500, 600)]


def test_retry_after_parsing() -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:12 GMT", now) == 12.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
