"""ROS 2 live recording (``record``): subscribe to topics while the robot runs, write what arrives into a
rosbag2 folder (rosbags' writer, sqlite3), and on exit send that bag through ``encode_bag`` / upload as one
episode. The bag half is plain Python; the subscribing half needs ``rclpy`` from a sourced ROS 2 install
(it is not on PyPI in a form that matches a robot's ROS 2, so it is no extra of ours).
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Optional

from .._client import Client
from .._episode import Episode
from .._payload import EpisodeFinalStatus, EpisodeSource
from .deps import MissingExtraError, require
from .errors import AdapterError
from .ros2_bag import encode_bag
from .ros2_topics import BagSummary, scan_bag
from .upload import merged_metadata, upload_artifacts

# $ROS_DISTRO -> the rosbags type store of that distro; unknown or unset falls back to humble (LTS).
_STORES = {"humble": "ROS2_HUMBLE", "iron": "ROS2_IRON", "jazzy": "ROS2_JAZZY", "kilted": "ROS2_KILTED"}
_FALLBACK_DISTRO = "humble"


class BagWriter:
    """A rosbag2 folder written from any thread: messages (already CDR, what
    ``rclpy.serialization.serialize_message`` gives) are queued and written by one thread of its own, since
    the sqlite3 storage may only be used by the thread that opened it. One connection per topic, made on
    its first message."""

    def __init__(self, path: Path, *, ros_distro: str | None = None) -> None:
        rosbag2 = require("rosbags.rosbag2", extra="ros2", purpose="ROS 2 recording")
        typesys = require("rosbags.typesys", extra="ros2", purpose="ROS 2 recording")
        distro = (ros_distro or os.environ.get("ROS_DISTRO", "")).strip().lower()
        self.ros_distro = distro if distro in _STORES else _FALLBACK_DISTRO
        self._types = typesys.get_typestore(getattr(typesys.Stores, _STORES[self.ros_distro]))
        self._writer = rosbag2.Writer(path, version=rosbag2.Writer.VERSION_LATEST)
        self._queue: queue.Queue[tuple[str, str, int, bytes] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._failure: BaseException | None = None
        self.message_count = 0
        opened = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(opened,), name="robotrace-bag-writer", daemon=True
        )
        self._thread.start()
        opened.wait()
        if self._failure is not None:
            raise AdapterError(f"{path}: cannot write a rosbag2 there ({self._failure})") from self._failure

    def write_message(self, *, topic: str, typename: str, t_ns: int, raw_bytes: bytes) -> None:
        """Queue one message (``typename`` like ``sensor_msgs/msg/Imu``); ignored once closed."""
        with self._lock:
            if self._closed:
                return
            self.message_count += 1
            self._queue.put((topic, typename, int(t_ns), bytes(raw_bytes)))

    def close(self) -> None:
        """Write what is queued and close the bag; raises what went wrong while writing, if anything."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join()
        if self._failure is not None:
            raise AdapterError(
                f"the recording's bag could not be written ({self._failure})"
            ) from self._failure

    def _run(self, opened: threading.Event) -> None:
        try:
            self._writer.open()
        except Exception as exc:
            self._failure = exc
            opened.set()
            return
        opened.set()
        connections: dict[str, Any] = {}
        try:
            while (item := self._queue.get()) is not None:
                topic, typename, t_ns, raw = item
                if topic not in connections:
                    connections[topic] = self._writer.add_connection(topic, typename, typestore=self._types)
                self._writer.write(connections[topic], t_ns, raw)
        except Exception as exc:  # reported by close(); later messages are dropped
            self._failure = exc
        finally:
            self._writer.close()


