"""HDF5 demonstration files: which slot each dataset goes to, and what a file holds (``scan_file``).

Two layouts are read: robomimic (``data/demo_N`` groups, one trajectory each, the env in
``data.attrs["env_args"]``) and ALOHA / ACT (one trajectory per file: ``/action`` and ``/observations``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from .deps import require
from .errors import AdapterError

Slot = Literal["video", "sensors", "actions", "episode_meta", "internal"]

_BOOKKEEPING = frozenset({"timestamp", "timestamps", "frame_index", "episode_index", "index"})
_OUTCOME = frozenset(
    {"reward", "rewards", "done", "dones", "success", "successes", "discount", "terminated", "truncated"}
)
_IMAGE_HINTS = ("image", "rgb", "depth")
_ACTION_NAMES = ("action", "actions")
_OBS_GROUPS = ("obs", "observations")
DEFAULT_FPS = 30.0


@dataclass(frozen=True)
class DatasetClass:
    """The slot picked for one dataset path (relative to its trajectory), and the rule that picked it."""

    name: str
    slot: Slot
    reason: Literal["exact", "segment", "leaf", "default"]


def classify_dataset(name: str) -> DatasetClass:
    """Bookkeeping (``timestamp``, ``index``...) is dropped; ``action*`` goes to actions; rewards, dones and
    success become the episode's outcome; image stacks (an ``images`` segment, or ``image`` / ``rgb`` /
    ``depth`` in the name) go to video; everything else to sensors. A pure function: no I/O."""
    segments = [part.lower() for part in name.split("/") if part]
    leaf = segments[-1] if segments else name.lower()
    root = segments[0] if segments else ""
    if leaf in _BOOKKEEPING:
        return DatasetClass(name, "internal", "exact")
    if leaf.startswith("action") or root == "action" or root.startswith("action_"):
        return DatasetClass(name, "actions", "leaf")
    if leaf in _OUTCOME:
        return DatasetClass(name, "episode_meta", "exact")
    if "images" in segments:
        return DatasetClass(name, "video", "segment")
    if any(hint in leaf for hint in _IMAGE_HINTS):
        return DatasetClass(name, "video", "leaf")
    return DatasetClass(name, "sensors", "default")


@dataclass
class EpisodeRef:
    """One trajectory: its group under ``data`` (robomimic) or None (the whole file), steps, 0-based index."""

    key: Optional[str]  # noqa: UP045 - dataclass fields are read on 3.9 too
    length: int
    index: int


@dataclass
class FileSummary:
    """What an HDF5 file holds, found without reading a frame."""

    path: str
    layout: str
    episodes: list[EpisodeRef] = field(default_factory=list)
    dataset_names: list[str] = field(default_factory=list)
    camera_names: list[str] = field(default_factory=list)
    fps: Optional[float] = None  # noqa: UP045
    fps_assumed: bool = True
    robot_type: Optional[str] = None  # noqa: UP045
    env_name: Optional[str] = None  # noqa: UP045

    @property
    def total_episodes(self) -> int:
        return len(self.episodes)

    def episode(self, index: int) -> EpisodeRef:
        """The trajectory at a 0-based index; AdapterError when there is none."""
        for ref in self.episodes:
            if ref.index == index:
                return ref
        raise AdapterError(
            f"{self.path}: no trajectory {index}; the file has {self.total_episodes} "
            f"(0..{self.total_episodes - 1})"
        )

    def report(self) -> str:
        lines = [self.path, f"  layout: {self.layout}", f"  trajectories: {self.total_episodes}"]
        if self.fps is not None:
            lines.append(f"  fps: {self.fps:g}{' (assumed)' if self.fps_assumed else ''}")
        for label, value in (("robot_type", self.robot_type), ("env", self.env_name)):
            if value:
                lines.append(f"  {label}: {value}")
        if self.camera_names:
            lines.append(f"  cameras: {', '.join(self.camera_names)}")
        if self.dataset_names:
            lines.append(f"  datasets: {', '.join(self.dataset_names)}")
        return "\n".join(lines)


def h5py_module() -> Any:
    return require("h5py", extra="hdf5", purpose="The HDF5 adapter")


def open_file(h5py: Any, path: str | Path) -> Any:
    """The file opened read-only; a missing or corrupt file is one AdapterError line naming it."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise AdapterError(f"{file}: no such HDF5 file")
    try:
        return h5py.File(str(file), "r")
    except OSError as exc:
        raise AdapterError(f"{file}: not a readable HDF5 file ({' '.join(str(exc).split())})") from exc


