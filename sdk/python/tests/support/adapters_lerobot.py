"""LeRobot datasets on disk, v2.1 and v3.0 layouts, written with pyarrow and PyAV (as LeRobot writes them)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FPS = 10
CAMERA = "observation.images.front"
TASKS = ("pick the cup", "stack the blocks")


def shade(frame_index: int) -> int:
    """The flat gray level of global frame ``frame_index``: tells frames apart after lossy compression."""
    return 20 + (frame_index * 12) % 220


def write_mp4(path: Path, shades: Sequence[int], *, height: int = 32, width: int = 48) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for level in shades:
            frame = np.full((height, width, 3), level, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _rows(episode: int, length: int, start: int, *, success: bool) -> dict[str, pa.Array]:
    steps = np.arange(length)
    return {
        "observation.state": pa.array(
            [[float(episode), s, s * 0.5, -s] for s in steps], pa.list_(pa.float32())
        ),
        "action": pa.array([[s * 0.1, 1.0] for s in steps], pa.list_(pa.float32(), 2)),
        "timestamp": pa.array(steps / FPS, pa.float32()),
        "frame_index": pa.array(steps, pa.int64()),
        "episode_index": pa.array([episode] * length, pa.int64()),
        "index": pa.array(start + steps, pa.int64()),
        "task_index": pa.array([episode % len(TASKS)] * length, pa.int64()),
        "next.reward": pa.array([1.0 if s == length - 1 and success else 0.0 for s in steps], pa.float32()),
        "next.done": pa.array([s == length - 1 for s in steps], pa.bool_()),
        "next.success": pa.array([success and s == length - 1 for s in steps], pa.bool_()),
    }


def _features(cameras: Sequence[str]) -> dict[str, object]:
    features: dict[str, object] = {
        "observation.state": {"dtype": "float32", "shape": [4], "names": None},
        "action": {"dtype": "float32", "shape": [2], "names": None},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "frame_index": {"dtype": "int64", "shape": [1], "names": None},
        "episode_index": {"dtype": "int64", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
        "next.reward": {"dtype": "float32", "shape": [1], "names": None},
        "next.done": {"dtype": "bool", "shape": [1], "names": None},
        "next.success": {"dtype": "bool", "shape": [1], "names": None},
    }
    for camera in cameras:
        features[camera] = {"dtype": "video", "shape": [32, 48, 3], "names": ["height", "width", "channels"]}
    return features


def _info(
    version: str, lengths: Sequence[int], cameras: Sequence[str], data: str, video: str
) -> dict[str, object]:
    return {
        "codebase_version": version,
        "robot_type": "koch",
        "total_episodes": len(lengths),
        "total_frames": sum(lengths),
        "total_tasks": len(TASKS),
        "chunks_size": 1000,
        "fps": FPS,
        "splits": {"train": f"0:{len(lengths)}"},
        "data_path": data,
        "video_path": video,
        "features": _features(cameras),
    }


def write_v3(root: Path, lengths: Sequence[int] = (6, 9), cameras: Sequence[str] = (CAMERA,)) -> Path:
    """All episodes in one data file and one mp4 per camera; meta/episodes says where each one is."""
    starts = np.cumsum([0, *lengths[:-1]])
    tables = [
        pa.table(_rows(e, n, int(s), success=e % 2 == 1)) for e, (n, s) in enumerate(zip(lengths, starts))
    ]
    (root / "data" / "chunk-000").mkdir(parents=True)
    pq.write_table(pa.concat_tables(tables), root / "data" / "chunk-000" / "file-000.parquet")
    for camera in cameras:
        write_mp4(
            root / "videos" / camera / "chunk-000" / "file-000.mp4", [shade(i) for i in range(sum(lengths))]
        )
    episodes: dict[str, list[object]] = {
        "episode_index": list(range(len(lengths))),
        "tasks": [[TASKS[e % len(TASKS)]] for e in range(len(lengths))],
        "length": list(lengths),
        "dataset_from_index": [int(s) for s in starts],
        "dataset_to_index": [int(s + n) for s, n in zip(starts, lengths)],
        "data/chunk_index": [0] * len(lengths),
        "data/file_index": [0] * len(lengths),
    }
    for camera in cameras:
        episodes[f"videos/{camera}/chunk_index"] = [0] * len(lengths)
        episodes[f"videos/{camera}/file_index"] = [0] * len(lengths)
        episodes[f"videos/{camera}/from_timestamp"] = [float(s) / FPS for s in starts]
        episodes[f"videos/{camera}/to_timestamp"] = [float(s + n) / FPS for s, n in zip(starts, lengths)]
    (root / "meta" / "episodes" / "chunk-000").mkdir(parents=True)
    pq.write_table(pa.table(episodes), root / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    pq.write_table(
        pa.table({"task_index": list(range(len(TASKS))), "task": list(TASKS)}),
        root / "meta" / "tasks.parquet",
    )
    info = _info(
        "v3.0",
        lengths,
        cameras,
        "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
    )
    (root / "meta" / "info.json").write_text(json.dumps(info, indent=2))
    return root


def write_v21(root: Path, lengths: Sequence[int] = (5, 7), cameras: Sequence[str] = (CAMERA,)) -> Path:
    """One parquet and one mp4 per camera for each episode; meta/episodes.jsonl and tasks.jsonl."""
    start = 0
    for episode, length in enumerate(lengths):
        table = pa.table(_rows(episode, length, start, success=episode % 2 == 1))
        data = root / "data" / "chunk-000" / f"episode_{episode:06d}.parquet"
        data.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, data)
        for camera in cameras:
            video = root / "videos" / "chunk-000" / camera / f"episode_{episode:06d}.mp4"
            write_mp4(video, [shade(start + i) for i in range(length)])
        start += length
    meta = root / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "episodes.jsonl").write_text(
        "".join(
            json.dumps({"episode_index": e, "tasks": [TASKS[e % len(TASKS)]], "length": n}) + "\n"
            for e, n in enumerate(lengths)
        )
    )
    (meta / "tasks.jsonl").write_text(
        "".join(json.dumps({"task_index": i, "task": t}) + "\n" for i, t in enumerate(TASKS))
    )
    info = _info(
        "v2.1",
        lengths,
        cameras,
        "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
        "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
    )
    (meta / "info.json").write_text(json.dumps(info, indent=2))
    return root
