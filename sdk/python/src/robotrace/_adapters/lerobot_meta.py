"""LeRobot datasets in a local folder: which slot each column goes to, and what a dataset holds
(``scan_dataset``). Format v2.0 / v2.1 (one parquet and one mp4 per camera for each episode, episodes in
``meta/episodes.jsonl``) and v3.x (several episodes per parquet and mp4 file, episodes in
``meta/episodes/*.parquet`` with each one's rows and video span). Nothing is fetched from a hub."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .deps import require
from .errors import AdapterError

Slot = Literal["video", "sensors", "actions", "episode_meta", "internal"]
_BOOKKEEPING = frozenset({"timestamp", "frame_index", "episode_index", "index", "task_index"})
CAMERA_PREFIX = "observation.images."


@dataclass(frozen=True)
class ColumnClass:
    """The slot picked for one parquet column, and the rule that picked it."""

    column: str
    slot: Slot
    reason: Literal["prefix", "exact", "default"]


def classify_column(column: str) -> ColumnClass:
    """Bookkeeping columns are dropped; ``observation.images.*`` are cameras; ``action`` / ``action.*`` are
    actions; ``next.*`` (reward, done, success) are the episode's outcome; the rest are sensors."""
    if column in _BOOKKEEPING:
        return ColumnClass(column, "internal", "exact")
    if column.startswith(CAMERA_PREFIX):
        return ColumnClass(column, "video", "prefix")
    if column == "action" or column.startswith("action."):
        return ColumnClass(column, "actions", "prefix")
    if column.startswith("next."):
        return ColumnClass(column, "episode_meta", "prefix")
    if column.startswith("observation."):
        return ColumnClass(column, "sensors", "prefix")
    return ColumnClass(column, "sensors", "default")


@dataclass(frozen=True)
class EpisodeMeta:
    """One episode: its index, number of frames and task descriptions."""

    episode_index: int
    length: int
    tasks: list[str]


@dataclass
class DatasetSummary:
    """What a dataset holds, read from its ``meta/`` files alone."""

    repo_id_or_path: str
    is_local: bool
    codebase_version: str
    fps: float
    total_episodes: int
    total_frames: int
    feature_columns: list[str] = field(default_factory=list)
    camera_keys: list[str] = field(default_factory=list)
    episodes: list[EpisodeMeta] = field(default_factory=list)

    def report(self) -> str:
        lines = [
            f"{self.repo_id_or_path}  (local, {self.codebase_version}, {self.fps:g} fps)",
            f"  episodes: {self.total_episodes}, frames: {self.total_frames}",
        ]
        if self.camera_keys:
            lines.append(f"  cameras: {', '.join(self.camera_keys)}")
        features = [c for c in self.feature_columns if classify_column(c).slot not in ("video", "internal")]
        if features:
            lines.append(f"  features: {', '.join(features[:8])}{' ...' if len(features) > 8 else ''}")
        if self.total_episodes <= 5:
            for episode in self.episodes:
                task = episode.tasks[0] if episode.tasks else "(no task)"
                lines.append(f"  ep {episode.episode_index}: {episode.length} frames, task={task!r}")
        return "\n".join(lines)

    def episode(self, episode_index: int) -> EpisodeMeta:
        """The episode with this index; AdapterError when the dataset has none."""
        for episode in self.episodes:
            if episode.episode_index == episode_index:
                return episode
        raise AdapterError(
            f"{self.repo_id_or_path}: no episode {episode_index} (the dataset has {self.total_episodes})"
        )


def pyarrow_parquet() -> Any:
    require("pyarrow", extra="lerobot", purpose="The LeRobot adapter")
    return require("pyarrow.parquet", extra="lerobot", purpose="The LeRobot adapter")


def dataset_root(repo_id_or_path: str | Path) -> Path:
    """The dataset's local folder; a hub id that is not a local folder is refused (no hub access)."""
    root = Path(repo_id_or_path).expanduser()
    if not root.is_dir():
        raise AdapterError(
            f"{repo_id_or_path}: no such local folder; this SDK reads LeRobot datasets from disk only "
            "(download it first, e.g. huggingface-cli download --repo-type dataset <id> --local-dir <folder>)"
        )
    if not (root / "meta" / "info.json").is_file():
        raise AdapterError(f"{root.resolve()}: no meta/info.json, so not a LeRobot dataset root")
    return root.resolve()


