"""rosbag2 recordings written with rosbags (the library ROS-free tools write them with), sqlite3 or mcap."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import av
import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

TYPES = get_typestore(Stores.LATEST)
T0_NS = 1_796_000_000_000_000_000  # absolute Unix-epoch nanoseconds, as a robot's clock writes them
JOINTS = 6


def _t(name: str) -> Any:
    return TYPES.types[name]


def header(t_ns: int, frame: str = "base") -> Any:
    stamp = _t("builtin_interfaces/msg/Time")(sec=t_ns // 1_000_000_000, nanosec=t_ns % 1_000_000_000)
    return _t("std_msgs/msg/Header")(stamp=stamp, frame_id=frame)


def vector(x: float, y: float, z: float) -> Any:
    return _t("geometry_msgs/msg/Vector3")(x=x, y=y, z=z)


def joint_state(i: int, t_ns: int) -> Any:
    return _t("sensor_msgs/msg/JointState")(
        header=header(t_ns),
        name=[f"j{k}" for k in range(JOINTS)],
        position=np.arange(JOINTS, dtype=np.float64) + i / 10,
        velocity=np.full(JOINTS, 0.5),
        effort=np.zeros(JOINTS),
    )


def imu(i: int, t_ns: int) -> Any:
    return _t("sensor_msgs/msg/Imu")(
        header=header(t_ns),
        orientation=_t("geometry_msgs/msg/Quaternion")(x=0.0, y=0.0, z=0.0, w=1.0),
        orientation_covariance=np.zeros(9),
        angular_velocity=vector(0.0, 0.0, 0.01 * i),
        angular_velocity_covariance=np.zeros(9),
        linear_acceleration=vector(0.0, 0.0, 9.81),
        linear_acceleration_covariance=np.zeros(9),
    )


def twist(i: int, t_ns: int) -> Any:
    return _t("geometry_msgs/msg/Twist")(linear=vector(0.1 * i, 0.0, 0.0), angular=vector(0.0, 0.0, 0.2))


def battery(i: int, t_ns: int) -> Any:
    nan = float("nan")
    return _t("sensor_msgs/msg/BatteryState")(
        header=header(t_ns),
        voltage=24.0 - i * 0.01,
        temperature=nan,
        current=-1.5,
        charge=nan,
        capacity=nan,
        design_capacity=nan,
        percentage=0.9,
        power_supply_status=2,
        power_supply_health=1,
        power_supply_technology=2,
        present=True,
        cell_voltage=np.zeros(0, dtype=np.float32),
        cell_temperature=np.zeros(0, dtype=np.float32),
        location="",
        serial_number="",
    )


def text(i: int, t_ns: int) -> Any:
    return _t("std_msgs/msg/String")(data=f"step {i}")


def pixels(i: int, height: int = 48, width: int = 64) -> Any:
    """A frame that changes with ``i``: a gradient plus a moving bright column."""
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    frame[:, (i * 3) % width, :] = 255
    return frame


def image(i: int, t_ns: int, *, encoding: str = "rgb8", size: tuple[int, int] = (48, 64)) -> Any:
    rgb = pixels(i, *size)
    data = {"rgb8": rgb, "bgr8": rgb[:, :, ::-1], "mono8": rgb[:, :, :1]}[encoding]
    return _t("sensor_msgs/msg/Image")(
        header=header(t_ns, "camera"),
        height=size[0],
        width=size[1],
        encoding=encoding,
        is_bigendian=0,
        step=size[1] * data.shape[2],
        data=np.ascontiguousarray(data).reshape(-1),
    )


def png(i: int, t_ns: int) -> Any:
    """A CompressedImage holding a PNG (encoded with FFmpeg's PNG encoder, through PyAV)."""
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = 64, 48, "rgb24"
    packets = codec.encode(av.VideoFrame.from_ndarray(pixels(i), format="rgb24"))
    return _t("sensor_msgs/msg/CompressedImage")(
        header=header(t_ns, "camera"), format="png", data=np.frombuffer(bytes(packets[0]), dtype=np.uint8)
    )


def jpeg(i: int, t_ns: int) -> Any:
    """A CompressedImage holding a JPEG (FFmpeg's MJPEG encoder, through PyAV)."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = 64, 48, "yuvj420p"
    frame = av.VideoFrame.from_ndarray(pixels(i), format="rgb24").reformat(format="yuvj420p")
    packets = codec.encode(frame)
    return _t("sensor_msgs/msg/CompressedImage")(
        header=header(t_ns, "camera"), format="jpeg", data=np.frombuffer(bytes(packets[0]), dtype=np.uint8)
    )


def _point(x: float, y: float, z: float) -> Any:
    return _t("geometry_msgs/msg/Point")(x=x, y=y, z=z)


def _pose(i: int) -> Any:
    quaternion = _t("geometry_msgs/msg/Quaternion")(x=0.0, y=0.0, z=0.0, w=1.0)
    return _t("geometry_msgs/msg/Pose")(position=_point(0.5 * i, 1.0, 0.0), orientation=quaternion)


def pose_stamped(i: int, t_ns: int) -> Any:
    return _t("geometry_msgs/msg/PoseStamped")(header=header(t_ns), pose=_pose(i))


def odometry(i: int, t_ns: int) -> Any:
    twist = _t("geometry_msgs/msg/Twist")(linear=vector(0.5, 0.0, 0.0), angular=vector(0.0, 0.0, 0.1))
    return _t("nav_msgs/msg/Odometry")(
        header=header(t_ns, "odom"),
        child_frame_id="base_link",
        pose=_t("geometry_msgs/msg/PoseWithCovariance")(pose=_pose(i), covariance=np.zeros(36)),
        twist=_t("geometry_msgs/msg/TwistWithCovariance")(twist=twist, covariance=np.zeros(36)),
    )


Message = Callable[[int, int], Any]

STANDARD: dict[str, tuple[str, Message]] = {
    "/joint_states": ("sensor_msgs/msg/JointState", joint_state),
    "/imu": ("sensor_msgs/msg/Imu", imu),
    "/cmd_vel": ("geometry_msgs/msg/Twist", twist),
    "/battery": ("sensor_msgs/msg/BatteryState", battery),
    "/camera/image_raw": ("sensor_msgs/msg/Image", image),
    "/rosout_text": ("std_msgs/msg/String", text),
}


def write_bag(
    path: Path,
    *,
    storage: str = "sqlite3",
    topics: dict[str, tuple[str, Message]] | None = None,
    steps: int = 10,
    period_ns: int = 20_000_000,
    skip: Iterable[tuple[str, int]] = (),
) -> Path:
    """A bag of ``steps`` messages per topic, ``period_ns`` apart from T0_NS (50 Hz by default)."""
    plugin = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}[storage]
    left_out = set(skip)
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        for topic, (msgtype, build) in (topics or STANDARD).items():
            connection = writer.add_connection(topic, msgtype, typestore=TYPES)
            for i in range(steps):
                if (topic, i) in left_out:
                    continue
                t_ns = T0_NS + i * period_ns
                writer.write(connection, t_ns, TYPES.serialize_cdr(build(i, t_ns), msgtype))
    return path
