"""Replay tracks from episodes the official robotrace-dev 0.3.0 adapters made, against the started server.

`gymnasium.upload_rollout` on CartPole-v1 (NPZ with `_t_ns` relative to the episode start) and
`ros2.upload_bag` on a ROS 2 bag written here with `rosbags` (JointState, Imu, Twist; absolute Unix-time
stamps): the server indexes their sensors/actions at upload, `/api/episodes/{id}/tracks` lists them on the
episode's timeline, and the episode page draws one labelled lane per track in Chromium
(test_replay_tracks_browser.mjs).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gymnasium as gym
import httpx
import numpy as np
import pytest
from rosbags.rosbag2 import Writer
from rosbags.typesys import Stores, get_typestore

import robotrace
from robotrace.adapters import gymnasium as rt_gym
from robotrace.adapters import ros2 as rt_ros2

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EMAIL = "owner@example.com"
PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - the test server's bootstrap owner
# 2026-01-01T00:00:00Z in ns: the robot's clock, far from 0 so a relative reading would be obviously wrong.
T0_NS = 1_767_225_600_000_000_000
HZ = 50
STEPS = 100


def _tracks(server: Any, episode_id: str) -> dict[str, Any]:
    res = httpx.get(
        f"{server.base_url}/api/episodes/{episode_id}/tracks",
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=30,
    )
    assert res.status_code == 200, res.text
    return res.json()


def _window(server: Any, episode_id: str, name: str, **query: int) -> dict[str, Any]:
    res = httpx.get(
        f"{server.base_url}/api/episodes/{episode_id}/tracks/{quote(name, safe='')}",
        params=query,
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=30,
    )
    assert res.status_code == 200, (name, res.text)
    return res.json()


def _browser(server: Any, episode_id: str, t_ms: int) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own browser script
        [  # noqa: S607 - node from PATH, as the launcher uses it
            "node",
            str(HERE / "test_replay_tracks_browser.mjs"),
            server.base_url,
            episode_id,
            str(t_ms),
            EMAIL,
            PASSWORD,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _write_bag(path: Path) -> None:
    """JointState (named joints), Imu and a Twist command at 50 Hz, stamped in absolute robot time."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    joint_state = store.types["sensor_msgs/msg/JointState"]
    imu = store.types["sensor_msgs/msg/Imu"]
    twist = store.types["geometry_msgs/msg/Twist"]
    header = store.types["std_msgs/msg/Header"]
    stamp = store.types["builtin_interfaces/msg/Time"]
    quat = store.types["geometry_msgs/msg/Quaternion"]
    vec3 = store.types["geometry_msgs/msg/Vector3"]
    cov = np.zeros(9, dtype=np.float64)
    with Writer(path, version=Writer.VERSION_LATEST) as writer:
        c_js = writer.add_connection("/joint_states", joint_state.__msgtype__, typestore=store)
        c_imu = writer.add_connection("/imu", imu.__msgtype__, typestore=store)
        c_cmd = writer.add_connection("/cmd_vel", twist.__msgtype__, typestore=store)
        for i in range(STEPS):
            t = T0_NS + i * (1_000_000_000 // HZ)
            hdr = header(stamp=stamp(sec=t // 1_000_000_000, nanosec=t % 1_000_000_000), frame_id="base")
            js = joint_state(
                header=hdr,
                name=["shoulder", "elbow", "wrist"],
                position=np.array([i * 0.01, -i * 0.02, 0.5], dtype=np.float64),
                velocity=np.zeros(3, dtype=np.float64),
                effort=np.zeros(3, dtype=np.float64),
            )
            writer.write(c_js, t, store.serialize_cdr(js, joint_state.__msgtype__))
            im = imu(
                header=hdr,
                orientation=quat(x=0.0, y=0.0, z=0.0, w=1.0),
                orientation_covariance=cov,
                angular_velocity=vec3(x=0.0, y=0.0, z=0.1),
                angular_velocity_covariance=cov,
                linear_acceleration=vec3(x=0.0, y=0.0, z=9.81),
                linear_acceleration_covariance=cov,
            )
            writer.write(c_imu, t + 1_000_000, store.serialize_cdr(im, imu.__msgtype__))
            tw = twist(linear=vec3(x=0.2, y=0.0, z=0.0), angular=vec3(x=0.0, y=0.0, z=float(i % 2)))
            writer.write(c_cmd, t + 2_000_000, store.serialize_cdr(tw, twist.__msgtype__))


@pytest.fixture(scope="module")
def client(robotrace_server: Any) -> Any:
    c = robotrace.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url, verbose=False)
    yield c
    c.close()


def test_gymnasium_cartpole_tracks_listed_and_drawn(robotrace_server: Any, client: Any) -> None:
    env = gym.make("CartPole-v1")
    try:
        ep = rt_gym.upload_rollout(
            env,
            policy=lambda obs, info: int(obs[2] > 0),
            client=client,
            name="replay cartpole",
            seed=3,
            max_steps=40,
            record_video=False,
        )
    finally:
        env.close()
    assert ep.status == "ready"
    listed = _tracks(robotrace_server, ep.id)
    assert listed["warnings"] == []
    by_kind = {t["artifact_kind"] for t in listed["tracks"]}
    assert by_kind == {"sensors", "actions"}, listed
    # Relative `_t_ns` (the gymnasium adapter's time base): the tracks start at the episode's 0, not at 1970.
    assert listed["origin_ns"] is None
    for t in listed["tracks"]:
        assert t["samples"] > 0, t
        assert t["absolute_time"] is False
        assert 0 <= t["t_start_ns"] <= t["t_end_ns"] < 60 * 1_000_000_000, t
    obs = next(t for t in listed["tracks"] if t["artifact_kind"] == "sensors" and len(t["columns"]) == 4)
    win = _window(robotrace_server, ep.id, obs["name"], points=2000)
    assert win["samples"] == obs["samples"]
    assert win["downsampled"] is False
    assert len(win["series"]) == 4

    seen = _browser(robotrace_server, ep.id, 100)
    assert seen["state"] == "ready", seen
    assert sorted(seen["lanes"]) == sorted(t["name"] for t in listed["tracks"])
    assert all(d == "true" for d in seen["drawn"].values()), seen
    assert seen["cursor_ns"] == "100000000"


def test_ros2_bag_tracks_on_the_robot_timeline(robotrace_server: Any, client: Any, tmp_path: Path) -> None:
    bag = tmp_path / "run_bag"
    _write_bag(bag)
    ep = rt_ros2.upload_bag(bag, client=client, name="replay ros2 bag")
    assert ep.status == "ready"
    listed = _tracks(robotrace_server, ep.id)
    names = {t["name"] for t in listed["tracks"]}
    # Topics keep their leading slash (OFFICIAL_PILLARS §5); the command topic is an action.
    assert "/joint_states/position" in names, names
    assert any(n.startswith("/imu/") for n in names), names
    assert any(n.startswith("/cmd_vel/") for n in names), names
    kinds = {t["name"]: t["artifact_kind"] for t in listed["tracks"]}
    assert kinds["/joint_states/position"] == "sensors"
    assert all(kinds[n] == "actions" for n in names if n.startswith("/cmd_vel/"))
    # Absolute robot time, kept: the episode starts at the earliest stamp, every track on that timeline.
    assert listed["origin_ns"] is not None
    origin = int(listed["origin_ns"])
    assert T0_NS <= origin <= T0_NS + 5_000_000
    span_ns = (STEPS - 1) * (1_000_000_000 // HZ)
    for t in listed["tracks"]:
        assert t["absolute_time"] is True, t
        assert t["samples"] == STEPS, t
        assert 0 <= t["t_start_ns"] <= 5_000_000, t
        assert abs((t["t_end_ns"] - t["t_start_ns"]) - span_ns) <= 1_000, t
    pos = next(t for t in listed["tracks"] if t["name"] == "/joint_states/position")
    assert pos["columns"] == ["shoulder", "elbow", "wrist"] or len(pos["columns"]) == 3
    # The sample at 1 s (step 50) is where the robot put it: shoulder = 0.50.
    win = _window(robotrace_server, ep.id, pos["name"], from_ns=1_000_000_000, to_ns=1_000_000_000, points=10)
    assert win["samples"] == 1
    assert win["series"][0]["min"][0] == pytest.approx(0.5)

    seen = _browser(robotrace_server, ep.id, 1000)
    assert seen["state"] == "ready", seen
    assert "/joint_states/position" in seen["lanes"]
    assert seen["drawn"]["/joint_states/position"] == "true"
    assert seen["cursor_ns"] == "1000000000"
