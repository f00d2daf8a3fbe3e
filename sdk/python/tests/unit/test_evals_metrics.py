"""The replay metrics are the official 0.3.0 harness's: the same baseline NPZ, candidate actions and
metadata through its functions (in its own venv, with numpy) and ours give the same numbers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robotrace._evals import metrics
from robotrace._evals.runner import _load_npz

from ..support.adapters_official import LIBS, OFFICIAL_PYTHON, _ensure_libs

OFFICIAL = """
import json, sys
import numpy as np
from robotrace import evals
case = json.load(open(sys.argv[1]))
def load(path):
    if path is None:
        return None
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
actions, sensors = load(case["actions"]), load(case["sensors"])
candidate = [
    {k: (np.asarray(v) if k != "_outcome" else v) for k, v in step.items()} for step in case["candidate"]
]
print(json.dumps({
    "l2": evals._action_l2_distance(actions, candidate, np=np),
    "ood": evals._ood_action_share(actions, candidate, np=np),
    "steps": len(evals._materialize_observations(sensors, np=np)),
    "outcome": [evals._extract_outcome(m) for m in case["metadata"]],
    "candidate_outcome": evals._extract_outcome_from_actions(candidate),
}))
"""

METADATA = [
    {"outcome": {"success": True, "reward_total": 3, "collision_count": 1, "time_to_goal_s": 2.5}},
    {"success": False, "outcome": {"success": True, "reward": 7}},
    {"lerobot_episode_outcome": {"next.success": True, "next.reward_sum": 4.5}},
    {"success": 1, "reward_total": "high", "outcome": "n/a", "time_to_goal_s": 9},
    {},
]


def _case(tmp_path: Path, name: str, actions: dict[str, Any] | None, sensors: dict[str, Any] | None,
          candidate: list[dict[str, Any]]) -> Path:  # fmt: skip
    paths: dict[str, str | None] = {}
    for kind, arrays in (("actions", actions), ("sensors", sensors)):
        if arrays is None:
            paths[kind] = None
            continue
        path = tmp_path / f"{name}-{kind}.npz"
        np.savez(path, **arrays)
        paths[kind] = str(path)
    steps = [
        {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in step.items()} for step in candidate
    ]
    case = tmp_path / f"{name}.json"
    case.write_text(json.dumps({**paths, "candidate": steps, "metadata": METADATA}))
    return case


def _official(case: Path) -> dict[str, Any]:
    _ensure_libs()
    env = {**os.environ, "PYTHONPATH": str(LIBS), "PYTHONNOUSERSITE": "1"}
    done = subprocess.run(
        [str(OFFICIAL_PYTHON), "-c", OFFICIAL, str(case)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def _ours(case: Path) -> dict[str, Any]:
    spec = json.loads(case.read_text())
    load = lambda p: None if p is None else _load_npz(Path(p).read_bytes(), "test", np)  # noqa: E731
    actions, sensors = load(spec["actions"]), load(spec["sensors"])
    candidate = [
        {k: (np.asarray(v) if k != "_outcome" else v) for k, v in s.items()} for s in spec["candidate"]
    ]
    return {
        "l2": metrics.action_l2_distance(actions, candidate, np=np),
        "ood": metrics.ood_action_share(actions, candidate, np=np),
        "steps": len(metrics.materialize_observations(sensors, np=np)),
        "outcome": [metrics.extract_outcome(m) for m in spec["metadata"]],
        "candidate_outcome": metrics.outcome_from_actions(candidate),
    }


def _ros_like(
    rng: np.random.Generator, steps: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    t_ns = 1_796_000_000_000_000_000 + np.arange(steps, dtype=np.int64) * 20_000_000
    actions = {
        "/cmd_vel/linear": rng.normal(size=(steps, 3)).astype(np.float32),
        "/cmd_vel/angular": rng.normal(size=(steps, 3)),
        "/cmd_vel/_t_ns": t_ns,
        "/gripper/closed": rng.random(steps) > 0.5,  # bool: not an action the metrics compare
    }
    sensors = {"/joint_states/position": rng.normal(size=(steps + 2, 6)), "/joint_states/_t_ns": t_ns}
    candidate: list[dict[str, Any]] = []
    for i in range(steps - 1):  # one step short of the baseline
        step: dict[str, Any] = {
            "/cmd_vel/linear": actions["/cmd_vel/linear"][i] + rng.normal(scale=0.1, size=3)
        }
        if i % 3 == 0:
            step["/cmd_vel/angular"] = rng.normal(scale=5.0, size=3)  # often out of distribution
        if i % 4 == 0:
            step["/cmd_vel/linear"] = np.zeros(2)  # the wrong shape: skipped
        if i == 5:
            step = {"unrelated": np.ones(1)}
        candidate.append(step)
    candidate[-1]["_outcome"] = {"success": True, "reward_total": 1.5, "ignored": 3}
    return actions, sensors, candidate


def _gym_like(
    rng: np.random.Generator, steps: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    actions = {"action/value": rng.integers(0, 2, size=(steps, 1)).astype(np.float32)}
    sensors = {"observation/value": rng.normal(size=(steps, 4)).astype(np.float32)}
    candidate = [{"action": np.asarray([float(i % 2)])} for i in range(steps)]  # by topic: L2 only
    return actions, sensors, candidate


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("shape", "steps"), [("ros", 40), ("ros", 4), ("gym", 25)])
def test_metrics_match_the_official_harness(tmp_path: Path, shape: str, steps: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    actions, sensors, candidate = (_ros_like if shape == "ros" else _gym_like)(rng, steps)
    case = _case(tmp_path, f"{shape}{steps}", actions, sensors, candidate)
    official, ours = _official(case), _ours(case)
    assert ours["steps"] == official["steps"]
    assert ours["outcome"] == official["outcome"]
    assert ours["candidate_outcome"] == official["candidate_outcome"]
    for key in ("l2", "ood"):
        assert (ours[key] is None) == (official[key] is None), key
        if official[key] is not None:
            assert ours[key] == pytest.approx(official[key], rel=1e-12), key
    if steps >= 5:  # the cases exercise the numbers, not only the None paths
        assert ours["l2"] is not None
        assert (ours["ood"] is None) == (shape == "gym")  # by topic ("action") counts for L2 only


def test_no_baseline_files_give_no_action_metrics(tmp_path: Path) -> None:
    case = _case(tmp_path, "none", None, None, [])
    assert _ours(case) == _official(case)


def test_an_object_member_is_left_out_never_unpickled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sensors.npz"
    np.savez(path, **{"/a/x": np.ones((3, 2)), "/labels/text": np.array(["a", None, "ccc"], dtype=object)})
    loaded = _load_npz(path.read_bytes(), "sensors of e1", np)
    assert list(loaded) == ["/a/x"]
    assert (
        "skipped '/labels/text' of the baseline's sensors of e1: an object array" in capsys.readouterr().err
    )


def test_a_file_that_is_no_npz_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="the baseline's actions of e1 is not an NPZ"):
        _load_npz(b"not a zip at all", "actions of e1", np)


@pytest.mark.parametrize(
    ("value", "sent"),
    [(float("nan"), None), (float("inf"), None), (np.float32(0.5), 0.5), (np.bool_(True), True), (3, 3)],
)
def test_metrics_are_json(value: Any, sent: Any) -> None:
    out = metrics.episode_metrics(
        {"success": value}, {}, value if not isinstance(value, np.bool_) else None, None, 1
    )
    assert out["success_baseline"] == sent
    json.dumps(out, allow_nan=False)
