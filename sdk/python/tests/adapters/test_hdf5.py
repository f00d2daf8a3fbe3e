"""The HDF5 adapter on robomimic- and ALOHA-style files written with h5py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import av
import h5py
import numpy as np
import pytest

import robotrace as rt
from robotrace.adapters import hdf5

from ..support.adapters_hdf5 import write_aloha, write_robomimic
from ..support.adapters_npz import load_npz, npz_summary
from ..support.adapters_official import official_hdf5_episode
from ..support.api import Api
from ..support.fake_server import FakeServer
from ..support.robotrace_server import RunningServer
from ..support.served import assert_tracks_served, assert_video_plays
from ..unit.helpers import client_for


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]


def test_robomimic_one_episode_per_demo_with_robot_env_and_outcome(tmp_path: Path) -> None:
    path = write_robomimic(tmp_path / "low_dim.hdf5", demos=(12, 8, 10, 9, 11, 7, 6, 5, 4, 3, 2))
    summary = hdf5.scan_file(path)
    assert summary.layout == "robomimic"
    assert [e.key for e in summary.episodes][:3] == ["demo_0", "demo_1", "demo_2"]
    assert summary.episodes[10].key == "demo_10"  # numeric order, not demo_1, demo_10, demo_2
    assert (summary.fps, summary.fps_assumed, summary.robot_type, summary.env_name) == (
        20.0,
        False,
        "Panda",
        "Lift",
    )
    assert summary.camera_names == ["obs/agentview_image", "obs/robot0_eye_in_hand_image"]

    encoded = hdf5.encode_episode(path, tmp_path / "out", episode_index=1)
    assert encoded.episode_key == "demo_1"
    assert encoded.metadata == {
        "adapter": "hdf5",
        "hdf5_layout": "robomimic",
        "hdf5_source": "low_dim.hdf5",
        "hdf5_episode_index": 1,
        "hdf5_trajectory_length": 8,
        "hdf5_episode_key": "demo_1",
        "hdf5_robot_type": "Panda",
        "hdf5_env": "Lift",
        "hdf5_episode_outcome": {"dones": 1, "rewards": 1.0, "reward_sum": 1.0},
    }
    sensors = load_npz(tmp_path / "out" / "sensors.npz")
    assert {k: (v.shape, str(v.dtype)) for k, v in sensors.items()} == {
        "obs/robot0_eef_pos/value": ((8, 3), "float32"),
        "obs/robot0_eef_pos/_t_ns": ((8,), "int64"),
        "obs/robot0_gripper_qpos/value": ((8, 2), "float32"),
        "obs/robot0_gripper_qpos/_t_ns": ((8,), "int64"),
        "states/value": ((8, 5), "float32"),
        "states/_t_ns": ((8,), "int64"),
    }
    assert sensors["obs/robot0_eef_pos/value"][0].tolist() == [1, 1, 1]  # demo_1's own data
    assert sensors["states/_t_ns"].tolist() == [i * 50_000_000 for i in range(8)]  # relative, 20 fps
    assert sorted(load_npz(tmp_path / "out" / "actions.npz")) == ["actions/_t_ns", "actions/value"]
    assert encoded.video is not None
    assert encoded.video.columns == ["agentview_image", "robot0_eye_in_hand_image"]
    frames = _frames(encoded.video.path)
    assert (len(frames), frames[0].shape) == (8, (24, 64, 3))  # two 32-wide cameras side by side
    assert (encoded.fps, encoded.duration_s) == (20.0, pytest.approx(0.4))


def test_same_npz_and_metadata_as_the_official_adapter(tmp_path: Path) -> None:
    path = write_robomimic(tmp_path / "low_dim.hdf5", images=False)  # no video: the official needs OpenCV
    official = official_hdf5_episode(path, tmp_path / "official", episode_index=2)
    ours = hdf5.encode_episode(path, tmp_path / "ours", episode_index=2)
    for name in ("sensors.npz", "actions.npz"):
        assert npz_summary(tmp_path / "ours" / name) == npz_summary(tmp_path / "official" / name), name
    assert ours.metadata == official["metadata"]


def test_aloha_file_is_one_episode_and_fps_is_assumed_when_absent(tmp_path: Path) -> None:
    path = write_aloha(tmp_path / "episode_3.hdf5", cameras=("top", "left_wrist"))
    encoded = hdf5.encode_episode(path, tmp_path / "out")
    assert encoded.summary.layout == "single"
    assert encoded.episode_key is None
    assert encoded.metadata["fps_assumed"] is True
    assert encoded.metadata["hdf5_robot_type"] == "real"
    assert encoded.fps == 30.0
    assert sorted(load_npz(tmp_path / "out" / "sensors.npz")) == [
        "observations/effort/_t_ns",
        "observations/effort/value",
        "observations/qpos/_t_ns",
        "observations/qpos/value",
        "observations/qvel/_t_ns",
        "observations/qvel/value",
    ]
    assert load_npz(tmp_path / "out" / "actions.npz")["action/value"].shape == (15, 14)
    assert encoded.video is not None
    assert encoded.video.columns == ["left_wrist", "top"]

    given = hdf5.encode_episode(path, tmp_path / "top", fps=50, canonical_camera="observations/images/top")
    assert "fps_assumed" not in given.metadata
    assert given.video is not None
    frames = _frames(given.video.path)
    assert (len(frames), frames[0].shape) == (15, (48, 64, 3))
    assert frames[0][:, 40, 0].mean() > 120  # the red gradient is red: RGB kept

    bgr = hdf5.encode_episode(
        path, tmp_path / "bgr", canonical_camera="observations/images/top", image_color="bgr"
    )
    assert bgr.video is not None
    assert _frames(bgr.video.path)[0][:, 40, 2].mean() > 120  # read as BGR: the gradient turns blue


def test_a_text_dataset_is_skipped_with_a_note(tmp_path: Path) -> None:
    path = write_aloha(tmp_path / "episode.hdf5", cameras=())
    with h5py.File(path, "a") as f:
        f["observations"].create_dataset("operator_notes", data=np.array([b"ok"] * 15))
    encoded = hdf5.encode_episode(path, tmp_path / "out", fps=50)
    assert encoded.video is None
    [note] = encoded.metadata["skipped_datasets"]
    assert note["dataset"] == "observations/operator_notes"
    assert note["reason"].startswith("not numeric or unreadable")


def test_without_pyav_the_video_is_left_out_with_the_extra_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    encoded = hdf5.encode_episode(write_aloha(tmp_path / "e.hdf5"), tmp_path / "out", fps=50)
    assert encoded.video is None
    assert encoded.sensors is not None
    [note] = encoded.metadata["skipped_datasets"]
    assert "pip install 'robotrace-dev[hdf5,video]'" in note["reason"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x89HDF\r\n\x1a\n" + b"\x00" * 64, "not a readable HDF5 file"),
        (b"just some text, not HDF5", "not a readable HDF5 file"),
    ],
)
def test_a_corrupt_file_is_a_one_line_error_naming_it(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "demo.hdf5"
    path.write_bytes(content)
    with pytest.raises(rt.ConfigurationError) as caught:
        hdf5.scan_file(path)
    assert str(caught.value).startswith(f"{path}: {problem} (")
    assert "\n" not in str(caught.value)


def test_an_unknown_layout_and_a_missing_trajectory(tmp_path: Path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("weights", data=np.zeros(3))
    with pytest.raises(rt.ConfigurationError, match="neither a robomimic file"):
        hdf5.scan_file(path)
    demos = write_robomimic(tmp_path / "demos.hdf5", images=False)
    with pytest.raises(rt.ConfigurationError, match=r"no trajectory 7; the file has 3 \(0\.\.2\)"):
        hdf5.encode_episode(demos, tmp_path / "out", episode_index=7)


def test_classify_dataset_routes_by_name() -> None:
    assert hdf5.classify_dataset("obs/agentview_image").slot == "video"
    assert hdf5.classify_dataset("observations/images/top").reason == "segment"
    assert hdf5.classify_dataset("action_dict/abs_pos").slot == "actions"
    assert hdf5.classify_dataset("rewards").slot == "episode_meta"
    assert hdf5.classify_dataset("timestamp").slot == "internal"
    assert hdf5.classify_dataset("observations/qpos").slot == "sensors"


def test_upload_dataset_uploads_each_selected_demo(tmp_path: Path) -> None:
    server = FakeServer()
    progress: list[tuple[int, int, Any]] = []
    with client_for(server) as client:
        episodes = hdf5.upload_dataset(
            write_robomimic(tmp_path / "lift.hdf5"),
            client=client,
            episode_indices=[0, 2],
            policy_version="bc-v3",
            on_progress=lambda done, total, ep, err: progress.append((done, total, err)),
        )
    assert [ep.status for ep in episodes] == ["ready", "ready"]
    assert progress == [(1, 2, None), (2, 2, None)]
    creates = [r.json() for r in server.routes("create")]
    assert [c["name"] for c in creates] == ["lift #0", "lift #2"]
    assert {(c["source"], c["robot"], c["fps"]) for c in creates} == {("replay", "Panda", 20.0)}
    assert [c["metadata"]["hdf5_episode_key"] for c in creates] == ["demo_0", "demo_2"]
    assert all(c["request_uploads"] == ["video", "sensors", "actions"] for c in creates)


def test_upload_an_aloha_episode_to_the_server(
    tmp_path: Path, robotrace_server: RunningServer, api: Api
) -> None:
    path = write_aloha(tmp_path / "episode_7.hdf5", sim=True)
    with rt.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as client:
        episode = hdf5.upload_episode(path, client=client, fps=50, output_dir=tmp_path / "out")
    stored = api.episode(episode.id)
    assert (stored["status"], stored["source"], stored["name"], stored["robot"]) == (
        "ready",
        "replay",
        "episode_7",
        "sim",
    )
    assert stored["metadata"]["adapter"] == "hdf5"
    for kind in ("video", "sensors", "actions"):
        suffix = "mp4" if kind == "video" else "npz"
        assert api.artifact(episode.id, kind) == (tmp_path / "out" / f"{kind}.{suffix}").read_bytes(), kind
    assert_tracks_served(api, episode.id, tmp_path / "out", absolute=False)
    assert_video_plays(api.artifact(episode.id, "video"))


def test_upload_a_robomimic_demo_to_the_server(
    tmp_path: Path, robotrace_server: RunningServer, api: Api
) -> None:
    path = write_robomimic(tmp_path / "lift.hdf5")
    with rt.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as client:
        episode = hdf5.upload_episode(path, episode_index=1, client=client, output_dir=tmp_path / "out")
    stored = api.episode(episode.id)
    assert (stored["status"], stored["source"]) == ("ready", "replay")
    assert stored["metadata"]["adapter"] == "hdf5"
    for kind in ("video", "sensors", "actions"):
        suffix = "mp4" if kind == "video" else "npz"
        assert api.artifact(episode.id, kind) == (tmp_path / "out" / f"{kind}.{suffix}").read_bytes(), kind
    assert_tracks_served(api, episode.id, tmp_path / "out", absolute=False)
    assert_video_plays(api.artifact(episode.id, "video"))
