"""Run by the official SDK's Python (see adapters_official.py), not by pytest: one CartPole-v1 rollout through
the official gymnasium adapter's ``encode_rollout``. Prints a JSON line with its metadata.

    python adapters_official_rollout.py OUTPUT_DIR SEED MAX_STEPS
"""

from __future__ import annotations

import json
import sys
from typing import Any


def cartpole_policy(observation: Any, info: Any) -> int:
    """A fixed, deterministic policy: push towards the side the pole is falling to."""
    return int(float(observation[2]) + 0.5 * float(observation[3]) > 0)


def main() -> None:
    import gymnasium as gym

    import robotrace
    from robotrace.adapters import gymnasium as rt_gym

    output_dir, seed, max_steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    # No video: the official writes it with OpenCV, which this venv does not have; the NPZ files are compared.
    encoded = rt_gym.encode_rollout(
        env, output_dir, policy=cartpole_policy, seed=seed, max_steps=max_steps, record_video=False
    )
    print(json.dumps({"robotrace_version": robotrace.__version__, "metadata": encoded.metadata}))


if __name__ == "__main__":
    main()
