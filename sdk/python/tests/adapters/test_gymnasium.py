"""The Gymnasium adapter: the official adapter's output for the same rollout, spaces, video, bad input."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import av
import gymnasium as gym
import numpy as np
import pytest

import robotrace as rt
from robotrace.adapters import gymnasium as rt_gym

from ..support.adapters_envs import ArmEnv
from ..support.adapters_npz import load_npz, npz_summary
from ..support.adapters_official import official_cartpole_rollout
from ..support.adapters_official_rollout import cartpole_policy
from ..support.api import Api
from ..support.fake_server import FakeServer, error
from ..support.robotrace_server import RunningServer
from ..support.served import assert_tracks_served, assert_video_plays
from ..unit.helpers import client_for

SEED = 42


def test_same_npz_and_metadata_as_the_official_adapter(tmp_path: Path) -> None:
    official_dir, ours_dir = tmp_path / "official", tmp_path / "ours"
    official = official_cartpole_rollout(official_dir, seed=SEED, max_steps=500)

    env = gym.make("CartPole-v1", render_mode="rgb_array")
    ours = rt_gym.encode_rollout(env, ours_dir, policy=cartpole_policy, seed=SEED, record_video=False)

    for name in ("sensors.npz", "actions.npz"):
        assert npz_summary(ours_dir / name) == npz_summary(official_dir / name), name
    assert sorted(ours.metadata) == sorted(official["metadata"])
    assert ours.metadata == official["metadata"]
    sensors = load_npz(ours_dir / "sensors.npz")
    assert sensors["observation/value"].shape == (ours.metadata["steps"], 4)
    assert sensors["observation/_t_ns"][1] == 33_333_333  # relative times, 1/30 s apart


def test_rgb_array_frames_become_a_playable_h264_video(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    encoded = rt_gym.encode_rollout(env, tmp_path, policy=cartpole_policy, seed=SEED, max_steps=12)
    assert encoded.video is not None
    assert encoded.video.path == tmp_path.resolve() / "video.mp4"
    with av.open(str(encoded.video.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(frames) == encoded.metadata["steps"] == 12
    assert frames[0].shape == (400, 600, 3)  # CartPole renders 600 x 400
    assert encoded.duration_s == pytest.approx(12 / 30)


def test_dict_and_tuple_spaces_are_flattened_by_field(tmp_path: Path) -> None:
    encoded = rt_gym.encode_rollout(ArmEnv(length=5), tmp_path, policy=lambda obs, info: (np.zeros(2), 2))
    sensors, actions = load_npz(tmp_path / "sensors.npz"), load_npz(tmp_path / "actions.npz")
    assert {name: array.shape for name, array in sensors.items()} == {
        "observation.arm/value": (5, 3),
        "observation.arm/_t_ns": (5,),
        "observation.gripper/value": (5, 1),
        "observation.gripper/_t_ns": (5,),
        "observation.pair.0/value": (5, 2),
        "observation.pair.0/_t_ns": (5,),
        "observation.pair.1/value": (5, 1),
        "observation.pair.1/_t_ns": (5,),
    }
    assert sensors["observation.arm/value"][2].tolist() == [2.0, -2.0, pytest.approx(0.2)]
    assert sensors["observation.gripper/value"][:, 0].tolist() == [0, 1, 0, 1, 0]
    assert {name: (array.shape, str(array.dtype)) for name, array in actions.items()} == {
        "action.0/value": ((5, 2), "float32"),
        "action.0/_t_ns": ((5,), "int64"),
        "action.1/value": ((5, 1), "float32"),
        "action.1/_t_ns": ((5,), "int64"),
    }
    assert actions["action.1/_t_ns"].tolist() == [i * 33_333_333 for i in range(5)]
    assert encoded.metadata["total_reward"] == 7.5
    assert encoded.metadata["gymnasium_env_id"] == "ArmEnv"


def test_scan_describes_without_stepping() -> None:
    summary = rt_gym.scan_env(ArmEnv())
    assert summary.env_id == "ArmEnv"
    assert summary.observation_space == "Dict(arm, gripper, pair)"
    assert summary.action_space == "Tuple(2 spaces)"
    assert summary.can_record_video
    assert "video: yes" in summary.report()


def test_a_policy_that_raises_is_one_line_naming_env_and_step(tmp_path: Path) -> None:
    def policy(obs: Any, info: Any) -> Any:
        if float(obs["arm"][0]) >= 3:
            raise RuntimeError("the network went NaN")
        return (np.zeros(2), 0)

    with pytest.raises(rt.ConfigurationError) as caught:
        rt_gym.encode_rollout(ArmEnv(length=10), tmp_path, policy=policy)
    message = str(caught.value)
    assert message == "ArmEnv: the policy at step 3 raised RuntimeError: the network went NaN"
    assert not (tmp_path / "video.mp4").exists()  # the half-written video is removed


def test_an_action_that_does_not_fit_its_space_names_the_env(tmp_path: Path) -> None:
    with pytest.raises(rt.ConfigurationError, match=r"^ArmEnv: action: the Tuple space of 2 got 3"):
        rt_gym.encode_rollout(ArmEnv(), tmp_path, policy=lambda obs, info: 3)


def test_frames_of_varying_size_are_refused(tmp_path: Path) -> None:
    env = ArmEnv(length=4, frame_sizes=[(24, 32), (24, 32), (30, 32), (24, 32)])
    with pytest.raises(rt.ConfigurationError, match=r"^ArmEnv: env.render\(\) frame 2 is 32x30, the first"):
        rt_gym.encode_rollout(env, tmp_path, policy=lambda obs, info: (np.zeros(2), 0))


def test_record_video_true_needs_rgb_array(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1")
    with pytest.raises(rt.ConfigurationError, match="render_mode='rgb_array'"):
        rt_gym.encode_rollout(env, tmp_path, policy=cartpole_policy, record_video=True)


def test_a_missing_library_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # what an environment without PyAV looks like to import
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    with pytest.raises(ImportError, match=r"pip install 'robotrace-dev\[gymnasium,video\]'"):
        rt_gym.encode_rollout(env, tmp_path, policy=cartpole_policy)
    with pytest.raises(rt.ConfigurationError):  # the official SDK's error class, too
        rt_gym.encode_rollout(env, tmp_path, policy=cartpole_policy)


def test_upload_sends_every_file_and_the_adapter_metadata() -> None:
    server = FakeServer()
    with client_for(server) as client:
        episode = rt_gym.upload_rollout(
            gym.make("CartPole-v1", render_mode="rgb_array"),
            policy=cartpole_policy,
            client=client,
            seed=SEED,
            max_steps=8,
            policy_version="fixed-v1",
            metadata={"team": "sim", "steps": "caller wins"},
        )
    create = server.routes("create")[0].json()
    assert create["source"] == "sim"
    assert create["name"] == "CartPole-v1 (gymnasium rollout)"
    assert create["request_uploads"] == ["video", "sensors", "actions"]
    assert create["metadata"]["adapter"] == "gymnasium"
    assert create["metadata"]["steps"] == "caller wins"
    assert {kind for _, kind in server.uploads} == {"video", "sensors", "actions"}
    final = server.routes("finalize")[0].json()
    assert (final["status"], final["fps"], final["duration_s"]) == ("ready", 30.0, pytest.approx(8 / 30))
    assert episode.status == "ready"


def test_a_failed_upload_finalizes_the_episode_failed_with_the_reason(tmp_path: Path) -> None:
    server = FakeServer()
    server.fail_next("upload", *[error(400, "bad bytes", "validation_error")] * 3)
    with client_for(server) as client, pytest.raises(rt.ValidationError):
        rt_gym.upload_rollout(
            ArmEnv(length=3), policy=lambda obs, info: (np.zeros(2), 0), client=client, output_dir=tmp_path
        )
    final = server.routes("finalize")[0].json()
    assert final["status"] == "failed"
    assert "bad bytes" in final["metadata"]["failure_reason"]
    assert (tmp_path / "sensors.npz").exists()  # the caller's folder is kept


def test_upload_rollout_to_the_server(tmp_path: Path, robotrace_server: RunningServer, api: Api) -> None:
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    with rt.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as client:
        episode = rt_gym.upload_rollout(
            env, policy=cartpole_policy, client=client, seed=SEED, max_steps=20, output_dir=tmp_path / "out"
        )
    stored = api.episode(episode.id)
    assert (stored["status"], stored["source"], stored["fps"]) == ("ready", "sim", 30)
    assert stored["metadata"]["gymnasium_env_id"] == "CartPole-v1"
    for kind, name in (("video", "video.mp4"), ("sensors", "sensors.npz"), ("actions", "actions.npz")):
        assert api.artifact(episode.id, kind) == (tmp_path / "out" / name).read_bytes(), kind
    assert_tracks_served(api, episode.id, tmp_path / "out", absolute=False)
    assert_video_plays(api.artifact(episode.id, "video"))
