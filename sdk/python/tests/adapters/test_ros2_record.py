"""ros2.record(): the recording's bag writer and what happens when it stops. There is no ROS 2 here, so no
rclpy: a thread stands in for the subscriptions and hands the recorder CDR bytes serialized by rosbags, as
rclpy's serialize_message would; everything from the bag on is the real path."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import robotrace as rt
from robotrace.adapters import ros2

from ..support.adapters_bags import T0_NS, TYPES, image, imu, joint_state
from ..support.fake_server import FakeServer
from ..unit.helpers import client_for


class Publisher:
    """Plays ``steps`` messages per topic into the recording from a background thread, like rclpy's
    executor thread does."""

    def __init__(self, recording: ros2.LiveRecording, steps: int = 8) -> None:
        self._recording, self._steps = recording, steps
        self._thread = threading.Thread(target=self._publish)

    def _publish(self) -> None:
        writer = self._recording._writer
        assert writer is not None
        topics = {
            "/joint_states": ("sensor_msgs/msg/JointState", joint_state),
            "/imu": ("sensor_msgs/msg/Imu", imu),
            "/camera/image_raw": ("sensor_msgs/msg/Image", image),
        }
        for i in range(self._steps):
            t_ns = T0_NS + i * 20_000_000
            for topic, (typename, build) in topics.items():
                raw = TYPES.serialize_cdr(build(i, t_ns), typename)
                writer.write_message(topic=topic, typename=typename, t_ns=t_ns, raw_bytes=bytes(raw))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.join()


def _recording(client: rt.Client, tmp_path: Path, **options: Any) -> ros2.LiveRecording:
    recording = ros2.record(
        topics=["/joint_states", "/imu", "/camera/image_raw"],
        client=client,
        name="warmup",
        policy_version="pap-v1",
        ros_distro="jazzy",
        **options,
    )
    recording._source = Publisher(recording)
    return recording


def test_a_recording_becomes_one_episode(tmp_path: Path) -> None:
    server = FakeServer()
    with client_for(server) as client, _recording(client, tmp_path, output_dir=tmp_path / "bag") as rec:
        pass
    assert rec.episode is not None
    assert rec.episode.status == "ready"
    assert rec.message_count == 24
    assert rec.bag_summary is not None
    assert {t.topic for t in rec.bag_summary.topics} == {"/joint_states", "/imu", "/camera/image_raw"}
    create = server.routes("create")[0].json()
    assert create["name"] == "warmup"
    assert create["metadata"]["ros2"] == {
        "mode": "live",
        "distro": "jazzy",
        "topics": ["/joint_states", "/imu", "/camera/image_raw"],
        "message_count": 24,
    }
    assert create["request_uploads"] == ["video", "sensors"]  # no command topic: no actions
    with np.load(io.BytesIO(server.uploads[(rec.episode.id, "sensors")]), allow_pickle=False) as sensors:
        assert sensors["/imu/_t_ns"][0] == T0_NS  # the recording's absolute clock
        assert sensors["/joint_states/position"].shape == (8, 6)
    assert (tmp_path / "bag" / "metadata.yaml").is_file()  # output_dir keeps the bag


def test_an_error_in_the_block_finalizes_failed_with_the_reason(tmp_path: Path) -> None:
    server = FakeServer()
    jammed = pytest.raises(RuntimeError, match="gripper jammed")
    with client_for(server) as client, jammed, _recording(client, tmp_path) as rec:
        raise RuntimeError("gripper jammed")
    final = server.routes("finalize")[0].json()
    assert final["status"] == "failed"
    assert final["metadata"]["failure_reason"] == "RuntimeError: gripper jammed"
    assert not rec.bag_path.exists()  # a temporary bag is removed
    assert not rec.bag_path.parent.exists()


def test_nothing_recorded_uploads_nothing(tmp_path: Path) -> None:
    server = FakeServer()
    with client_for(server) as client:
        rec = ros2.record(topics=["/joint_states"], client=client)
        rec._source = Publisher(rec, steps=0)
        rec.start()
        assert rec.stop() is None
    assert server.requests == []


def test_without_ros2_installed_the_error_says_to_source_it(tmp_path: Path) -> None:
    rec = ros2.record(topics=["/joint_states"], output_dir=tmp_path / "bag")
    with pytest.raises(ImportError, match=r"needs rclpy from a ROS 2 installation: source it first"):
        rec.start()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(rt.ConfigurationError, match="one or more topics"):
        ros2.record(topics=[])
    (tmp_path / "bag").mkdir()
    with pytest.raises(rt.ConfigurationError, match="already exists"):
        ros2.record(topics=["/imu"], output_dir=tmp_path / "bag")
