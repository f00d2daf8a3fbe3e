"""robomimic- and ALOHA-style demonstration files, written with h5py the way those projects write them."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np


def frames(steps: int, height: int = 24, width: int = 32, shift: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB frames with a red gradient and a moving bright column."""
    stack = np.zeros((steps, height, width, 3), dtype=np.uint8)
    stack[:, :, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, None, :]
    for t in range(steps):
        stack[t, :, (t + shift) % width, :] = 255
    return stack


def write_robomimic(path: Path, *, demos: tuple[int, ...] = (12, 8, 10), images: bool = True) -> Path:
    """``data/demo_N`` groups (N = 0, 1, ... with lengths ``demos``), env_args naming the env and robot."""
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = sum(demos)
        data.attrs["env_args"] = json.dumps(
            {"env_name": "Lift", "type": 1, "env_kwargs": {"robots": ["Panda"], "control_freq": 20}}
        )
        for index, steps in enumerate(demos):
            demo = data.create_group(f"demo_{index}")
            demo.attrs["num_samples"] = steps
            demo.create_dataset("actions", data=np.linspace(-1, 1, steps * 7).reshape(steps, 7))
            demo.create_dataset("rewards", data=np.r_[np.zeros(steps - 1), 1.0])
            demo.create_dataset("dones", data=np.r_[np.zeros(steps - 1, dtype=np.int64), 1])
            demo.create_dataset("states", data=np.arange(steps * 5, dtype=np.float64).reshape(steps, 5))
            obs = demo.create_group("obs")
            obs.create_dataset("robot0_eef_pos", data=np.full((steps, 3), index, dtype=np.float64))
            obs.create_dataset("robot0_gripper_qpos", data=np.zeros((steps, 2)))
            if images:
                obs.create_dataset("agentview_image", data=frames(steps))
                obs.create_dataset("robot0_eye_in_hand_image", data=frames(steps, shift=5))
    return path


def write_aloha(
    path: Path, *, steps: int = 15, sim: bool = False, cameras: tuple[str, ...] = ("top",)
) -> Path:
    """One episode per file: /action (14), /observations/{qpos, qvel, effort, images/<camera>}."""
    with h5py.File(path, "w") as f:
        f.attrs["sim"] = sim
        f.attrs["compress"] = False
        obs = f.create_group("observations")
        images = obs.create_group("images")
        for camera in cameras:
            images.create_dataset(camera, data=frames(steps, 48, 64), chunks=(1, 48, 64, 3))
        obs.create_dataset("qpos", data=np.tile(np.arange(14, dtype=np.float64), (steps, 1)))
        obs.create_dataset("qvel", data=np.zeros((steps, 14)))
        obs.create_dataset("effort", data=np.ones((steps, 14)))
        f.create_dataset("action", data=np.ones((steps, 14)) * 0.5)
    return path
