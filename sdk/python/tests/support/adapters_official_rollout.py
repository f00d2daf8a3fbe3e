"""Run by the official SDK's Python (see adapters_official.py), not by pytest: one official adapter's encode
step into OUTPUT_DIR. Prints a JSON line with the metadata it computed.

    python adapters_official_rollout.py gymnasium OUTPUT_DIR SEED MAX_STEPS   (CartPole-v1, the fixed policy)
    python adapters_official_rollout.py hdf5 OUTPUT_DIR FILE EPISODE_INDEX
    python adapters_official_rollout.py lerobot OUTPUT_DIR DATASET_ROOT EPISODE_INDEX
    python adapters_official_rollout.py ros2 OUTPUT_DIR BAG
"""

from __future__ import annotations

import json
import sys
from typing import Any


def cartpole_policy(observation: Any, info: Any) -> int:
    """A fixed, deterministic policy: push towards the side the pole is falling to."""
    return int(float(observation[2]) + 0.5 * float(observation[3]) > 0)


def gymnasium_rollout(output_dir: str, seed: str, max_steps: str) -> dict[str, Any]:
    import gymnasium as gym

    from robotrace.adapters import gymnasium as rt_gym

    env = gym.make("CartPole-v1", render_mode="rgb_array")
    # No video: the official writes it with OpenCV, which this venv does not have; the NPZ files are compared.
    encoded = rt_gym.encode_rollout(
        env, output_dir, policy=cartpole_policy, seed=int(seed), max_steps=int(max_steps), record_video=False
    )
    return encoded.metadata


def hdf5_episode(output_dir: str, path: str, episode_index: str) -> dict[str, Any]:
    from robotrace.adapters import hdf5

    return hdf5.encode_episode(path, output_dir, episode_index=int(episode_index)).metadata


def lerobot_episode(output_dir: str, root: str, episode_index: str) -> dict[str, Any]:
    from robotrace.adapters import lerobot

    return lerobot.encode_episode(root, int(episode_index), output_dir).metadata


def ros2_bag(output_dir: str, bag: str) -> dict[str, Any]:
    from robotrace.adapters import ros2

    return ros2.encode_bag(bag, output_dir).metadata


def main() -> None:
    import robotrace

    run = {
        "gymnasium": gymnasium_rollout,
        "hdf5": hdf5_episode,
        "lerobot": lerobot_episode,
        "ros2": ros2_bag,
    }[sys.argv[1]]
    metadata = run(*sys.argv[2:])
    print(json.dumps({"robotrace_version": robotrace.__version__, "metadata": metadata}))


if __name__ == "__main__":
    main()
