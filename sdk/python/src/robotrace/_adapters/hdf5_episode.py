"""HDF5 trajectories into episode files (``encode_episode``) and episodes (``upload_episode``,
``upload_dataset``). Times are relative (from 0, ``1/fps`` apart): these files keep no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from .._client import Client
from .._episode import Episode
from .._payload import EpisodeFinalStatus, EpisodeSource
from .artifacts import EncodedArtifact, prepare_dir, steady_times_ns
from .deps import MissingExtraError, numpy
from .errors import AdapterError
from .hdf5_layout import (
    FileSummary,
    classify_dataset,
    datasets_of,
    h5py_module,
    is_image_stack,
    open_file,
    scan_file,
)
from .upload import RunFacts, upload_each, upload_encoded, work_dir
from .video import Mp4Writer

ImageColor = Literal["rgb", "bgr"]


@dataclass
class Hdf5Artifact(EncodedArtifact):
    """One written file, with the datasets that went into it (for ``video``: the camera names)."""

    columns: list[str] = field(default_factory=list)


@dataclass
class EncodedEpisode:
    """What ``encode_episode`` wrote for one trajectory, and the episode fields it worked out."""

    output_dir: Path
    summary: FileSummary
    episode_key: Optional[str]  # noqa: UP045 - dataclass fields are read on 3.9 too
    video: Optional[Hdf5Artifact] = None  # noqa: UP045
    sensors: Optional[Hdf5Artifact] = None  # noqa: UP045
    actions: Optional[Hdf5Artifact] = None  # noqa: UP045
    duration_s: Optional[float] = None  # noqa: UP045
    fps: Optional[float] = None  # noqa: UP045
    metadata: dict[str, Any] = field(default_factory=dict)


def encode_episode(
    path: str | Path,
    output_dir: str | Path,
    *,
    episode_index: int = 0,
    fps: float | None = None,
    canonical_camera: str | None = None,
    image_color: ImageColor = "rgb",
    summary: FileSummary | None = None,
) -> EncodedEpisode:
    """Write one trajectory's cameras to ``video.mp4`` (side by side when several, unless
    ``canonical_camera`` picks one), its observations to ``sensors.npz`` and its actions to ``actions.npz``
    (``<dataset>/value`` as float32 steps x width, ``<dataset>/_t_ns``). Nothing is uploaded.

    ``image_color="bgr"`` for files that store BGR pixels. Rewards, dones and success become
    ``metadata["hdf5_episode_outcome"]`` (last values, and ``reward_sum``).
    """
    if image_color not in ("rgb", "bgr"):
        raise AdapterError(f"image_color must be 'rgb' or 'bgr'; got {image_color!r}")
    summary = summary if summary is not None else scan_file(path, fps=fps)
    ref = summary.episode(episode_index)
    out = prepare_dir(output_dir)
    h5py, np = h5py_module(), numpy("hdf5")
    rate = summary.fps if summary.fps and summary.fps > 0 else 30.0
    metadata: dict[str, Any] = {
        "adapter": "hdf5",
        "hdf5_layout": summary.layout,
        "hdf5_source": Path(summary.path).name,
        "hdf5_episode_index": episode_index,
        "hdf5_trajectory_length": ref.length,
    }
    for key, value in (
        ("hdf5_episode_key", ref.key),
        ("hdf5_robot_type", summary.robot_type),
        ("hdf5_env", summary.env_name),
    ):
        if value is not None:
            metadata[key] = value
    if summary.fps_assumed:
        metadata["fps_assumed"] = True
    skipped: list[dict[str, Any]] = []
    with open_file(h5py, summary.path) as handle:
        group = handle if ref.key is None else _trajectory(handle, ref.key, summary.path, h5py)
        names = [n for n in datasets_of(group, h5py) if classify_dataset(n).slot != "internal"]
        slots = {n: classify_dataset(n).slot for n in names}
        cameras = [n for n in names if slots[n] == "video" and is_image_stack(group[n])]
        if canonical_camera is not None:
            if canonical_camera not in cameras:
                raise AdapterError(
                    f"{summary.path}: no camera {canonical_camera!r}; the cameras are {cameras}"
                )
            cameras = [canonical_camera]
        # An "image" dataset that is not a pixel stack (a flag, a vector) is still data: sensors.
        sensors = [
            n
            for n in names
            if slots[n] == "sensors" or (slots[n] == "video" and not is_image_stack(group[n]))
        ]
        actions = [n for n in names if slots[n] == "actions"]
        reader = _Reader(summary.path, group, np, rate, skipped)
        video = reader.video(cameras, out / "video.mp4", image_color)
        sensors_file = reader.arrays(sensors, "sensors", out / "sensors.npz")
        actions_file = reader.arrays(actions, "actions", out / "actions.npz")
        outcome = reader.outcome([n for n in names if slots[n] == "episode_meta"])
    if outcome:
        metadata["hdf5_episode_outcome"] = outcome
    if skipped:
        metadata["skipped_datasets"] = skipped
    return EncodedEpisode(
        output_dir=out,
        summary=summary,
        episode_key=ref.key,
        video=video,
        sensors=sensors_file,
        actions=actions_file,
        duration_s=ref.length / rate if ref.length > 0 else None,
        fps=rate,
        metadata=metadata,
    )


def upload_episode(
    path: str | Path,
    *,
    episode_index: int = 0,
    client: Client | None = None,
    name: str | None = None,
    source: EpisodeSource = "replay",
    robot: str | None = None,
    policy_version: str | None = None,
    env_version: str | None = None,
    git_sha: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    status: EpisodeFinalStatus = "ready",
    fps: float | None = None,
    canonical_camera: str | None = None,
    image_color: ImageColor = "rgb",
    summary: FileSummary | None = None,
    output_dir: str | Path | None = None,
    keep_artifacts: bool = False,
) -> Episode:
    """Encode one trajectory (``encode_episode``), upload it as an episode and finalize it with ``status``.

    ``robot`` defaults to the file's robot type; the name to the file's stem (and ``#<index>`` for robomimic).
    A failed upload leaves the episode ``failed`` with the reason.
    """
    summary = summary if summary is not None else scan_file(path, fps=fps)
    with work_dir(output_dir, keep_artifacts=keep_artifacts, prefix="robotrace-hdf5-") as work:
        encoded = encode_episode(
            path,
            work,
            episode_index=episode_index,
            fps=fps,
            canonical_camera=canonical_camera,
            image_color=image_color,
            summary=summary,
        )
        facts = RunFacts(
            source, robot or summary.robot_type, policy_version, env_version, git_sha, seed, metadata
        )
        return upload_encoded(
            client=client,
            name=name or _default_name(summary, episode_index),
            facts=facts,
            encoded=encoded,
            files=[encoded.video, encoded.sensors, encoded.actions],
            status=status,
        )


def upload_dataset(
    path: str | Path,
    *,
    client: Client | None = None,
    name_template: str | None = None,
    source: EpisodeSource = "replay",
    robot: str | None = None,
    policy_version: str | None = None,
    env_version: str | None = None,
    git_sha: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    status: EpisodeFinalStatus = "ready",
    fps: float | None = None,
    canonical_camera: str | None = None,
    image_color: ImageColor = "rgb",
    episode_indices: Iterable[int] | None = None,
    on_progress: Any | None = None,
    stop_on_error: bool = False,
) -> list[Episode]:
    """Upload every trajectory (or those in ``episode_indices``), one episode each, one after another.

    ``name_template`` is formatted with ``source`` (the file stem), ``episode_index`` and ``episode_key``.
    ``on_progress(done, total, episode, error)`` is called after each; a failure is reported there and the
    walk goes on, unless ``stop_on_error``. Returns the episodes uploaded.
    """
    summary = scan_file(path, fps=fps)
    indices = list(range(summary.total_episodes)) if episode_indices is None else list(episode_indices)

    def upload_one(index: int) -> Episode:
        return upload_episode(
            path,
            episode_index=index,
            client=client,
            name=_name_from(name_template, summary, index),
            source=source,
            robot=robot,
            policy_version=policy_version,
            env_version=env_version,
            git_sha=git_sha,
            seed=seed,
            metadata=metadata,
            status=status,
            fps=fps,
            canonical_camera=canonical_camera,
            image_color=image_color,
            summary=summary,
        )

    return upload_each(indices, upload_one, on_progress=on_progress, stop_on_error=stop_on_error)


def _trajectory(handle: Any, key: str, path: str, h5py: Any) -> Any:
    data = handle.get("data")
    if not isinstance(data, h5py.Group) or not isinstance(data.get(key), h5py.Group):
        raise AdapterError(f"{path}: no trajectory group data/{key}")
    return data[key]


def _default_name(summary: FileSummary, index: int) -> str:
    stem = Path(summary.path).stem
    return stem if summary.layout == "single" else f"{stem} #{index}"


def _name_from(template: str | None, summary: FileSummary, index: int) -> str:
    if template is None:
        return _default_name(summary, index)
    try:
        return template.format(
            source=Path(summary.path).stem, episode_index=index, episode_key=summary.episode(index).key
        )
    except (KeyError, IndexError, ValueError):
        return _default_name(summary, index)


class _Reader:
    """Reads one trajectory group's datasets into the episode's files, noting what it leaves out."""

    def __init__(self, path: str, group: Any, np: Any, fps: float, skipped: list[dict[str, Any]]) -> None:
        self.path, self.group, self.np, self.fps, self.skipped = path, group, np, fps, skipped

    def arrays(
        self, names: Sequence[str], slot: Literal["sensors", "actions"], target: Path
    ) -> Hdf5Artifact | None:
        np = self.np
        arrays: dict[str, Any] = {}
        used: list[str] = []
        for name in names:
            try:
                values = np.asarray(self.group[name][()])
                if values.ndim == 0 or values.shape[0] == 0:
                    self.skipped.append({"dataset": name, "reason": "empty or scalar dataset"})
                    continue
                flat = values.reshape(values.shape[0], -1).astype(np.float32)
            except (TypeError, ValueError, OSError) as exc:  # strings, compound types, a damaged chunk
                self.skipped.append({"dataset": name, "reason": f"not numeric or unreadable: {exc}"})
                continue
            arrays[f"{name}/value"] = flat
            arrays[f"{name}/_t_ns"] = steady_times_ns(np, flat.shape[0], self.fps)
            used.append(name)
        if not arrays:
            return None
        np.savez(target, **arrays)
        return Hdf5Artifact(slot=slot, path=target, bytes_size=target.stat().st_size, columns=used)

    def video(self, cameras: Sequence[str], target: Path, color: ImageColor) -> Hdf5Artifact | None:
        if not cameras:
            return None
        try:
            writer = Mp4Writer(target, fps=self.fps, extra="hdf5")
        except MissingExtraError as exc:
            # Like the official adapter: the sensors and actions still go up; the note says what to install.
            self.skipped.append({"datasets": list(cameras), "reason": str(exc)})
            return None
        stacks = [self.group[name] for name in cameras]
        height = max(int(stack.shape[1]) for stack in stacks)
        np = self.np
        with writer:
            for step in range(min(int(stack.shape[0]) for stack in stacks)):
                cells = []
                for stack in stacks:
                    frame = np.asarray(stack[step], dtype=np.uint8)
                    if frame.shape[2] == 1:
                        frame = np.repeat(frame, 3, axis=2)
                    frame = frame[:, :, 2::-1] if color == "bgr" else frame[:, :, :3]
                    cells.append(np.pad(frame, ((0, height - frame.shape[0]), (0, 0), (0, 0))))
                writer.add(cells[0] if len(cells) == 1 else np.hstack(cells))
        labels = [name.rsplit("/", 1)[-1] for name in cameras]
        return Hdf5Artifact(slot="video", path=target, bytes_size=target.stat().st_size, columns=labels)

    def outcome(self, names: Sequence[str]) -> dict[str, Any]:
        """The last value of each outcome dataset (did it finish, succeed?) and the sum of the rewards."""
        outcome: dict[str, Any] = {}
        for name in names:
            try:
                values = self.np.asarray(self.group[name][()]).reshape(-1)
            except (TypeError, ValueError, OSError):
                continue
            if values.size == 0 or values.dtype.kind not in "biuf":
                continue
            leaf = name.rsplit("/", 1)[-1]
            outcome[leaf] = values[-1].item()
            if leaf in ("reward", "rewards"):
                outcome["reward_sum"] = float(values.astype(self.np.float64).sum())
        return outcome
