"""The LeRobot adapter on local v2.1 and v3.0 datasets written with pyarrow and PyAV."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import robotrace as rt
from robotrace.adapters import lerobot

from ..support.adapters_lerobot import CAMERA, TASKS, shade, write_v3, write_v21
from ..support.adapters_npz import load_npz, npz_summary
from ..support.adapters_official import official_lerobot_episode
from ..support.api import Api
from ..support.robotrace_server import RunningServer
from ..support.served import assert_video_plays


def _shades(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [
            int(f.to_ndarray(format="rgb24").mean()) for f in container.decode(container.streams.video[0])
        ]


def _close(levels: list[int], frames: range) -> bool:
    return len(levels) == len(frames) and all(abs(a - shade(i)) <= 4 for a, i in zip(levels, frames))


def test_v3_episode_is_cut_out_of_shared_files(tmp_path: Path) -> None:
    root = write_v3(tmp_path / "cups", lengths=(6, 9, 4))
    summary = lerobot.scan_dataset(str(root))
    assert (summary.codebase_version, summary.fps, summary.total_episodes) == ("v3.0", 10.0, 3)
    assert [e.length for e in summary.episodes] == [6, 9, 4]
    assert summary.camera_keys == [CAMERA]

    encoded = lerobot.encode_episode(str(root), 1, tmp_path / "out")
    assert encoded.metadata == {
        "adapter": "lerobot",
        "lerobot_repo_id": str(root),
        "lerobot_codebase_version": "v3.0",
        "lerobot_episode_index": 1,
        "lerobot_episode_length": 9,
        "lerobot_tasks": [TASKS[1]],
        "lerobot_episode_outcome": {
            "next.reward": 1.0,
            "next.reward_sum": 1.0,
            "next.done": True,
            "next.success": True,
        },
    }
    sensors = load_npz(tmp_path / "out" / "sensors.npz")
    assert sorted(sensors) == ["observation.state/_t_ns", "observation.state/value"]
    assert sensors["observation.state/value"].shape == (9, 4)
    assert set(sensors["observation.state/value"][:, 0].tolist()) == {1.0}  # episode 1's rows only
    times = sensors["observation.state/_t_ns"]
    assert times[0] == 0  # relative to the episode's start, 100 ms apart (float32 seconds: within 1 µs)
    assert np.abs(times - np.arange(9) * 100_000_000).max() < 1_000
    actions = load_npz(tmp_path / "out" / "actions.npz")
    assert actions["action/value"].shape == (9, 2)
    assert encoded.video is not None
    assert _close(_shades(encoded.video.path), range(6, 15))  # frames 6..14 of the shared mp4
    assert (encoded.fps, encoded.duration_s) == (10.0, pytest.approx(0.9))

    first = lerobot.encode_episode(str(root), 0, tmp_path / "first")
    assert first.metadata["lerobot_episode_outcome"]["next.success"] is False
    assert first.video is not None
    assert _close(_shades(first.video.path), range(6))


def test_v21_episode_files_and_its_video_as_recorded(tmp_path: Path) -> None:
    root = write_v21(tmp_path / "koch")
    encoded = lerobot.encode_episode(str(root), 1, tmp_path / "out")
    assert encoded.metadata["lerobot_codebase_version"] == "v2.1"
    assert encoded.metadata["lerobot_tasks"] == [TASKS[1]]
    assert load_npz(tmp_path / "out" / "sensors.npz")["observation.state/value"].shape == (7, 4)
    source = root / "videos" / "chunk-000" / CAMERA / "episode_000001.mp4"
    assert encoded.video is not None
    assert encoded.video.path.read_bytes() == source.read_bytes()  # one camera: copied, not re-encoded


def test_same_npz_and_metadata_as_the_official_adapter(tmp_path: Path) -> None:
    root = write_v21(tmp_path / "koch")
    official = official_lerobot_episode(root, tmp_path / "official", episode_index=1)
    ours = lerobot.encode_episode(str(root), 1, tmp_path / "ours")
    for name in ("sensors.npz", "actions.npz"):
        assert npz_summary(tmp_path / "ours" / name) == npz_summary(tmp_path / "official" / name), name
    # The official looks for v2.1 videos under videos/<camera>/chunk-000/, where LeRobot does not put them,
    # and notes the video as unavailable; everything else is the same.
    theirs = dict(official["metadata"])
    assert theirs.pop("skipped_columns")[0]["reason"].startswith("video file unavailable")
    assert ours.metadata == theirs


def test_two_cameras_are_put_side_by_side(tmp_path: Path) -> None:
    root = write_v3(tmp_path / "two", cameras=(CAMERA, "observation.images.wrist"))
    encoded = lerobot.encode_episode(str(root), 1, tmp_path / "out")
    assert encoded.video is not None
    assert encoded.video.columns == [CAMERA, "observation.images.wrist"]
    with av.open(str(encoded.video.path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
    assert (len(frames), frames[0].shape) == (9, (32, 96, 3))
    only = lerobot.encode_episode(str(root), 1, tmp_path / "one", canonical_camera="observation.images.wrist")
    assert only.video is not None
    assert only.video.columns == ["observation.images.wrist"]


def test_missing_columns_and_videos_are_skipped_with_a_note(tmp_path: Path) -> None:
    root = write_v3(tmp_path / "cups")
    info = json.loads((root / "meta" / "info.json").read_text())
    info["features"]["observation.effort"] = {"dtype": "float32", "shape": [4], "names": None}
    (root / "meta" / "info.json").write_text(json.dumps(info))
    (root / "videos" / CAMERA / "chunk-000" / "file-000.mp4").unlink()
    encoded = lerobot.encode_episode(str(root), 0, tmp_path / "out")
    assert encoded.video is None
    notes = {note["column"]: note["reason"] for note in encoded.metadata["skipped_columns"]}
    assert notes["observation.effort"] == "declared in meta/info.json but absent from the data"
    assert notes[CAMERA].startswith("video file unavailable: ")
    assert encoded.sensors is not None


def test_a_corrupt_parquet_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    root = write_v3(tmp_path / "cups")
    data = root / "data" / "chunk-000" / "file-000.parquet"
    data.write_bytes(b"PAR1 truncated")
    with pytest.raises(rt.ConfigurationError) as caught:
        lerobot.encode_episode(str(root), 0, tmp_path / "out")
    assert str(caught.value).startswith(f"{data}: not a readable parquet file (")
    assert "\n" not in str(caught.value)


def test_a_ragged_column_is_skipped(tmp_path: Path) -> None:
    root = write_v21(tmp_path / "koch", lengths=(3,))
    path = root / "data" / "chunk-000" / "episode_000000.parquet"
    table = pq.read_table(path)
    ragged = pa.array([[1.0], [1.0, 2.0], [1.0]], pa.list_(pa.float32()))
    pq.write_table(table.append_column("observation.tactile", ragged), path)
    encoded = lerobot.encode_episode(str(root), 0, tmp_path / "out")
    [note] = encoded.metadata["skipped_columns"]
    assert note["column"] == "observation.tactile"
    assert "different lengths" in note["reason"]


def test_hub_ids_and_missing_episodes(tmp_path: Path) -> None:
    with pytest.raises(rt.ConfigurationError, match="reads LeRobot datasets from disk only"):
        lerobot.scan_dataset("lerobot/aloha_static_cups_open")
    root = write_v3(tmp_path / "cups")
    with pytest.raises(rt.ConfigurationError, match=r"no episode 5 \(the dataset has 2\)"):
        lerobot.encode_episode(str(root), 5, tmp_path / "out")
    info = json.loads((root / "meta" / "info.json").read_text())
    (root / "meta" / "info.json").write_text(json.dumps({**info, "codebase_version": "v1.6"}))
    with pytest.raises(rt.ConfigurationError, match=r"LeRobot format 'v1\.6' is not supported"):
        lerobot.scan_dataset(str(root))


def test_classify_column() -> None:
    assert lerobot.classify_column("observation.images.top").slot == "video"
    assert lerobot.classify_column("action.gripper").slot == "actions"
    assert lerobot.classify_column("next.success").slot == "episode_meta"
    assert lerobot.classify_column("frame_index").slot == "internal"
    assert lerobot.classify_column("custom").reason == "default"


def test_upload_dataset_to_the_server(tmp_path: Path, robotrace_server: RunningServer, api: Api) -> None:
    root = write_v3(tmp_path / "cups")
    with rt.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as client:
        [episode] = lerobot.upload_dataset(
            str(root), client=client, episode_indices=[1], policy_version="act-1"
        )
    stored = api.episode(episode.id)
    assert (stored["status"], stored["source"], stored["robot"]) == ("ready", "replay", "koch")
    assert stored["name"] == f"{root} #1"
    assert stored["metadata"]["lerobot_episode_outcome"]["next.success"] is True
    sensors = api.artifact(episode.id, "sensors")
    archive = tmp_path / "downloaded.npz"
    archive.write_bytes(sensors)
    assert load_npz(archive)["observation.state/value"].shape == (9, 4)
    assert np.frombuffer(api.artifact(episode.id, "video")[4:8], dtype=np.uint8).tobytes() == b"ftyp"
    assert_video_plays(api.artifact(episode.id, "video"))
    listed = api.tracks(episode.id)
    assert listed["warnings"] == []
    state = next(t for t in listed["tracks"] if t["name"] == "observation.state/value")
    assert (state["samples"], len(state["columns"]), state["absolute_time"]) == (9, 4, False)


def test_upload_dataset_reports_a_failed_episode_and_goes_on(tmp_path: Path) -> None:
    from ..support.fake_server import FakeServer
    from ..unit.helpers import client_for

    root = write_v3(tmp_path / "cups")
    server = FakeServer()
    seen: list[tuple[int, int, bool, str]] = []
    with client_for(server) as client:
        episodes = lerobot.upload_dataset(
            str(root),
            client=client,
            episode_indices=[0, 7, 1],
            name_template="cups {episode_index}",
            on_progress=lambda done, total, ep, err: seen.append(
                (done, total, ep is not None, str(err or ""))
            ),
        )
        assert [server.episodes[ep.id]["name"] for ep in episodes] == ["cups 0", "cups 1"]
        assert [(d, t, ok) for d, t, ok, _ in seen] == [(1, 3, True), (2, 3, False), (3, 3, True)]
        assert "no episode 7" in seen[1][3]
        with pytest.raises(rt.ConfigurationError, match="no episode 7"):
            lerobot.upload_dataset(str(root), client=client, episode_indices=[7], stop_on_error=True)


def test_a_path_template_leading_outside_the_dataset_is_refused(tmp_path: Path) -> None:
    root = write_v3(tmp_path / "cups")
    info = json.loads((root / "meta" / "info.json").read_text())
    info["data_path"] = "../../{chunk_index}/secrets.parquet"
    (root / "meta" / "info.json").write_text(json.dumps(info))
    with pytest.raises(rt.ConfigurationError, match=r"data_path .* points outside the dataset"):
        lerobot.encode_episode(str(root), 0, tmp_path / "out")
