"""What log_episode / start_episode put on the wire, against the in-process fake server."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

import robotrace as rt
from robotrace._http import CHUNK_SIZE

from ..support.fake_server import API_KEY, BASE_URL, FakeServer
from .helpers import client_for


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "run.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    return path


def test_log_episode_creates_uploads_and_finalizes(server: FakeServer, video: Path, tmp_path: Path) -> None:
    sensors = tmp_path / "imu.bin"
    sensors.write_bytes(b"imu" * 100)
    with client_for(server) as client:
        ep = client.log_episode(
            name="pick v3",
            source="sim",
            robot="arm-1",
            policy_version="pap-v3.2.1",
            env_version="cell-rev4",
            git_sha="abc1234",
            seed=8124,
            fps=30,
            duration_s=12.5,
            video=video,
            sensors=str(sensors),
            metadata={"task": "pick", "nested": {"ok": True}},
        )
    assert (ep.id, ep.status, ep.storage) == ("ep0001", "ready", "local")
    assert ep.url == f"{BASE_URL}/portal/episodes/ep0001"
    assert [r.method for r in server.requests] == ["POST", "PUT", "PUT", "POST"]

    create = server.routes("create")[0]
    sent = create.json()
    # Ours: the start on this machine's clock, now - duration_s, as Unix nanoseconds in a decimal string.
    started = sent.pop("started_at_unix_ns")
    assert re.fullmatch(r"[1-9]\d{0,18}", started)
    assert int(started) <= time.time_ns() - 12_500_000_000
    assert sent == {
        "source": "sim",
        "request_uploads": ["video", "sensors"],
        "name": "pick v3",
        "robot": "arm-1",
        "policy_version": "pap-v3.2.1",
        "env_version": "cell-rev4",
        "git_sha": "abc1234",
        "seed": 8124,
        "fps": 30,
        "metadata": {"task": "pick", "nested": {"ok": True}},
    }
    assert create.headers["Authorization"] == f"Bearer {API_KEY}"
    assert create.headers["Content-Type"] == "application/json"
    assert create.headers["User-Agent"].startswith("robotrace-python/")
    assert create.headers["Idempotency-Key"]

    assert server.uploads[("ep0001", "video")] == video.read_bytes()
    assert server.uploads[("ep0001", "sensors")] == sensors.read_bytes()
    put_video, put_sensors = server.routes("upload")
    assert put_video.headers["Content-Type"] == "video/mp4"
    assert put_sensors.headers["Content-Type"] == "application/octet-stream"
    assert put_video.headers["Content-Length"] == str(video.stat().st_size)
    assert "Authorization" not in put_video.headers  # the signed URL authorizes; the key never leaves

    final = server.routes("finalize")[0]
    assert final.json() == {
        "status": "ready",
        "duration_s": 12.5,
        "bytes_total": video.stat().st_size + sensors.stat().st_size,
    }


def test_metadata_only_episode_requests_no_uploads(server: FakeServer) -> None:
    with client_for(server) as client:
        ep = client.log_episode(name="dry run", status="failed", failure_time_s=1.5)
    assert ep.status == "failed"
    assert server.routes("create")[0].json() == {"source": "real", "request_uploads": [], "name": "dry run"}
    assert server.routes("finalize")[0].json() == {"status": "failed", "failure_time_s": 1.5}


def test_upload_is_streamed_in_chunks_not_read_whole(server: FakeServer, tmp_path: Path) -> None:
    big = tmp_path / "long.mp4"
    big.write_bytes(b"v" * (3 * 1024 * 1024 + 5))
    with client_for(server) as client:
        client.log_episode(video=big)
    put = server.routes("upload")[0]
    assert put.chunks == 3 * 1024 * 1024 // CHUNK_SIZE + 1  # a whole-file read would arrive as one chunk
    assert put.headers["Content-Length"] == str(3 * 1024 * 1024 + 5)
    assert "Transfer-Encoding" not in put.headers


def test_portal_link_printed_once_when_verbose(
    server: FakeServer, video: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with client_for(server, verbose=True) as client:
        client.log_episode(video=video)
    assert capsys.readouterr().out == f"[robotrace] \u2192 {BASE_URL}/portal/episodes/ep0001\n"


@pytest.mark.parametrize(
    "answered", ["https://robotrace.example.com/portal/episodes/ep0001", "/portal/episodes/ep0001"]
)
def test_printed_link_is_episode_url_from_the_server_answer(
    answered: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Regression: the line was built from our base URL while Episode.url came from the answer, so behind a
    # proxy (the server's public URL differs from the SDK's base URL) the two disagreed.
    server = FakeServer()
    created = {
        "episode_id": "ep0001",
        "status": "recording",
        "storage": "local",
        "upload_urls": [],
        "portal_url": answered,
        "warnings": [],
    }
    server.fail_next("create", httpx.Response(201, json=created))
    with client_for(server, verbose=True) as client:
        episode = client.start_episode(artifacts=[])
    expected = answered if answered.startswith("https:") else BASE_URL + answered
    assert episode.url == expected
    assert capsys.readouterr().out == f"[robotrace] \u2192 {expected}\n"


def test_quiet_env_silences_the_link_even_on_a_terminal(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROBOTRACE_QUIET", "1")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    with client_for(server) as client:
        client.log_episode(name="quiet")
    assert capsys.readouterr().out == ""


def test_start_episode_finalizes_ready_on_normal_exit(server: FakeServer, video: Path) -> None:
    with client_for(server) as client, client.start_episode(name="ctx", artifacts=["video"]) as ep:
        assert ep.status == "recording"
        assert ep.upload("video", video) == video.stat().st_size
    assert ep.status == "ready"
    assert server.routes("finalize")[0].json() == {"status": "ready", "bytes_total": video.stat().st_size}


def test_start_episode_finalizes_failed_with_reason_and_reraises(server: FakeServer) -> None:
    with client_for(server) as client:
        with pytest.raises(RuntimeError, match="gripper jammed"), client.start_episode(artifacts=[]) as ep:
            raise RuntimeError("gripper jammed")
        assert ep.status == "failed"
    assert server.routes("finalize")[0].json() == {
        "status": "failed",
        "metadata": {"failure_reason": "RuntimeError: gripper jammed"},
    }


def test_explicit_finalize_inside_the_block_is_not_repeated(server: FakeServer) -> None:
    with client_for(server) as client, client.start_episode(artifacts=[]) as ep:
        ep.finalize(status="failed", duration_s=3.0, metadata={"failure_reason": "e-stop"})
    assert len(server.routes("finalize")) == 1


def test_upload_to_a_kind_not_requested_says_how_to_fix(server: FakeServer, video: Path) -> None:
    with client_for(server) as client:
        ep = client.start_episode(artifacts=["sensors"])
        with pytest.raises(rt.ConfigurationError, match=r"start_episode\(artifacts="):
            ep.upload("video", video)


def test_default_client_from_environment(
    server: FakeServer, monkeypatch: pytest.MonkeyPatch, video: Path
) -> None:
    monkeypatch.setenv("ROBOTRACE_API_KEY", API_KEY)
    monkeypatch.setenv("ROBOTRACE_BASE_URL", BASE_URL + "/")
    rt.init(transport=server.transport())
    ep = rt.log_episode(video=video, seed=1)
    assert ep.status == "ready"
    assert server.routes("create")[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_metadata_otel_none_sends_no_otel_key_at_all(server: FakeServer) -> None:
    with client_for(server) as client:
        client.log_episode(metadata={"otel": None, "task": "x"})
    body = server.routes("create")[0].json()
    assert body["metadata"] == {"task": "x"}
    assert "otel" not in body


def test_metadata_is_sent_as_json_with_typed_values_kept(server: FakeServer) -> None:
    joint = {"__type": "robotrace.JointState", "positions": [0.1, 0.2]}
    with client_for(server) as client:
        client.log_episode(metadata={"joints": joint})
    assert json.loads(server.routes("create")[0].body)["metadata"]["joints"] == joint


def test_the_start_is_sent_on_this_clock_and_never_breaks_the_call(server: FakeServer) -> None:
    with client_for(server) as client:
        before = time.time_ns()
        client.start_episode(name="started", artifacts=[]).finalize()
        after = time.time_ns()
        client.log_episode(name="no duration")
        client.log_episode(name="longer than int64 ns", duration_s=1e300)  # no start rather than an error
    started, no_duration, too_long = (r.json() for r in server.routes("create"))
    assert before <= int(started["started_at_unix_ns"]) <= after
    assert "started_at_unix_ns" not in no_duration
    assert "started_at_unix_ns" not in too_long


def test_the_kind_shortcuts_warn_as_the_official_sdk_does_and_still_upload(
    server: FakeServer, video: Path, tmp_path: Path
) -> None:
    sensors = tmp_path / "imu.npz"
    sensors.write_bytes(b"imu")
    actions = tmp_path / "actions.parquet"
    actions.write_bytes(b"PAR1")
    with client_for(server) as client, client.start_episode(name="shortcuts") as ep:
        for kind, method, path in (
            ("video", ep.upload_video, video),
            ("sensors", ep.upload_sensors, sensors),
            ("actions", ep.upload_actions, actions),
        ):
            with pytest.warns(DeprecationWarning, match="RoboTrace SDK") as caught:
                assert method(path) == path.stat().st_size
            [warning] = caught.list
            assert str(warning.message) == (
                f"Episode.upload_{kind} is deprecated since 0.1.0a13 and will be removed in 0.3.0. "
                f'Use Episode.upload("{kind}", path) instead. (RoboTrace SDK)'
            )
            assert warning.filename == __file__  # it points at the caller's line, not at the SDK
    assert server.uploads[("ep0001", "sensors")] == b"imu"
