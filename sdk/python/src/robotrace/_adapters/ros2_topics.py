"""ROS 2 bags: which slot each topic goes to, and what a bag holds (``scan_bag``), read with ``rosbags``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from .._payload import ArtifactKind
from .deps import require
from .errors import AdapterError

Slot = ArtifactKind

# Exact type names, so a custom ``MyImageStats`` message is never taken for a camera.
IMAGE_TYPES = frozenset({"sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage"})
_ACTION_TYPES = frozenset(
    {
        "geometry_msgs/msg/Twist",
        "geometry_msgs/msg/TwistStamped",
        "geometry_msgs/msg/Wrench",
        "geometry_msgs/msg/WrenchStamped",
        "trajectory_msgs/msg/JointTrajectory",
        "trajectory_msgs/msg/MultiDOFJointTrajectory",
        "control_msgs/msg/JointJog",
    }
)


@dataclass(frozen=True)
class TopicClass:
    """The slot picked for one topic, and why: its message type, its name (``.../cmd_*``, ``.../command``),
    or neither (``default``: sensors)."""

    topic: str
    msgtype: str
    slot: Slot
    reason: Literal["msgtype", "topic-name", "default"]


def classify_topic(topic: str, msgtype: str) -> TopicClass:
    """Cameras go to ``video``, commands (by type or by a ``cmd_*`` / ``command`` name) to ``actions``, the
    rest to ``sensors``. A pure function: no I/O."""
    if msgtype in IMAGE_TYPES:
        return TopicClass(topic, msgtype, "video", "msgtype")
    if msgtype in _ACTION_TYPES:
        return TopicClass(topic, msgtype, "actions", "msgtype")
    last = topic.rsplit("/", 1)[-1].lower()
    if last.startswith("cmd_") or last == "command":
        return TopicClass(topic, msgtype, "actions", "topic-name")
    return TopicClass(topic, msgtype, "sensors", "default")


@dataclass(frozen=True)
class TopicInfo:
    """One topic of a bag: its type, message count and the slot it goes to (``classified_by`` says why)."""

    topic: str
    msgtype: str
    msgcount: int
    slot: Slot
    classified_by: str


@dataclass
class BagSummary:
    """What a bag holds, found without decoding a message: its topics and the span of its recording."""

    path: Path
    duration_s: Optional[float]  # noqa: UP045 - None for a bag without messages
    message_count: int
    topics: list[TopicInfo] = field(default_factory=list)

    def topics_by_slot(self, slot: Slot) -> list[TopicInfo]:
        return [topic for topic in self.topics if topic.slot == slot]

    def report(self) -> str:
        """One line for the bag, then each topic under its slot."""
        if self.duration_s is None:
            lines = [f"{self.path}  (empty bag)"]
        else:
            plural = "" if self.message_count == 1 else "s"
            lines = [f"{self.path}  {self.duration_s:.2f}s, {self.message_count} message{plural}"]
        slots: tuple[Slot, ...] = ("video", "sensors", "actions")
        for slot in slots:
            topics = self.topics_by_slot(slot)
            if topics:
                lines.append(f"  {slot}:")
                lines.extend(
                    f"    {t.topic}  ({t.msgtype}, {t.msgcount} msg, via {t.classified_by})" for t in topics
                )
        return "\n".join(lines)


def require_rosbags() -> None:
    """The missing extra is said first, before anything about the bag."""
    require("rosbags.highlevel", extra="ros2", purpose="The ROS 2 adapter")


def bag_dir(path: str | Path) -> Path:
    """The bag's folder (the one with ``metadata.yaml``), or an AdapterError saying what is wrong."""
    bag = Path(path).expanduser().resolve()
    if not bag.exists():
        raise AdapterError(f"{bag}: no such rosbag2 folder")
    if not bag.is_dir():
        raise AdapterError(f"{bag}: a rosbag2 is the folder holding metadata.yaml, not a file")
    if not (bag / "metadata.yaml").is_file():
        raise AdapterError(f"{bag}: no metadata.yaml, so not a rosbag2 folder")
    return bag


class OpenBag:
    """A bag opened for reading; rosbags errors (a corrupt file, a bad metadata.yaml) become one AdapterError
    line naming the bag. Bags that carry no message definitions are read with the latest ROS 2 types."""

    def __init__(self, bag: Path) -> None:
        highlevel = require("rosbags.highlevel", extra="ros2", purpose="The ROS 2 adapter")
        typesys = require("rosbags.typesys", extra="ros2", purpose="The ROS 2 adapter")
        self.bag = bag
        try:
            self.reader: Any = highlevel.AnyReader(
                [bag], default_typestore=typesys.get_typestore(typesys.Stores.LATEST)
            )
        except Exception as exc:
            raise AdapterError(f"{bag}: cannot read the rosbag2 ({_one_line(exc)})") from exc

    def __enter__(self) -> Any:
        try:
            self.reader.open()
        except Exception as exc:
            raise AdapterError(f"{self.bag}: cannot read the rosbag2 ({_one_line(exc)})") from exc
        return self.reader

    def __exit__(self, *exc: object) -> None:
        self.reader.close()


def scan_bag(path: str | Path) -> BagSummary:
    """Describe the bag at ``path`` (its folder; sqlite3 or mcap storage): each topic with its type, count
    and slot, and the recording's length. Nothing is decoded or written."""
    require_rosbags()
    bag = bag_dir(path)
    with OpenBag(bag) as reader:
        topics = []
        for connection in reader.connections:
            decision = classify_topic(str(connection.topic), str(connection.msgtype))
            topics.append(
                TopicInfo(
                    topic=decision.topic,
                    msgtype=decision.msgtype,
                    msgcount=int(connection.msgcount or 0),
                    slot=decision.slot,
                    classified_by=decision.reason,
                )
            )
        count = sum(topic.msgcount for topic in topics)
        duration = max(int(reader.duration), 0) / 1e9 if count else None
    return BagSummary(path=bag, duration_s=duration, message_count=count, topics=topics)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
