"""The per-episode metrics of a replay (OFFICIAL_PILLARS.md §1), computed as the official 0.3.0 harness does.

NPZ members are ``"<topic>/<field>"`` arrays with the step on axis 0 (the topic is everything before the last
``/``); ``"<topic>/_t_ns"`` holds the step times and is never an action.

* ``action_l2_distance``: per step, the L2 norm of (baseline - candidate) over every numeric baseline action
  the candidate returned with the same shape (looked up by the full key, else by the topic), averaged over
  the steps where at least one matched; None when none did.
* ``ood_action_share``: the share of candidate steps with some action more than 3 standard deviations from
  the baseline's per-key mean (baseline keys with at least 5 steps; a constant channel counts with std 1);
  only steps that returned any such key count; None when none did.
* outcome (success, reward_total, collision_count, time_to_goal_s): the baseline's from its metadata, then
  ``metadata.outcome``, then ``metadata.lerobot_episode_outcome``; the candidate's from an ``"_outcome"``
  mapping in its last action, else the baseline's.

``np`` is numpy, passed in so that importing the harness never needs it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .model import Action, Observation

OOD_Z = 3.0
OOD_MIN_STEPS = 5
OUTCOME_KEYS = ("success", "reward_total", "collision_count", "time_to_goal_s")


def _by_topic(arrays: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    topics: dict[str, dict[str, Any]] = {}
    for key, value in arrays.items():
        topic, _, name = key.rpartition("/")
        topics.setdefault(topic, {})[name] = value
    return topics


def _steps(value: Any) -> int | None:
    """The length of axis 0; None for a scalar (0-d) member."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) >= 1 else None
    try:
        return len(value)
    except TypeError:
        return None


def materialize_observations(sensors: Mapping[str, Any] | None, *, np: Any) -> list[Observation]:
    """One dict per step with row ``i`` of every member (``_t_ns`` included), for as many steps as the
    shortest member has."""
    if not sensors:
        return []
    lengths = [n for n in (_steps(v) for v in sensors.values()) if n is not None]
    if not lengths:
        return []
    rows = [k for k in sensors if _steps(sensors[k]) is not None]
    return [{key: np.asarray(sensors[key][i]) for key in rows} for i in range(min(lengths))]


def _numeric(value: Any, np: Any) -> bool:
    try:
        return bool(np.issubdtype(np.asarray(value).dtype, np.number))
    except (TypeError, ValueError):
        return False


def _action_members(baseline: Mapping[str, Any], np: Any) -> dict[str, tuple[str, Any]]:
    """Full key → (topic, array) of the numeric, per-step baseline actions."""
    members: dict[str, tuple[str, Any]] = {}
    for key, value in baseline.items():
        topic, sep, name = key.rpartition("/")
        if not sep or name == "_t_ns" or _steps(value) is None or not _numeric(value, np):
            continue
        members[key] = (topic, value)
    return members


def action_l2_distance(
    baseline_actions: Mapping[str, Any] | None, candidate_actions: list[Action], *, np: Any
) -> float | None:
    if not baseline_actions or not candidate_actions:
        return None
    members = _action_members(baseline_actions, np)
    if not members:
        return None
    steps = min(*(_steps(v) or 0 for _, v in members.values()), len(candidate_actions))
    norms: list[float] = []
    for i in range(steps):
        action = candidate_actions[i]
        total, matched = 0.0, 0
        for key, (topic, array) in members.items():
            value = action.get(key, action.get(topic))
            if value is None:
                continue
            want = np.asarray(array[i], dtype=np.float64).ravel()
            got = np.asarray(value, dtype=np.float64).ravel()
            if want.shape != got.shape:
                continue
            diff = want - got
            total += float(np.dot(diff, diff))
            matched += 1
        if matched:
            norms.append(math.sqrt(total))
    return float(sum(norms) / len(norms)) if norms else None


def ood_action_share(
    baseline_actions: Mapping[str, Any] | None, candidate_actions: list[Action], *, np: Any
) -> float | None:
    if not baseline_actions or not candidate_actions:
        return None
    stats: dict[str, tuple[Any, Any]] = {}
    for key, (_, array) in _action_members(baseline_actions, np).items():
        values = np.asarray(array, dtype=np.float64)
        if values.shape[0] < OOD_MIN_STEPS:
            continue
        std = values.std(axis=0)
        stats[key] = (values.mean(axis=0).ravel(), np.where(std < 1e-9, 1.0, std).ravel())
    if not stats:
        return None
    outside = counted = 0
    for action in candidate_actions:
        worst, keyed = 0.0, False
        for key, (mean, std) in stats.items():
            value = action.get(key)
            if value is None:
                continue
            keyed = True
            got = np.asarray(value, dtype=np.float64).ravel()
            if got.shape != mean.shape:
                continue
            worst = max(worst, float(np.abs((got - mean) / std).max()))
        if keyed:
            counted += 1
            outside += worst > OOD_Z
    return outside / counted if counted else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def extract_outcome(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """success / reward_total / collision_count / time_to_goal_s from a baseline's metadata (first found)."""
    sources = [metadata]
    sources += [
        v
        for v in (metadata.get("outcome"), metadata.get("lerobot_episode_outcome"))
        if isinstance(v, Mapping)
    ]
    found: dict[str, Any] = {}
    for source in sources:
        if "success" not in found:
            for key in ("success", "next.success"):
                if isinstance(source.get(key), bool):
                    found["success"] = source[key]
                    break
        if "reward_total" not in found:
            for key in ("reward_total", "next.reward_sum", "reward"):
                number = _number(source.get(key))
                if number is not None:
                    found["reward_total"] = number
                    break
        for key in ("collision_count", "time_to_goal_s"):
            number = _number(source.get(key))
            if key not in found and number is not None:
                found[key] = number
    return found


def outcome_from_actions(actions: list[Action]) -> dict[str, Any]:
    """The candidate's own outcome: the ``"_outcome"`` mapping of its last action, if any."""
    sentinel = actions[-1].get("_outcome") if actions else None
    if not isinstance(sentinel, Mapping):
        return {}
    return {key: sentinel[key] for key in OUTCOME_KEYS if key in sentinel}


def episode_metrics(
    baseline_outcome: Mapping[str, Any],
    candidate_outcome: Mapping[str, Any],
    action_l2: float | None,
    ood_share: float | None,
    step_count: int,
) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for key in OUTCOME_KEYS:
        base = baseline_outcome.get(key)
        metrics[f"{key}_baseline"] = base
        metrics[f"{key}_candidate"] = candidate_outcome.get(key, base)
    metrics["action_l2_distance"] = action_l2
    metrics["ood_action_share"] = ood_share
    metrics["step_count"] = step_count
    return {key: jsonable(value) for key, value in metrics.items()}


def jsonable(value: Any) -> Any:
    """A JSON-safe metric: numpy scalars as Python numbers, NaN and infinities as None."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (bool, int, float, str)):
        try:
            value = item()
        except (TypeError, ValueError):
            return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return None
