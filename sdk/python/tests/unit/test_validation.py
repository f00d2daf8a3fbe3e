"""Bad arguments are rejected before the first request: no orphaned "recording" episode is left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import robotrace as rt

from ..support.fake_server import FakeServer
from .helpers import client_for


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "run.mp4"
    path.write_bytes(b"frames")
    return path


BAD_LOG_EPISODE: list[tuple[dict[str, Any], str]] = [
    ({"source": "reality"}, "source must be one of real, sim, replay"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"seed": "42"}, "seed must be an integer"),
    ({"seed": True}, "seed must be an integer"),
    ({"fps": -30}, "fps must be 0 or more"),
    ({"fps": float("nan")}, "fps must be a finite number"),
    ({"duration_s": -1.0}, "duration_s must be 0 or more"),
    ({"name": 7}, "name must be a string"),
    ({"status": "done"}, "status must be 'ready' or 'failed'"),
    ({"failure_time_s": 2.0}, "failure_time_s is only valid with status='failed'"),
    ({"metadata": ["not", "a", "dict"]}, "metadata must be a mapping"),
    ({"metadata": {1: "x"}}, "metadata keys must be strings"),
    ({"metadata": {"when": object()}}, "metadata must be JSON-serializable"),
    ({"metadata": {"score": float("inf")}}, "metadata must be JSON-serializable"),
    ({"video": "/no/such/file.mp4"}, "video file not found"),
    ({"sensors": "run.parquet"}, "looks like a actions file but was passed as sensors="),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_LOG_EPISODE)
def test_log_episode_rejects_before_any_request(kwargs: dict[str, Any], message: str) -> None:
    server = FakeServer()
    with client_for(server) as client, pytest.raises(rt.ArgumentError, match=message.replace("(", r"\(")):
        client.log_episode(**kwargs)
    assert server.requests == []


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    server = FakeServer()
    with client_for(server) as client, pytest.raises(rt.ArgumentError, match="regular file"):
        client.log_episode(video=tmp_path)
    assert server.requests == []


@pytest.mark.parametrize(
    ("artifacts", "message"),
    [
        (["video", "lidar"], "artifact kind must be one of"),
        ("video", "list of kinds"),
        (["video"] * 2, "twice"),
    ],
)
def test_start_episode_rejects_bad_artifact_lists(artifacts: Any, message: str) -> None:
    server = FakeServer()
    with client_for(server) as client, pytest.raises(rt.ArgumentError, match=message):
        client.start_episode(artifacts=artifacts)
    assert server.requests == []


def test_argument_errors_are_value_errors_and_robotrace_errors() -> None:
    assert issubclass(rt.ArgumentError, ValueError)
    assert issubclass(rt.ArgumentError, rt.ConfigurationError)


def test_bad_finalize_arguments_leave_the_episode_open_for_a_correct_call(video: Path) -> None:
    server = FakeServer()
    with client_for(server) as client:
        ep = client.start_episode(artifacts=["video"])
        with pytest.raises(rt.ArgumentError):
            ep.finalize(status="ready", failure_time_s=1.0)
        ep.finalize(status="failed", failure_time_s=1.0)
    assert ep.status == "failed"
    assert len(server.routes("finalize")) == 1
