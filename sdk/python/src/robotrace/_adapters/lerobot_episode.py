"""LeRobot episodes into episode files (``encode_episode``) and episodes (``upload_episode``,
``upload_dataset``). Times come from the ``timestamp`` column: seconds from the episode's start."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from .._client import Client
from .._episode import Episode
from .._payload import EpisodeFinalStatus, EpisodeSource
from .artifacts import prepare_dir, steady_times_ns
from .deps import numpy, require
from .errors import AdapterError
from .lerobot_files import EpisodeFiles, LerobotArtifact
from .lerobot_meta import (
    DatasetSummary,
    EpisodeMeta,
    classify_column,
    dataset_root,
    major_version,
    read_info,
    scan_dataset,
)
from .upload import RunFacts, upload_each, upload_encoded, work_dir


@dataclass
class EncodedEpisode:
    """What ``encode_episode`` wrote for one episode, and the episode fields it worked out."""

    output_dir: Path
    summary: DatasetSummary
    episode: EpisodeMeta
    video: Optional[LerobotArtifact] = None  # noqa: UP045 - dataclass fields are read on 3.9 too
    sensors: Optional[LerobotArtifact] = None  # noqa: UP045
    actions: Optional[LerobotArtifact] = None  # noqa: UP045
    duration_s: Optional[float] = None  # noqa: UP045
    fps: Optional[float] = None  # noqa: UP045
    metadata: dict[str, Any] = field(default_factory=dict)


def encode_episode(
    repo_id_or_path: str,
    episode_index: int,
    output_dir: str | Path,
    *,
    revision: str | None = None,
    canonical_camera: str | None = None,
    summary: DatasetSummary | None = None,
) -> EncodedEpisode:
    """Write one episode's cameras to ``video.mp4`` (side by side when several, unless ``canonical_camera``
    picks one), its ``observation.*`` columns to ``sensors.npz`` and ``action*`` columns to
    ``actions.npz`` (``<column>/value``, ``<column>/_t_ns``). ``next.*`` columns become
    ``metadata["lerobot_episode_outcome"]``. Nothing is uploaded; ``revision`` has no effect on a folder.
    """
    summary = summary if summary is not None else scan_dataset(repo_id_or_path, revision=revision)
    meta = summary.episode(episode_index)
    root = dataset_root(repo_id_or_path)
    info = read_info(root)
    out = prepare_dir(output_dir)
    np = numpy("lerobot")
    place = EpisodeFiles(root, info, episode_index, major_version(info, root))
    table = place.table()
    cameras = list(summary.camera_keys)
    if canonical_camera is not None:
        if canonical_camera not in cameras:
            raise AdapterError(f"{root}: no camera {canonical_camera!r}; the cameras are {cameras}")
        cameras = [canonical_camera]
    skipped: list[dict[str, Any]] = []
    present = set(table.column_names)
    for column in summary.feature_columns:
        if column not in present and classify_column(column).slot in ("sensors", "actions", "episode_meta"):
            skipped.append(
                {"column": column, "reason": "declared in meta/info.json but absent from the data"}
            )
    slots = {column: classify_column(column).slot for column in table.column_names}
    fps = summary.fps if summary.fps > 0 else None
    times = _times(table, np, fps, root)
    metadata: dict[str, Any] = {
        "adapter": "lerobot",
        "lerobot_repo_id": repo_id_or_path,
        "lerobot_codebase_version": summary.codebase_version,
        "lerobot_episode_index": episode_index,
        "lerobot_episode_length": meta.length,
    }
    if meta.tasks:
        metadata["lerobot_tasks"] = meta.tasks
    video = place.video(cameras, out / "video.mp4", fps or 30.0, skipped, np)
    npz_slots: tuple[Literal["sensors", "actions"], ...] = ("sensors", "actions")
    files = {
        slot: _arrays(
            table,
            [c for c, s in slots.items() if s == slot],
            slot=slot,
            out=out,
            times=times,
            skipped=skipped,
            np=np,
        )
        for slot in npz_slots
    }
    sensors, actions = files["sensors"], files["actions"]
    outcome = _outcome(table, [c for c, s in slots.items() if s == "episode_meta"], np)
    if outcome:
        metadata["lerobot_episode_outcome"] = outcome
    if skipped:
        metadata["skipped_columns"] = skipped
    return EncodedEpisode(
        output_dir=out,
        summary=summary,
        episode=meta,
        video=video,
        sensors=sensors,
        actions=actions,
        duration_s=meta.length / fps if fps else None,
        fps=fps,
        metadata=metadata,
    )


def upload_episode(
    repo_id_or_path: str,
    episode_index: int,
    *,
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
    revision: str | None = None,
    canonical_camera: str | None = None,
    summary: DatasetSummary | None = None,
    output_dir: str | Path | None = None,
    keep_artifacts: bool = False,
) -> Episode:
    """Encode one episode (``encode_episode``), upload it and finalize it with ``status``. The name defaults
    to ``"<dataset> #<index>"``; ``robot`` to the dataset's ``robot_type``. A failed upload leaves the
    episode ``failed`` with the reason."""
    summary = summary if summary is not None else scan_dataset(repo_id_or_path, revision=revision)
    with work_dir(output_dir, keep_artifacts=keep_artifacts, prefix="robotrace-lerobot-") as work:
        encoded = encode_episode(
            repo_id_or_path, episode_index, work, canonical_camera=canonical_camera, summary=summary
        )
        robot_type = read_info(dataset_root(repo_id_or_path)).get("robot_type")
        facts = RunFacts(
            source,
            robot or (str(robot_type) if robot_type else None),
            policy_version,
            env_version,
            git_sha,
            seed,
            metadata,
        )
        return upload_encoded(
            client=client,
            name=name or f"{repo_id_or_path} #{episode_index}",
            facts=facts,
            encoded=encoded,
            files=[encoded.video, encoded.sensors, encoded.actions],
            status=status,
        )


def upload_dataset(
    repo_id_or_path: str,
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
    revision: str | None = None,
    canonical_camera: str | None = None,
    episode_indices: Iterable[int] | None = None,
    on_progress: Any | None = None,
    stop_on_error: bool = False,
) -> list[Episode]:
    """Upload every episode (or those in ``episode_indices``), one after another. ``name_template`` is
    formatted with ``repo_id`` and ``episode_index``. ``on_progress(done, total, episode, error)`` follows
    each; a failure is reported there and the walk goes on, unless ``stop_on_error``."""
    summary = scan_dataset(repo_id_or_path, revision=revision)
    indices = (
        [e.episode_index for e in summary.episodes] if episode_indices is None else list(episode_indices)
    )

    def upload_one(index: int) -> Episode:
        name = f"{repo_id_or_path} #{index}"
        if name_template is not None:
            # A mistyped template keeps the default name rather than stopping the walk.
            with contextlib.suppress(KeyError, IndexError, ValueError):
                name = name_template.format(repo_id=repo_id_or_path, episode_index=index)
        return upload_episode(
            repo_id_or_path,
            index,
            client=client,
            name=name,
            source=source,
            robot=robot,
            policy_version=policy_version,
            env_version=env_version,
            git_sha=git_sha,
            seed=seed,
            metadata=metadata,
            status=status,
            canonical_camera=canonical_camera,
            summary=summary,
        )

    return upload_each(indices, upload_one, on_progress=on_progress, stop_on_error=stop_on_error)


def _times(table: Any, np: Any, fps: float | None, root: Path) -> Any:
    if "timestamp" in table.column_names:
        seconds = table.column("timestamp").to_numpy(zero_copy_only=False).astype(np.float64)
        # Truncated like the official adapter, so both write the same _t_ns (float32 seconds are ~100 ns off).
        return (seconds * 1e9).astype(np.int64)
    if fps is None:
        raise AdapterError(f"{root}: the data has no timestamp column and meta/info.json no fps")
    return steady_times_ns(np, table.num_rows, fps)


def _values(column: Any, np: Any) -> Any:
    """A column as float32 (rows,) for scalars or (rows, width) for fixed-length lists; ValueError else."""
    pa_types = require("pyarrow.types", extra="lerobot", purpose="The LeRobot adapter")
    kind = column.type
    if pa_types.is_floating(kind) or pa_types.is_integer(kind) or pa_types.is_boolean(kind):
        return column.to_numpy(zero_copy_only=False).astype(np.float32)
    if pa_types.is_list(kind) or pa_types.is_large_list(kind) or pa_types.is_fixed_size_list(kind):
        rows = column.to_pylist()
        widths = {len(row) if row is not None else -1 for row in rows}
        if len(widths) != 1 or -1 in widths:
            raise ValueError(f"rows of different lengths {sorted(widths)}")
        return np.asarray(rows, dtype=np.float32)
    raise ValueError(f"arrow type {kind} is not numeric")


def _arrays(
    table: Any,
    columns: Sequence[str],
    *,
    slot: Literal["sensors", "actions"],
    out: Path,
    times: Any,
    skipped: list[dict[str, Any]],
    np: Any,
) -> LerobotArtifact | None:
    arrays: dict[str, Any] = {}
    used: list[str] = []
    for name in columns:
        try:
            values = _values(table.column(name), np)
        except (ValueError, TypeError) as exc:
            skipped.append({"column": name, "reason": f"unsupported values: {exc}"})
            continue
        arrays[f"{name}/_t_ns"] = times
        arrays[f"{name}/value"] = values
        used.append(name)
    if not arrays:
        return None
    target = out / f"{slot}.npz"
    np.savez(target, **arrays)
    return LerobotArtifact(slot=slot, path=target, bytes_size=target.stat().st_size, columns=used)


def _outcome(table: Any, columns: Sequence[str], np: Any) -> dict[str, Any]:
    """The last frame's value of each ``next.*`` column (did it succeed?) and ``next.reward_sum``."""
    outcome: dict[str, Any] = {}
    for name in columns:
        try:
            values = np.asarray(table.column(name).to_numpy(zero_copy_only=False)).reshape(-1)
        except (ValueError, TypeError):
            continue
        if values.size == 0 or values.dtype.kind not in "biuf":
            continue
        outcome[name] = values[-1].item()
        if name == "next.reward":
            outcome["next.reward_sum"] = float(values.astype(np.float64).sum())
    return outcome
