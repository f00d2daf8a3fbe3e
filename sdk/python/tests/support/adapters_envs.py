"""Small Gymnasium envs with Dict and Tuple spaces (CartPole has only a Box and a Discrete)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class ArmEnv(gym.Env[Any, Any]):
    """Observation Dict(arm: Box(3), gripper: Discrete(2), pair: Tuple(Box(2), Discrete(4))); action
    Tuple(Box(2), Discrete(3)). Ends after ``length`` steps; renders ``frame_sizes[step]`` frames."""

    metadata = {"render_modes": ["rgb_array"]}  # noqa: RUF012 - gymnasium's own class attribute

    def __init__(self, length: int = 5, frame_sizes: list[tuple[int, int]] | None = None) -> None:
        self.observation_space = gym.spaces.Dict(
            {
                "arm": gym.spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float64),
                "gripper": gym.spaces.Discrete(2),
                "pair": gym.spaces.Tuple((gym.spaces.Box(0.0, 1.0, shape=(2,)), gym.spaces.Discrete(4))),
            }
        )
        self.action_space = gym.spaces.Tuple((gym.spaces.Box(-1.0, 1.0, shape=(2,)), gym.spaces.Discrete(3)))
        self.render_mode = "rgb_array"
        self._length = length
        self._frame_sizes = frame_sizes
        self._step = 0

    def _obs(self) -> dict[str, Any]:
        t = float(self._step)
        return {
            "arm": np.array([t, -t, t / 10]),
            "gripper": self._step % 2,
            "pair": (np.array([t / 100, 0.5], dtype=np.float32), self._step % 4),
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self._step = 0
        return self._obs(), {}

    def step(self, action: Any) -> Any:
        self._step += 1
        return self._obs(), 1.5, self._step >= self._length, False, {}

    def render(self) -> Any:
        height, width = self._frame_sizes[self._step] if self._frame_sizes else (24, 32)
        return np.full((height, width, 3), self._step * 20, dtype=np.uint8)
