"""ROS 2 bags into episode files (``encode_bag``) and episodes (``upload_bag``).

Times stay the bag's own: each topic's ``_t_ns`` holds the recording timestamps, absolute nanoseconds on
the robot's clock (OFFICIAL_PILLARS.md §5), and topic names keep their leading slash (``/imu/orientation``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .._client import Client
from .._episode import Episode
from .._payload import EpisodeFinalStatus, EpisodeSource
from .artifacts import EncodedArtifact, prepare_dir
from .deps import numpy, require
from .errors import AdapterError
from .ros2_messages import FLATTENERS, CompressedDecoder, ImageError, image_kind, raw_frame
from .ros2_topics import IMAGE_TYPES, BagSummary, OpenBag, Slot, bag_dir, require_rosbags, scan_bag
from .upload import RunFacts, upload_encoded, work_dir
from .video import FrameError, Mp4Writer

# The video's rate when its camera's timestamps say nothing (one frame, or all on one stamp).
_FALLBACK_FPS = 10.0


@dataclass
class BagArtifact(EncodedArtifact):
    """One written file, with the topics that went into it (for ``video``: the cameras, left to right)."""

    topics: list[str] = field(default_factory=list)


@dataclass
class EncodedBag:
    """What ``encode_bag`` wrote. ``metadata`` has ``adapter``, ``bag`` and, when topics were left out,
    ``skipped_topics`` (``[{"topic", "reason"}]``)."""

    output_dir: Path
    summary: BagSummary
    video: Optional[BagArtifact] = None  # noqa: UP045 - dataclass fields are read on 3.9 too
    sensors: Optional[BagArtifact] = None  # noqa: UP045
    actions: Optional[BagArtifact] = None  # noqa: UP045
    duration_s: Optional[float] = None  # noqa: UP045
    fps: Optional[float] = None  # noqa: UP045
    metadata: dict[str, Any] = field(default_factory=dict)

    def artifacts(self) -> list[BagArtifact]:
        """The files written, video first."""
        return [file for file in (self.video, self.sensors, self.actions) if file is not None]


def encode_bag(
    path: str | Path,
    output_dir: str | Path,
    *,
    video_topics: Sequence[str] | None = None,
    sensor_topics: Sequence[str] | None = None,
    action_topics: Sequence[str] | None = None,
    canonical_video_topic: str | None = None,
    summary: BagSummary | None = None,
) -> EncodedBag:
    """Write the bag's cameras to ``video.mp4`` and its sensor and command topics to ``sensors.npz`` and
    ``actions.npz`` in ``output_dir``. Nothing is uploaded.

    Each ``*_topics`` list replaces the automatic choice for its slot (``[]`` leaves the slot out); a listed
    topic that the bag does not have is an error. Several cameras are put side by side, frame by frame,
    unless ``canonical_video_topic`` picks one. A topic of a type the adapter does not read is skipped and
    noted in ``metadata["skipped_topics"]``.
    """
    require_rosbags()
    bag = bag_dir(path)
    out = prepare_dir(output_dir)
    summary = summary if summary is not None else scan_bag(bag)
    types = {topic.topic: topic.msgtype for topic in summary.topics}
    requested: tuple[tuple[Slot, Sequence[str] | None], ...] = (
        ("video", video_topics),
        ("sensors", sensor_topics),
        ("actions", action_topics),
    )
    chosen = {slot: _topics_for(bag, summary, slot, explicit, types) for slot, explicit in requested}
    if canonical_video_topic is not None:
        if canonical_video_topic not in chosen["video"]:
            raise AdapterError(
                f"{bag}: canonical_video_topic {canonical_video_topic!r} is not among the video topics "
                f"{chosen['video']}"
            )
        chosen["video"] = [canonical_video_topic]
    np = numpy("ros2")
    with OpenBag(bag) as reader:
        run = _Pass(bag, reader, {str(c.topic): c for c in reader.connections}, out, np)
        video, fps, video_start = run.video(chosen["video"])
        sensors = run.series(chosen["sensors"], "sensors")
        actions = run.series(chosen["actions"], "actions")
    skipped = run.skipped
    metadata: dict[str, Any] = {"adapter": "ros2", "bag": str(bag)}
    if video_start is not None:
        # Our addition: where the video starts on the NPZ's absolute clock (the first camera frame).
        metadata["video_start_t_ns"] = video_start
    if skipped:
        metadata["skipped_topics"] = skipped
    return EncodedBag(
        output_dir=out,
        summary=summary,
        video=video,
        sensors=sensors,
        actions=actions,
        duration_s=summary.duration_s,
        fps=fps,
        metadata=metadata,
    )


def upload_bag(
    path: str | Path,
    *,
    client: Client | None = None,
    name: str | None = None,
    source: EpisodeSource = "real",
    robot: str | None = None,
    policy_version: str | None = None,
    env_version: str | None = None,
    git_sha: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    status: EpisodeFinalStatus = "ready",
    video_topics: Sequence[str] | None = None,
    sensor_topics: Sequence[str] | None = None,
    action_topics: Sequence[str] | None = None,
    canonical_video_topic: str | None = None,
    output_dir: str | Path | None = None,
    keep_artifacts: bool = False,
) -> Episode:
    """Encode the bag (``encode_bag``), upload it as one episode and finalize it with ``status``.

    The files go to ``output_dir`` (kept) or a temporary folder (removed unless ``keep_artifacts``). The
    name defaults to the bag folder's name. A failed upload leaves the episode ``failed`` with the reason.
    """
    require_rosbags()
    bag = bag_dir(path)
    with work_dir(output_dir, keep_artifacts=keep_artifacts, prefix="robotrace-ros2-") as work:
        encoded = encode_bag(
            bag,
            work,
            video_topics=video_topics,
            sensor_topics=sensor_topics,
            action_topics=action_topics,
            canonical_video_topic=canonical_video_topic,
        )
        facts = RunFacts(source, robot, policy_version, env_version, git_sha, seed, metadata)
        return upload_encoded(
            client=client,
            name=name or bag.name,
            facts=facts,
            encoded=encoded,
            files=encoded.artifacts(),
            status=status,
        )


def _topics_for(
    bag: Path, summary: BagSummary, slot: Slot, explicit: Sequence[str] | None, types: Mapping[str, str]
) -> list[str]:
    if explicit is None:
        return [topic.topic for topic in summary.topics_by_slot(slot)]
    if isinstance(explicit, str):
        raise AdapterError(f"{bag}: {slot} topics must be a list of topic names, not the string {explicit!r}")
    missing = [topic for topic in explicit if topic not in types]
    if missing:
        raise AdapterError(f"{bag}: no topic {missing[0]!r} in the bag (it has {', '.join(sorted(types))})")
    return list(explicit)


class _Pass:
    """One read of an open bag: the slots' files, and the notes on what was left out."""

    def __init__(self, bag: Path, reader: Any, connections: Mapping[str, Any], out: Path, np: Any) -> None:
        self.bag = bag
        self.reader = reader
        self.connections = connections
        self.out = out
        self.np = np
        self.skipped: list[dict[str, str]] = []

    def series(self, topics: Sequence[str], slot: Slot) -> BagArtifact | None:
        """The topics' messages as ``<topic>/<field>`` arrays (step on axis 0) and ``<topic>/_t_ns``."""
        arrays: dict[str, Any] = {}
        kept: list[str] = []
        for topic in topics:
            connection = self.connections[topic]
            flatten = FLATTENERS.get(str(connection.msgtype))
            if flatten is None:
                reason = f"message type {connection.msgtype} is not supported"
                self.skipped.append({"topic": topic, "reason": reason})
                continue
            times: list[int] = []
            rows: list[dict[str, Any]] = []
            try:
                for _, timestamp, raw in self.reader.messages(connections=[connection]):
                    rows.append(flatten(self.np, self.reader.deserialize(raw, connection.msgtype)))
                    times.append(int(timestamp))
            except Exception as exc:  # a corrupt message: the topic is left out, the rest of the bag kept
                self.skipped.append(
                    {"topic": topic, "reason": f"message {len(rows)} could not be read: {exc}"}
                )
                continue
            columns = self._columns(topic, rows)
            if not columns:
                if rows:
                    self.skipped.append(
                        {"topic": topic, "reason": "no field had the same shape in every message"}
                    )
                continue
            arrays[f"{topic}/_t_ns"] = self.np.asarray(times, dtype=self.np.int64)
            arrays.update({f"{topic}/{name}": values for name, values in columns.items()})
            kept.append(topic)
        if not arrays:
            return None
        target = self.out / f"{slot}.npz"
        self.np.savez(target, **arrays)
        return BagArtifact(slot=slot, path=target, bytes_size=target.stat().st_size, topics=kept)

    def _columns(self, topic: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Each field stacked over the messages; a field whose shape changes (a joint list that grows) is left
        out with a note rather than padded, which would invent values."""
        columns: dict[str, Any] = {}
        if not rows:
            return columns
        for name in sorted({key for row in rows for key in row}):
            values = [row.get(name) for row in rows]
            shapes = {self.np.shape(value) for value in values if value is not None}
            if any(value is None for value in values) or len(shapes) != 1:
                self.skipped.append(
                    {"topic": topic, "reason": f"field {name!r} changes shape or is missing mid-bag"}
                )
                continue
            columns[name] = self.np.stack(values)
        return columns

    def video(self, topics: Sequence[str]) -> tuple[BagArtifact | None, float | None, int | None]:
        """The cameras into one MP4, streamed frame by frame; (file, fps, first frame's time)."""
        cameras = []
        for topic in topics:
            msgtype = str(self.connections[topic].msgtype)
            if msgtype not in IMAGE_TYPES:
                self.skipped.append(
                    {"topic": topic, "reason": f"the video slot reads Image topics, not {msgtype}"}
                )
            elif int(self.connections[topic].msgcount or 0) > 0:
                cameras.append(topic)
        if not cameras:
            return None, None, None
        cameras.sort()
        fps = self._fps(self.connections[cameras[0]])
        av = require("av", extra="ros2,video", purpose="Encoding ROS 2 camera topics")
        decoder = CompressedDecoder(av)
        queues: dict[str, deque[Any]] = {topic: deque() for topic in cameras}
        kinds: dict[str, str] = {}
        first_time: int | None = None
        target = self.out / "video.mp4"
        with Mp4Writer(target, fps=fps, extra="ros2") as writer:
            for connection, timestamp, raw in self.reader.messages(
                connections=[self.connections[t] for t in cameras]
            ):
                topic = str(connection.topic)
                msg = self._camera_message(topic, connection.msgtype, raw)
                kind = image_kind(str(connection.msgtype), msg)
                if kinds.setdefault(topic, kind) != kind:
                    raise AdapterError(
                        f"{self.bag}: camera topic {topic} mixes image encodings ({kinds[topic]}, then "
                        f"{kind}); leave it out with video_topics=[...]"
                    )
                queues[topic].append(self._frame(topic, connection.msgtype, msg, decoder))
                first_time = int(timestamp) if first_time is None else first_time
                if all(queues.values()):  # one frame from every camera: one tiled frame
                    self._write(writer, [queues[t].popleft() for t in cameras])
        if writer.frames == 0:
            target.unlink(missing_ok=True)
            return None, None, None
        return (
            BagArtifact(slot="video", path=target, bytes_size=target.stat().st_size, topics=cameras),
            fps,
            first_time,
        )

    def _camera_message(self, topic: str, msgtype: str, raw: bytes) -> Any:
        try:
            return self.reader.deserialize(raw, msgtype)
        except Exception as exc:
            raise AdapterError(
                f"{self.bag}: a message on camera topic {topic} could not be read ({exc})"
            ) from exc

    def _frame(self, topic: str, msgtype: str, msg: Any, decoder: CompressedDecoder) -> Any:
        try:
            return decoder.frame(msg) if msgtype.endswith("/CompressedImage") else raw_frame(self.np, msg)
        except ImageError as exc:
            raise AdapterError(f"{self.bag}: camera topic {topic}: {exc}") from exc

    def _write(self, writer: Mp4Writer, frames: Sequence[Any]) -> None:
        height = max(frame.shape[0] for frame in frames)
        # Cameras of different heights: black below the shorter ones.
        cells = [self.np.pad(f, ((0, height - f.shape[0]), (0, 0), (0, 0))) for f in frames]
        try:
            writer.add(cells[0] if len(cells) == 1 else self.np.hstack(cells))
        except FrameError as exc:
            raise AdapterError(f"{self.bag}: the camera frames change size mid-bag: {exc}") from exc

    def _fps(self, connection: Any) -> float:
        """The camera's rate from the median gap of its timestamps (no message is decoded)."""
        stamps = self.np.asarray(
            [t for _, t, _ in self.reader.messages(connections=[connection])], dtype=self.np.int64
        )
        gaps = self.np.diff(stamps)
        gaps = gaps[gaps > 0]
        if gaps.size == 0:
            return _FALLBACK_FPS
        fps = 1e9 / float(self.np.median(gaps))
        return round(fps, 2) if math.isfinite(fps) and fps > 0 else _FALLBACK_FPS