class _Subscriber:
    """The topics subscribed with rclpy on a node of our own, spun on a background thread; each message is
    stamped with the node's clock (absolute nanoseconds) and handed to the writer."""

    def __init__(self, topics: Sequence[str], writer: BagWriter) -> None:
        self._topics, self._writer = topics, writer
        self._node: Any = None
        self._executor: Any = None
        self._thread: threading.Thread | None = None
        self._owns_context = False
        self._rclpy: Any = None

    def start(self) -> None:
        try:
            rclpy = require("rclpy", extra="ros2", purpose="ros2.record()")
            executors = require("rclpy.executors", extra="ros2", purpose="ros2.record()")
            qos = require("rclpy.qos", extra="ros2", purpose="ros2.record()")
            serialization = require("rclpy.serialization", extra="ros2", purpose="ros2.record()")
            utilities = require("rosidl_runtime_py.utilities", extra="ros2", purpose="ros2.record()")
        except MissingExtraError as exc:
            raise MissingExtraError(
                "ros2.record() needs rclpy from a ROS 2 installation: source it first "
                "(source /opt/ros/<distro>/setup.bash); reading recorded bags (upload_bag) does not"
            ) from exc
        self._rclpy = rclpy
        if not rclpy.ok():
            rclpy.init()
            self._owns_context = True
        node = rclpy.create_node("robotrace_recorder", enable_rosout=False, use_global_arguments=False)
        self._node = node
        advertised = dict(node.get_topic_names_and_types())
        for topic in self._topics:
            types = advertised.get(topic) or []
            if not types:
                raise AdapterError(
                    f"topic {topic} has no publisher yet (advertised: {', '.join(sorted(advertised))}); "
                    "start the robot's nodes before ros2.record()"
                )
            typename = types[0]
            node.create_subscription(
                utilities.get_message(typename),
                topic,
                self._callback(topic, typename, serialization.serialize_message),
                qos.qos_profile_sensor_data,
            )
        self._executor = executors.MultiThreadedExecutor()
        self._executor.add_node(node)
        self._thread = threading.Thread(target=self._executor.spin, name="robotrace-ros2-record", daemon=True)
        self._thread.start()

    def _callback(self, topic: str, typename: str, serialize: Any) -> Any:
        def on_message(msg: Any) -> None:
            now = self._node.get_clock().now().nanoseconds
            self._writer.write_message(topic=topic, typename=typename, t_ns=now, raw_bytes=serialize(msg))

        return on_message

    def stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self._node is not None:
            self._node.destroy_node()
        if self._owns_context:
            self._rclpy.shutdown()


