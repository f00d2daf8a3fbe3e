"""Where a LeRobot episode is on disk, in either format: its rows (a parquet file of its own in v2, a slice
of a shared one in v3) and its camera videos (a file each in v2, a time span of a shared file in v3), and
the video cut to the episode and tiled with PyAV."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .artifacts import EncodedArtifact
from .deps import require
from .errors import AdapterError
from .lerobot_meta import episode_rows_v3, read_parquet
from .video import FrameError, Mp4Writer

# The layouts LeRobot writes when meta/info.json does not spell its own data_path / video_path.
_V2_DATA = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
_V2_VIDEO = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"
_V3_DATA = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
_V3_VIDEO = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"


@dataclass
class LerobotArtifact(EncodedArtifact):
    """One written file, with the columns that went into it (for ``video``: the cameras, left to right)."""

    columns: list[str] = field(default_factory=list)


class EpisodeFiles:
    """Where one episode's rows and video frames are, in either format."""

    def __init__(self, root: Path, info: Mapping[str, Any], index: int, version: int) -> None:
        self.root, self.info, self.index, self.version = root, info, index, version
        self.row: dict[str, Any] = {}
        if version == 3:
            found = [r for r in episode_rows_v3(root) if int(r.get("episode_index", -1)) == index]
            if not found:
                raise AdapterError(f"{root}: episode {index} is not in meta/episodes")
            self.row = found[0]

    def _path(self, key: str, default: str, **values: Any) -> Path:
        template = self.info.get(key)
        template = template if isinstance(template, str) and template else default
        try:
            path = (self.root / template.format(**values)).resolve()
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise AdapterError(
                f"{self.root}: meta/info.json {key} {template!r} cannot be filled ({exc})"
            ) from exc
        # The template comes from the dataset: it may not lead outside the dataset's folder.
        if not path.is_relative_to(self.root):
            raise AdapterError(f"{self.root}: meta/info.json {key} {template!r} points outside the dataset")
        return path

    def _v3(self, key: str) -> int:
        if key not in self.row:
            raise AdapterError(f"{self.root}: meta/episodes has no {key!r} for episode {self.index}")
        return int(self.row[key])

    def table(self) -> Any:
        if self.version == 2:
            chunk = self.index // int(self.info.get("chunks_size") or 1000)
            path = self._path("data_path", _V2_DATA, episode_chunk=chunk, episode_index=self.index)
            table = read_parquet(path)
        else:
            path = self._path(
                "data_path",
                _V3_DATA,
                chunk_index=self._v3("data/chunk_index"),
                file_index=self._v3("data/file_index"),
            )
            table = read_parquet(path, filters=[("episode_index", "=", self.index)])
        if table.num_rows == 0:
            raise AdapterError(f"{path}: no rows for episode {self.index}")
        return table

    def video(
        self, cameras: Sequence[str], target: Path, fps: float, skipped: list[dict[str, Any]], np: Any
    ) -> LerobotArtifact | None:
        sources: list[tuple[str, Path, tuple[float, float] | None]] = []
        for camera in cameras:
            try:
                sources.append((camera, *self._video_source(camera)))
            except AdapterError as exc:
                skipped.append({"column": camera, "reason": f"video file unavailable: {exc}"})
        if not sources:
            return None
        if len(sources) == 1 and sources[0][2] is None:
            shutil.copyfile(sources[0][1], target)  # one camera, one file per episode: the file as it is
        else:
            _tile(sources, target, fps, np)
        return LerobotArtifact(
            slot="video", path=target, bytes_size=target.stat().st_size, columns=[s[0] for s in sources]
        )

    def _video_source(self, camera: str) -> tuple[Path, tuple[float, float] | None]:
        """(mp4, the episode's span in it, or None when the file holds this episode alone)."""
        if self.version == 2:
            chunk = self.index // int(self.info.get("chunks_size") or 1000)
            path = self._path(
                "video_path", _V2_VIDEO, episode_chunk=chunk, video_key=camera, episode_index=self.index
            )
            span = None
        else:
            prefix = f"videos/{camera}/"
            path = self._path(
                "video_path",
                _V3_VIDEO,
                video_key=camera,
                chunk_index=self._v3(prefix + "chunk_index"),
                file_index=self._v3(prefix + "file_index"),
            )
            span = (float(self.row[prefix + "from_timestamp"]), float(self.row[prefix + "to_timestamp"]))
        if not path.is_file():
            raise AdapterError(f"{path}: missing")
        return path, span


def _frames(av: Any, path: Path, span: tuple[float, float] | None) -> Iterator[Any]:
    """RGB frames of ``path``, only those inside ``span`` (seconds) when given."""
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise AdapterError(f"{path}: not a readable video ({exc})") from exc
    with container:
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                time = float(frame.time) if frame.time is not None else 0.0
                # Half a millisecond of slack: frame times are rounded to the stream's time base.
                if span is not None and time < span[0] - 5e-4:
                    continue
                if span is not None and time >= span[1] - 5e-4:
                    break
                yield frame.to_ndarray(format="rgb24")
        except av.FFmpegError as exc:
            raise AdapterError(f"{path}: the video could not be decoded ({exc})") from exc


def _tile(
    sources: Sequence[tuple[str, Path, tuple[float, float] | None]], target: Path, fps: float, np: Any
) -> None:
    av = require("av", extra="lerobot,video", purpose="Cutting and tiling LeRobot videos")
    streams = [_frames(av, path, span) for _, path, span in sources]
    with Mp4Writer(target, fps=fps, extra="lerobot") as writer:
        for cells in zip(*streams):
            height = max(cell.shape[0] for cell in cells)
            padded = [np.pad(c, ((0, height - c.shape[0]), (0, 0), (0, 0))) for c in cells]
            try:
                writer.add(padded[0] if len(padded) == 1 else np.hstack(padded))
            except FrameError as exc:
                raise AdapterError(f"{sources[0][1].parent}: the camera frames change size: {exc}") from exc