def read_info(root: Path) -> dict[str, Any]:
    path = root / "meta" / "info.json"
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AdapterError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(info, dict):
        raise AdapterError(f"{path}: not a JSON object")
    return info


def major_version(info: dict[str, Any], root: Path) -> int:
    version = str(info.get("codebase_version") or "")
    if version.startswith("v2"):
        return 2
    if version.startswith("v3"):
        return 3
    raise AdapterError(f"{root}: LeRobot format {version or '(none)'!r} is not supported (v2.x and v3.x are)")


def read_parquet(path: Path, **options: Any) -> Any:
    """A parquet file as a pyarrow Table; a missing or corrupt one is one AdapterError line naming it."""
    parquet = pyarrow_parquet()
    if not path.is_file():
        raise AdapterError(f"{path}: missing")
    try:
        return parquet.read_table(path, **options)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        raise AdapterError(
            f"{path}: not a readable parquet file ({' '.join(str(exc).split())[:300]})"
        ) from exc


def episode_rows_v3(root: Path) -> list[dict[str, Any]]:
    """Every row of ``meta/episodes/**/*.parquet`` (v3): one per episode, with where its data and video
    are."""
    files = sorted((root / "meta" / "episodes").glob("**/*.parquet"))
    if not files:
        raise AdapterError(f"{root}: no meta/episodes/*.parquet (a v3 dataset lists its episodes there)")
    rows: list[dict[str, Any]] = []
    for file in files:
        rows.extend(read_parquet(file).to_pylist())
    return rows


def scan_dataset(repo_id_or_path: str, *, revision: str | None = None) -> DatasetSummary:
    """Describe the dataset in the local folder ``repo_id_or_path`` from its ``meta/`` files: format, fps,
    episodes (length, tasks), columns and cameras. ``revision`` is accepted for the official signature and
    has no effect on a local folder."""
    pyarrow_parquet()  # needed to read any episode: a missing extra is said now, not at the first encode
    root = dataset_root(repo_id_or_path)
    info = read_info(root)
    version = major_version(info, root)
    found = info.get("features")
    features: dict[str, Any] = found if isinstance(found, dict) else {}
    if version == 2:
        episodes = _episodes_v2(root)
    else:
        episodes = [
            EpisodeMeta(
                int(row["episode_index"]),
                int(row.get("length") or 0),
                [str(t) for t in row.get("tasks") or []],
            )
            for row in episode_rows_v3(root)
        ]
    episodes.sort(key=lambda episode: episode.episode_index)
    columns = sorted(features)
    fps = info.get("fps")
    return DatasetSummary(
        repo_id_or_path=str(repo_id_or_path),
        is_local=True,
        codebase_version=str(info.get("codebase_version")),
        fps=float(fps) if isinstance(fps, (int, float)) and fps > 0 else 0.0,
        total_episodes=int(info.get("total_episodes") or len(episodes)),
        total_frames=int(info.get("total_frames") or sum(e.length for e in episodes)),
        feature_columns=columns,
        camera_keys=[c for c in columns if c.startswith(CAMERA_PREFIX)],
        episodes=episodes,
    )


def _json_lines(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AdapterError(f"{path}: not readable ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise AdapterError(f"{path}: line {number} is not JSON ({exc})") from exc
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _episodes_v2(root: Path) -> list[EpisodeMeta]:
    tasks_file = root / "meta" / "tasks.jsonl"
    tasks = {}
    if tasks_file.is_file():
        tasks = {
            int(r["task_index"]): str(r.get("task", "")) for r in _json_lines(tasks_file) if "task_index" in r
        }
    path = root / "meta" / "episodes.jsonl"
    if not path.is_file():
        raise AdapterError(f"{root}: no meta/episodes.jsonl (a v2 dataset lists its episodes there)")
    episodes: list[EpisodeMeta] = []
    for row in _json_lines(path):
        names: list[str] = []
        if isinstance(row.get("tasks"), list):
            names = [str(task) for task in row["tasks"]]
        elif row.get("task"):
            names = [str(row["task"])]
        elif row.get("task_index") in tasks:
            names = [tasks[row["task_index"]]]
        episodes.append(
            EpisodeMeta(int(row.get("episode_index", len(episodes))), int(row.get("length") or 0), names)
        )
    return episodes
