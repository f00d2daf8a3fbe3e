"""Gymnasium: one rollout of an env with a policy becomes an episode.

::

    import gymnasium as gym
    from robotrace.adapters import gymnasium as rt_gym

    env = gym.make("CartPole-v1", render_mode="rgb_array")
    print(rt_gym.scan_env(env).report())                                # describe, run nothing
    rt_gym.encode_rollout(env, "out/", policy=lambda obs, info: 0, seed=42)   # files only
    rt_gym.upload_rollout(env, policy=my_policy, policy_version="ppo-v3", seed=42)

Observations go to ``sensors.npz`` and actions to ``actions.npz``, one ``<field>/value`` array per field of a
Box, Discrete, MultiDiscrete, MultiBinary, Dict or Tuple space (``observation``, ``observation.arm``,
``action.0``) with ``<field>/_t_ns`` times from 0, ``1/fps`` apart. With ``render_mode="rgb_array"`` the
frames of ``env.render()`` become ``video.mp4`` (H.264; the ``[video]`` extra). Metadata: ``adapter``,
``gymnasium_env_id``, ``total_reward``, ``steps``, ``terminated``, ``truncated`` (and ``render_mode``).
Install with ``pip install 'robotrace-dev[gymnasium,video]'``.
"""

from __future__ import annotations

from .._adapters.artifacts import EncodedArtifact
from .._adapters.gym_rollout import (
    EncodedRollout,
    EnvSummary,
    Policy,
    encode_rollout,
    scan_env,
    upload_rollout,
)

__all__ = [
    "EncodedArtifact",
    "EncodedRollout",
    "EnvSummary",
    "Policy",
    "encode_rollout",
    "scan_env",
    "upload_rollout",
]

for _name in (
    "EncodedArtifact",
    "EncodedRollout",
    "EnvSummary",
    "encode_rollout",
    "scan_env",
    "upload_rollout",
):
    globals()[_name].__module__ = __name__
del _name