@dataclass
class LiveRecording:
    """A live recording, from ``record()``: a context manager (or ``start()`` / ``stop()``). After it ends,
    ``episode`` is the finalized episode (None when nothing arrived), ``bag_summary`` describes the bag."""

    bag_path: Path
    topics: tuple[str, ...]
    bag_summary: Optional[BagSummary] = None  # noqa: UP045 - dataclass fields are read on 3.9 too
    episode: Optional[Episode] = None  # noqa: UP045
    duration_s: Optional[float] = None  # noqa: UP045
    message_count: int = 0
    _writer: Optional[BagWriter] = field(default=None, repr=False, compare=False)  # noqa: UP045
    _source: Any = field(default=None, repr=False, compare=False)
    _client: Optional[Client] = field(default=None, repr=False, compare=False)  # noqa: UP045
    _episode_kwargs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _keep_bag: bool = field(default=False, repr=False, compare=False)
    _temp_dir: Optional[Path] = field(default=None, repr=False, compare=False)  # noqa: UP045
    _started: bool = field(default=False, repr=False, compare=False)
    _stopped: bool = field(default=False, repr=False, compare=False)

    def __enter__(self) -> LiveRecording:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.stop()
            return
        reason = f"{exc_type.__name__}: {exc}" if exc is not None and str(exc) else exc_type.__name__
        try:
            self.stop(status="failed", extra_metadata={"failure_reason": reason})
        except Exception:  # the block's own error explains the run; it keeps propagating
            return

    def start(self) -> None:
        """Subscribe and start recording in the background; a second call does nothing."""
        if self._started:
            return
        self._started = True
        if self._source is None and self._writer is not None:
            self._source = _Subscriber(self.topics, self._writer)
        if self._source is not None:
            self._source.start()

    def stop(
        self, *, status: EpisodeFinalStatus = "ready", extra_metadata: Mapping[str, Any] | None = None
    ) -> Episode | None:
        """Stop recording, then encode and upload the bag as one episode finalized with ``status``; returns
        it (None when no message arrived: nothing is uploaded). A second call returns the same episode."""
        if self._stopped:
            return self.episode
        self._stopped = True
        try:
            if self._source is not None:
                self._source.stop()
        finally:
            if self._writer is not None:
                self._writer.close()
                self.message_count = self._writer.message_count
        encoded_dir = self.bag_path.parent / f"{self.bag_path.name}_encoded"
        try:
            if self.message_count == 0:
                return None
            self.bag_summary = scan_bag(self.bag_path)
            self.duration_s = self.bag_summary.duration_s
            encoded = encode_bag(self.bag_path, encoded_dir, summary=self.bag_summary)
            live = {
                "ros2": {
                    "mode": "live",
                    "distro": self._writer.ros_distro if self._writer is not None else _FALLBACK_DISTRO,
                    "topics": list(self.topics),
                    "message_count": self.message_count,
                }
            }
            user = dict(self._episode_kwargs.get("metadata") or {})
            create = {key: value for key, value in self._episode_kwargs.items() if key != "metadata"}
            create["name"] = create.get("name") or self.bag_path.name
            create["fps"] = encoded.fps
            create["metadata"] = merged_metadata(
                {**live, **encoded.metadata}, {**user, **(extra_metadata or {})}
            )
            self.episode = upload_artifacts(
                client=self._client,
                create=create,
                files=encoded.artifacts(),
                status=status,
                duration_s=encoded.duration_s,
                fps=encoded.fps,
                final_metadata=extra_metadata,
            )
            return self.episode
        finally:
            shutil.rmtree(encoded_dir, ignore_errors=True)
            if not self._keep_bag:
                shutil.rmtree(self._temp_dir or self.bag_path, ignore_errors=True)


def record(
    *,
    topics: Sequence[str],
    client: Client | None = None,
    name: str | None = None,
    source: EpisodeSource = "real",
    robot: str | None = None,
    policy_version: str | None = None,
    env_version: str | None = None,
    git_sha: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    ros_distro: str | None = None,
    output_dir: str | Path | None = None,
    keep_bag: bool = False,
) -> LiveRecording:
    """A live recording of ``topics`` that becomes one episode when it ends::

        with ros2.record(topics=["/camera/image_raw", "/joint_states", "/cmd_vel"], name="warmup") as rec:
            drive_the_robot()
        print(rec.episode.url)

    Each topic must have a publisher when the recording starts (its type is read from the graph). The bag
    goes to ``output_dir`` (a folder that must not exist yet; kept) or a temporary folder (removed unless
    ``keep_bag``). An exception in the block finalizes the episode ``failed`` with the reason and keeps
    propagating. Needs rclpy from a sourced ROS 2 installation.
    """
    if isinstance(topics, str) or not topics:
        raise AdapterError("ros2.record() needs a list of one or more topics, e.g. topics=['/joint_states']")
    if output_dir is not None:
        bag = Path(output_dir).expanduser().resolve()
        if bag.exists():
            raise AdapterError(f"{bag}: already exists; a new bag needs a folder that does not exist yet")
        bag.parent.mkdir(parents=True, exist_ok=True)
        keep_bag = True
        temp_dir = None
    else:
        temp_dir = Path(tempfile.mkdtemp(prefix="robotrace-ros2-record-"))
        bag = temp_dir / "bag"
    recording = LiveRecording(bag_path=bag, topics=tuple(topics), _temp_dir=temp_dir)
    recording._writer = BagWriter(bag, ros_distro=ros_distro)
    recording._client = client
    recording._keep_bag = keep_bag
    recording._episode_kwargs = {
        "name": name,
        "source": source,
        "robot": robot,
        "policy_version": policy_version,
        "env_version": env_version,
        "git_sha": git_sha,
        "seed": seed,
        "metadata": dict(metadata) if metadata else None,
    }
    return recording
