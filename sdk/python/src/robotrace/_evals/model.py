"""The harness's value types: an eval run, one result per baseline episode, and the policy's shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._client import Client

# One step of a baseline's sensors, keyed as in its NPZ ("/joint_states/position", "observation/value", ...).
Observation = dict[str, Any]
# What the policy returns for a step, keyed like the baseline's actions ("/cmd_vel/linear", "action/value").
# An "_outcome" mapping in the last step's action sets the candidate's success / reward_total /
# collision_count / time_to_goal_s.
Action = dict[str, Any]
# The candidate policy: called locally, once per step; its weights never leave the machine.
PolicyCallable = Callable[[Observation], Action]


@dataclass
class EvalRun:
    """An eval run on the server: what ``create_run`` opened, ``run_against`` walks and ``complete_run``
    closes. Counts are this process's."""

    id: str
    candidate_policy_version: str
    baseline_policy_version: str | None
    baseline_episode_ids: list[str]
    name: str | None
    runner_kind: str = "client"
    status: str = "pending"
    episodes_completed: int = 0
    episodes_failed: int = 0
    _client: Client | None = field(default=None, repr=False, compare=False)


@dataclass
class EvalResult:
    """One baseline episode replayed: ``status`` ``"complete"`` (with ``metrics``) or ``"failed"`` (with
    ``error``); ``candidate_episode_id`` is the replay episode logged for it (None on a dry run)."""

    baseline_episode_id: str
    candidate_episode_id: str | None
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
