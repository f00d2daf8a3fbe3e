"""The ROS 2 adapter on bags written with rosbags, in both storage formats."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import av
import numpy as np
import pytest

import robotrace as rt
from robotrace.adapters import ros2

from ..support.adapters_bags import (
    JOINTS,
    STANDARD,
    T0_NS,
    image,
    imu,
    joint_state,
    jpeg,
    odometry,
    png,
    pose_stamped,
    write_bag,
)
from ..support.adapters_npz import load_npz, npz_summary
from ..support.adapters_official import official_ros2_bag
from ..support.api import Api
from ..support.robotrace_server import RunningServer
from ..support.served import assert_tracks_served, assert_video_plays

STORAGES = ["sqlite3", "mcap"]


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]


@pytest.mark.parametrize("storage", STORAGES)
def test_a_bag_becomes_video_and_npz_with_absolute_times(tmp_path: Path, storage: str) -> None:
    bag = write_bag(tmp_path / "bag", storage=storage)
    encoded = ros2.encode_bag(bag, tmp_path / "out")

    sensors = load_npz(tmp_path / "out" / "sensors.npz")
    assert {
        name: (a.shape, str(a.dtype)) for name, a in sensors.items() if not name.startswith("/battery")
    } == {
        "/joint_states/position": ((10, JOINTS), "float32"),
        "/joint_states/velocity": ((10, JOINTS), "float32"),
        "/joint_states/effort": ((10, JOINTS), "float32"),
        "/joint_states/_t_ns": ((10,), "int64"),
        "/imu/orientation": ((10, 4), "float32"),
        "/imu/angular_velocity": ((10, 3), "float32"),
        "/imu/linear_acceleration": ((10, 3), "float32"),
        "/imu/_t_ns": ((10,), "int64"),
    }
    assert sensors["/imu/_t_ns"].tolist() == [T0_NS + i * 20_000_000 for i in range(10)]
    assert sensors["/joint_states/position"][3].tolist() == pytest.approx([k + 0.3 for k in range(JOINTS)])
    assert sensors["/imu/orientation"][0].tolist() == [0, 0, 0, 1]
    assert sensors["/battery/voltage"].shape == (10,)
    assert sensors["/battery/percentage"][0] == pytest.approx(0.9)

    actions = load_npz(tmp_path / "out" / "actions.npz")
    assert sorted(actions) == ["/cmd_vel/_t_ns", "/cmd_vel/angular", "/cmd_vel/linear"]
    assert actions["/cmd_vel/linear"][:, 0].tolist() == pytest.approx([0.1 * i for i in range(10)])

    assert encoded.metadata["adapter"] == "ros2"
    assert encoded.metadata["bag"] == str(bag.resolve())
    assert encoded.metadata["skipped_topics"] == [
        {"topic": "/rosout_text", "reason": "message type std_msgs/msg/String is not supported"}
    ]
    assert encoded.metadata["video_start_t_ns"] == T0_NS
    assert encoded.fps == 50.0
    assert encoded.duration_s == pytest.approx(0.18)
    assert encoded.video is not None
    assert encoded.video.topics == ["/camera/image_raw"]
    frames = _frames(encoded.video.path)
    assert len(frames) == 10
    assert frames[0].shape == (48, 64, 3)
    # The red gradient survived in the red channel (RGB order kept); column 0 is the bright marker.
    red, blue = frames[0][:, 40, 0].mean(), frames[0][:, 40, 2].mean()
    assert frames[0][:, 6, 0].mean() < 60 < red
    assert blue < 40


@pytest.mark.parametrize("storage", STORAGES)
def test_same_npz_and_metadata_as_the_official_adapter(tmp_path: Path, storage: str) -> None:
    # No camera (the official writes video with OpenCV, absent there) and no type it reads differently.
    topics = {name: STANDARD[name] for name in ("/joint_states", "/imu", "/cmd_vel")}
    bag = write_bag(tmp_path / "bag", storage=storage, topics=topics)
    official = official_ros2_bag(bag, tmp_path / "official")
    ours = ros2.encode_bag(bag, tmp_path / "ours")
    for name in ("sensors.npz", "actions.npz"):
        assert npz_summary(tmp_path / "ours" / name) == npz_summary(tmp_path / "official" / name), name
    assert ours.metadata == official["metadata"]


@pytest.mark.parametrize("storage", STORAGES)
def test_scan_lists_topics_by_slot_without_writing(tmp_path: Path, storage: str) -> None:
    summary = ros2.scan_bag(write_bag(tmp_path / "bag", storage=storage))
    assert {t.topic: t.slot for t in summary.topics} == {
        "/joint_states": "sensors",
        "/imu": "sensors",
        "/battery": "sensors",
        "/rosout_text": "sensors",
        "/cmd_vel": "actions",
        "/camera/image_raw": "video",
    }
    assert summary.message_count == 60
    assert "/cmd_vel  (geometry_msgs/msg/Twist, 10 msg, via msgtype)" in summary.report()
    assert sorted(p.name for p in (tmp_path / "bag").iterdir()) == sorted(
        ["metadata.yaml", f"bag.{'db3' if storage == 'sqlite3' else 'mcap'}"]
    )


def test_topic_selection_and_an_empty_list_leaves_a_slot_out(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    encoded = ros2.encode_bag(
        bag, tmp_path / "out", video_topics=[], sensor_topics=["/imu"], action_topics=[]
    )
    assert encoded.video is None
    assert encoded.actions is None
    assert encoded.sensors is not None
    assert encoded.sensors.topics == ["/imu"]
    assert sorted(load_npz(encoded.sensors.path)) == [
        "/imu/_t_ns",
        "/imu/angular_velocity",
        "/imu/linear_acceleration",
        "/imu/orientation",
    ]
    assert not (tmp_path / "out" / "video.mp4").exists()
    assert "skipped_topics" not in encoded.metadata


def test_a_command_topic_by_name_goes_to_actions() -> None:
    assert ros2.classify_topic("/arm/command", "std_msgs/msg/Float64MultiArray").slot == "actions"
    assert ros2.classify_topic("/base/CMD_vel", "custom/msg/Drive").reason == "topic-name"
    assert ros2.classify_topic("/camera/compressed", "sensor_msgs/msg/CompressedImage").slot == "video"


def test_two_cameras_raw_and_png_are_put_side_by_side(tmp_path: Path) -> None:
    topics = {
        "/cam_a/image": ("sensor_msgs/msg/Image", partial(image, encoding="bgr8")),
        "/cam_b/compressed": ("sensor_msgs/msg/CompressedImage", png),
        "/imu": ("sensor_msgs/msg/Imu", imu),
    }
    bag = write_bag(tmp_path / "bag", storage="mcap", topics=topics, steps=6)
    encoded = ros2.encode_bag(bag, tmp_path / "out")
    assert encoded.video is not None
    assert encoded.video.topics == ["/cam_a/image", "/cam_b/compressed"]
    frames = _frames(encoded.video.path)
    assert len(frames) == 6
    assert frames[0].shape == (48, 128, 3)
    # Both halves show the same picture: BGR was turned around, PNG decoded.
    assert np.abs(frames[2][:, :64].astype(int) - frames[2][:, 64:].astype(int)).mean() < 8

    single = ros2.encode_bag(bag, tmp_path / "one", canonical_video_topic="/cam_b/compressed")
    assert single.video is not None
    assert _frames(single.video.path)[0].shape == (48, 64, 3)


@pytest.mark.parametrize("storage", STORAGES)
def test_odometry_pose_and_a_jpeg_camera(tmp_path: Path, storage: str) -> None:
    topics = {
        "/odom": ("nav_msgs/msg/Odometry", odometry),
        "/goal_pose": ("geometry_msgs/msg/PoseStamped", pose_stamped),
        "/camera/image/compressed": ("sensor_msgs/msg/CompressedImage", jpeg),
    }
    bag = write_bag(tmp_path / "bag", storage=storage, topics=topics, steps=5)
    encoded = ros2.encode_bag(bag, tmp_path / "out")
    sensors = load_npz(tmp_path / "out" / "sensors.npz")
    assert {k: v.shape for k, v in sensors.items()} == {
        "/odom/_t_ns": (5,),
        "/odom/position": (5, 3),
        "/odom/orientation": (5, 4),
        "/odom/linear_velocity": (5, 3),
        "/odom/angular_velocity": (5, 3),
        "/goal_pose/_t_ns": (5,),
        "/goal_pose/position": (5, 3),
        "/goal_pose/orientation": (5, 4),
    }
    assert sensors["/odom/position"][:, 0].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert sensors["/odom/linear_velocity"][0].tolist() == [0.5, 0.0, 0.0]
    assert encoded.video is not None
    frames = _frames(encoded.video.path)
    assert (len(frames), frames[0].shape) == (5, (48, 64, 3))
    assert frames[0][:, 40, 0].mean() > 120  # the JPEG's red gradient, decoded in RGB order


def test_a_listed_topic_the_bag_lacks_is_a_one_line_error(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bag")
    with pytest.raises(rt.ConfigurationError) as caught:
        ros2.encode_bag(bag, tmp_path / "out", sensor_topics=["/imu", "/lidar"])
    message = str(caught.value)
    assert message.startswith(f"{bag.resolve()}: no topic '/lidar' in the bag (it has /battery, ")
    assert "\n" not in message


@pytest.mark.parametrize("storage", STORAGES)
def test_a_corrupt_bag_names_the_bag(tmp_path: Path, storage: str) -> None:
    bag = write_bag(tmp_path / "bag", storage=storage)
    for data in bag.glob("bag.*"):
        data.write_bytes(b"this is not a " + storage.encode() + b" file" * 100)
    with pytest.raises(rt.ConfigurationError, match=r"bag: cannot read the rosbag2 \(") as caught:
        ros2.encode_bag(bag, tmp_path / "out")
    assert "\n" not in str(caught.value)


def test_a_folder_that_is_not_a_bag(tmp_path: Path) -> None:
    with pytest.raises(rt.ConfigurationError, match=r"no metadata\.yaml, so not a rosbag2 folder"):
        ros2.scan_bag(tmp_path)


def test_a_camera_that_changes_encoding_is_refused(tmp_path: Path) -> None:
    def switching(i: int, t_ns: int) -> object:
        return image(i, t_ns, encoding="rgb8" if i < 5 else "mono8")

    bag = write_bag(tmp_path / "bag", topics={"/camera": ("sensor_msgs/msg/Image", switching)})
    with pytest.raises(
        rt.ConfigurationError, match=r"camera topic /camera mixes image encodings \(rgb8, then mono8\)"
    ):
        ros2.encode_bag(bag, tmp_path / "out")
    assert not (tmp_path / "out" / "video.mp4").exists()


def test_camera_frames_that_change_size_are_refused(tmp_path: Path) -> None:
    def growing(i: int, t_ns: int) -> object:
        return image(i, t_ns, size=(48, 64) if i < 3 else (60, 80))

    bag = write_bag(tmp_path / "bag", topics={"/camera": ("sensor_msgs/msg/Image", growing)})
    with pytest.raises(rt.ConfigurationError, match="frames change size mid-bag: frame 3 is 80x60"):
        ros2.encode_bag(bag, tmp_path / "out")


def test_a_joint_list_that_changes_length_is_skipped_with_a_note(tmp_path: Path) -> None:
    def shrinking(i: int, t_ns: int) -> object:
        state = joint_state(i, t_ns)
        if i == 4:
            state.position = state.position[:3]
        return state

    bag = write_bag(tmp_path / "bag", topics={"/joint_states": ("sensor_msgs/msg/JointState", shrinking)})
    encoded = ros2.encode_bag(bag, tmp_path / "out")
    assert sorted(load_npz(tmp_path / "out" / "sensors.npz")) == [
        "/joint_states/_t_ns",
        "/joint_states/effort",
        "/joint_states/velocity",
    ]
    assert encoded.metadata["skipped_topics"] == [
        {"topic": "/joint_states", "reason": "field 'position' changes shape or is missing mid-bag"}
    ]


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_upload_bag_to_the_server(
    tmp_path: Path, robotrace_server: RunningServer, api: Api, storage: str
) -> None:
    bag = write_bag(tmp_path / "run_0001", storage=storage, topics=dict(STANDARD))
    with rt.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as client:
        episode = ros2.upload_bag(bag, client=client, policy_version="pap-v1", output_dir=tmp_path / "out")
    stored = api.episode(episode.id)
    assert (stored["status"], stored["source"], stored["name"]) == ("ready", "real", "run_0001")
    assert stored["metadata"]["adapter"] == "ros2"
    assert stored["metadata"]["skipped_topics"][0]["topic"] == "/rosout_text"
    for kind, name in (("video", "video.mp4"), ("sensors", "sensors.npz"), ("actions", "actions.npz")):
        assert api.artifact(episode.id, kind) == (tmp_path / "out" / name).read_bytes(), kind
    assert_tracks_served(api, episode.id, tmp_path / "out", absolute=True)
    assert_video_plays(api.artifact(episode.id, "video"))