def scan_file(path: str | Path, *, fps: float | None = None) -> FileSummary:
    """Describe the file at ``path``: its layout, trajectories, datasets and cameras, robot and env.

    ``fps`` is the capture rate; without it the file's own (robomimic ``control_freq``, an ``fps``
    attribute) is used, else 30 with ``fps_assumed``.
    """
    h5py = h5py_module()
    with open_file(h5py, path) as handle:
        file = Path(handle.filename).resolve()
        data = handle.get("data")
        demos = sorted(
            (key for key in data if isinstance(data[key], h5py.Group))
            if isinstance(data, h5py.Group)
            else [],
            key=_demo_order,
        )
        if demos:
            episodes = [EpisodeRef(key, _length(data[key], h5py), index) for index, key in enumerate(demos)]
            first = data[demos[0]]
            env_name, robot_type, file_fps = _robomimic_env(data.attrs.get("env_args"))
            layout = "robomimic"
        elif any(isinstance(handle.get(n), h5py.Dataset) for n in _ACTION_NAMES) or any(
            isinstance(handle.get(n), h5py.Group) for n in _OBS_GROUPS
        ):
            episodes = [EpisodeRef(None, _length(handle, h5py), 0)]
            first = handle
            env_name, robot_type, file_fps = _single_attrs(handle.attrs)
            layout = "single"
        else:
            raise AdapterError(
                f"{file}: neither a robomimic file (data/demo_N groups) nor an ALOHA-style one "
                "(/action and /observations)"
            )
        names, cameras = _schema(first, h5py)
    if fps is not None and fps > 0:
        chosen, assumed = float(fps), False
    elif file_fps is not None:
        chosen, assumed = file_fps, False
    else:
        chosen, assumed = DEFAULT_FPS, True
    return FileSummary(
        path=str(file),
        layout=layout,
        episodes=episodes,
        dataset_names=names,
        camera_names=cameras,
        fps=chosen,
        fps_assumed=assumed,
        robot_type=robot_type,
        env_name=env_name,
    )


def is_image_stack(dataset: Any) -> bool:
    """A (T, H, W, C) stack of 8-bit pixels with 1, 3 or 4 channels."""
    shape = tuple(getattr(dataset, "shape", ()))
    return len(shape) == 4 and shape[-1] in (1, 3, 4) and getattr(dataset.dtype, "itemsize", 0) == 1


def datasets_of(group: Any, h5py: Any) -> list[str]:
    names: list[str] = []
    group.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
    return sorted(names)


def _schema(group: Any, h5py: Any) -> tuple[list[str], list[str]]:
    names = datasets_of(group, h5py)
    cameras = [n for n in names if classify_dataset(n).slot == "video" and is_image_stack(group[n])]
    return names, cameras


def _demo_order(key: str) -> tuple[int, str]:
    # demo_10 after demo_2.
    tail = key.rpartition("_")[2]
    return (int(tail), key) if tail.isdigit() else (-1, key)


def _length(group: Any, h5py: Any) -> int:
    samples = group.attrs.get("num_samples")
    if samples is not None and int(samples) > 0:
        return int(samples)
    for name in _ACTION_NAMES:
        dataset = group.get(name)
        if isinstance(dataset, h5py.Dataset) and dataset.ndim >= 1:
            return int(dataset.shape[0])
    for obs in _OBS_GROUPS:
        observations = group.get(obs)
        if isinstance(observations, h5py.Group):
            for key in observations:
                dataset = observations[key]
                if isinstance(dataset, h5py.Dataset) and dataset.ndim >= 1:
                    return int(dataset.shape[0])
    return 0


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) and value else None


def _robomimic_env(raw: Any) -> tuple[str | None, str | None, float | None]:
    """(env name, robot, control rate) from robomimic's ``env_args`` JSON; Nones when it is absent or bad."""
    text = _text(raw)
    try:
        env_args = json.loads(text) if text else None
    except ValueError:
        env_args = None
    if not isinstance(env_args, dict):
        return None, None, None
    found = env_args.get("env_kwargs")
    kwargs: dict[str, Any] = found if isinstance(found, dict) else {}
    robots = kwargs.get("robots")
    robot = robots[0] if isinstance(robots, list) and robots else robots
    rate = kwargs.get("control_freq")
    fps = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0 else None
    return _text(env_args.get("env_name")), _text(robot) if robot is not None else None, fps


def _single_attrs(attrs: Any) -> tuple[str | None, str | None, float | None]:
    """(env, robot, fps) from an ALOHA-style file's root attributes: ``robot_type`` (ours), else ALOHA's
    ``sim`` flag as "sim" / "real" (what the official adapter records); ``fps``; ``env`` / ``task``."""
    robot = _text(attrs.get("robot_type"))
    sim = attrs.get("sim")
    if robot is None and sim is not None:
        robot = "sim" if bool(sim) else "real"
    rate = attrs.get("fps")
    try:
        fps = float(rate) if rate is not None and float(rate) > 0 else None
    except (TypeError, ValueError):
        fps = None
    return _text(attrs.get("env")) or _text(attrs.get("task")), robot, fps
