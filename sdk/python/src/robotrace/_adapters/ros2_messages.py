"""ROS 2 messages as NPZ fields and video frames.

Sensor and command messages of the known types become a few float32 fields each (``/imu/orientation`` is
``[x, y, z, w]``); a topic of any other type is skipped with a note, so nothing is guessed. Camera messages
become RGB frames: raw ``Image`` in the common 8-bit encodings (and 16-bit mono, scaled down), or
``CompressedImage`` JPEG / PNG decoded with PyAV.
"""

from __future__ import annotations

from typing import Any, Callable

Fields = dict[str, Any]


def _xyz(np: Any, v: Any) -> Any:
    return np.asarray([v.x, v.y, v.z], dtype=np.float32)


def _xyzw(np: Any, q: Any) -> Any:
    return np.asarray([q.x, q.y, q.z, q.w], dtype=np.float32)


def _joint_state(np: Any, msg: Any) -> Fields:
    fields = {}
    for name in ("position", "velocity", "effort"):
        values = np.asarray(getattr(msg, name), dtype=np.float32).reshape(-1)
        if values.size:  # drivers often leave velocity / effort empty
            fields[name] = values
    return fields


def _imu(np: Any, msg: Any) -> Fields:
    return {
        "orientation": _xyzw(np, msg.orientation),
        "angular_velocity": _xyz(np, msg.angular_velocity),
        "linear_acceleration": _xyz(np, msg.linear_acceleration),
    }


def _twist(np: Any, msg: Any) -> Fields:
    return {"linear": _xyz(np, msg.linear), "angular": _xyz(np, msg.angular)}


def _wrench(np: Any, msg: Any) -> Fields:
    return {"force": _xyz(np, msg.force), "torque": _xyz(np, msg.torque)}


def _pose(np: Any, msg: Any) -> Fields:
    return {"position": _xyz(np, msg.position), "orientation": _xyzw(np, msg.orientation)}


def _odometry(np: Any, msg: Any) -> Fields:
    return {
        **_pose(np, msg.pose.pose),
        "linear_velocity": _xyz(np, msg.twist.twist.linear),
        "angular_velocity": _xyz(np, msg.twist.twist.angular),
    }


_BATTERY_FIELDS = ("voltage", "current", "charge", "capacity", "percentage", "temperature")


def _battery(np: Any, msg: Any) -> Fields:
    fields = {name: np.float32(getattr(msg, name)) for name in _BATTERY_FIELDS}
    fields["power_supply_status"] = np.uint8(msg.power_supply_status)
    fields["present"] = np.bool_(msg.present)
    return fields


FLATTENERS: dict[str, Callable[[Any, Any], Fields]] = {
    "sensor_msgs/msg/JointState": _joint_state,
    "sensor_msgs/msg/Imu": _imu,
    "sensor_msgs/msg/BatteryState": _battery,
    "geometry_msgs/msg/Twist": _twist,
    "geometry_msgs/msg/TwistStamped": lambda np, msg: _twist(np, msg.twist),
    "geometry_msgs/msg/Wrench": _wrench,
    "geometry_msgs/msg/WrenchStamped": lambda np, msg: _wrench(np, msg.wrench),
    "geometry_msgs/msg/Pose": _pose,
    "geometry_msgs/msg/PoseStamped": lambda np, msg: _pose(np, msg.pose),
    "geometry_msgs/msg/PoseWithCovarianceStamped": lambda np, msg: _pose(np, msg.pose.pose),
    "nav_msgs/msg/Odometry": _odometry,
}

_RAW_CHANNELS = {"rgb8": 3, "bgr8": 3, "8uc3": 3, "rgba8": 4, "bgra8": 4, "mono8": 1, "8uc1": 1}


class ImageError(ValueError):
    """A camera message that cannot become a frame (an encoding we do not read, truncated data)."""


def image_kind(msgtype: str, msg: Any) -> str:
    """What a camera message's pixels are: its ``encoding`` (raw) or ``format`` (compressed), lower case."""
    if msgtype.endswith("/CompressedImage"):
        return f"compressed {str(msg.format).strip().lower() or '?'}"
    return str(msg.encoding).strip().lower()


def raw_frame(np: Any, msg: Any) -> Any:
    """An H x W x 3 RGB uint8 frame from a ``sensor_msgs/Image``."""
    encoding = str(msg.encoding).strip().lower()
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.asarray(msg.data, dtype=np.uint8)
    if encoding in ("mono16", "16uc1"):
        dtype = ">u2" if msg.is_bigendian else "<u2"
        rows = _rows(data, height, step, width * 2, encoding)
        gray = (rows.view(dtype).reshape(height, width) >> 8).astype(np.uint8)  # keep the high byte
        return np.repeat(gray[:, :, None], 3, axis=2)
    channels = _RAW_CHANNELS.get(encoding)
    if channels is None:
        raise ImageError(f"image encoding {encoding!r} is not supported")
    pixels = _rows(data, height, step, width * channels, encoding).reshape(height, width, channels)
    if channels == 1:
        return np.repeat(pixels, 3, axis=2)
    if encoding.startswith("bgr") or encoding == "8uc3":  # OpenCV's 8UC3 is BGR
        return pixels[:, :, 2::-1]
    return pixels[:, :, :3]


def _rows(data: Any, height: int, step: int, row_bytes: int, encoding: str) -> Any:
    # Rows may be padded: ``step`` bytes each, of which the first ``row_bytes`` are pixels.
    if step < row_bytes or data.size < height * step or height == 0:
        raise ImageError(f"{encoding} image data is {data.size} bytes, too short for {height} rows of {step}")
    return data[: height * step].reshape(height, step)[:, :row_bytes]


class CompressedDecoder:
    """JPEG / PNG ``CompressedImage`` data to RGB frames, with PyAV's decoders."""

    def __init__(self, av: Any) -> None:
        self._av = av

    def frame(self, msg: Any) -> Any:
        data = bytes(msg.data)
        if data.startswith(b"\x89PNG"):
            codec = "png"
        elif data.startswith(b"\xff\xd8"):
            codec = "mjpeg"
        else:
            raise ImageError(f"compressed image format {str(msg.format)!r} is neither JPEG nor PNG")
        # A fresh decoder per image: a reused one may hand back an earlier frame (frame threading).
        context = self._av.CodecContext.create(codec, "r")
        try:
            frames = context.decode(self._av.Packet(data))
        except self._av.FFmpegError as exc:
            raise ImageError(f"a {codec} image could not be decoded ({exc})") from exc
        if not frames:
            raise ImageError(f"a {codec} image decoded to no frame")
        return frames[0].to_ndarray(format="rgb24")
