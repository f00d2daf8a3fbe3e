"""robotrace.evals and robotrace.verify against the started server: baselines logged with NPZ sensors and
actions, replayed through a local policy; candidate episodes, results, the summary and the release gate as the
server records them (OFFICIAL_PILLARS.md §1, §2)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import robotrace as rt

from ..support.api import Api

STEPS = 10
OUTCOME = {"success": True, "reward_total": 2.0, "collision_count": 0, "time_to_goal_s": 4.0}


def _npz(path: Path, **arrays: Any) -> Path:
    np.savez(path, **arrays)
    return path


def baseline(
    client: rt.Client, tmp_path: Path, *, metadata: dict[str, Any], npz: bool = True, trigger: bool = False
) -> str:
    """A baseline episode: joint positions in its sensors, velocity commands in its actions."""
    tag = uuid.uuid4().hex[:6]
    t_ns = np.arange(STEPS, dtype=np.int64) * 20_000_000
    files: dict[str, Path] = {}
    if npz:
        sensors = {"/joint_states/position": np.arange(STEPS * 3, dtype=np.float32).reshape(STEPS, 3)}
        if trigger:
            sensors["/trigger/value"] = np.ones((STEPS, 1), dtype=np.float32)
        files["sensors"] = _npz(
            tmp_path / f"sensors-{tag}.npz",
            **sensors,
            **{"/joint_states/_t_ns": t_ns},
        )
        files["actions"] = _npz(
            tmp_path / f"actions-{tag}.npz",
            **{"/cmd_vel/linear": np.zeros((STEPS, 3), dtype=np.float32), "/cmd_vel/_t_ns": t_ns},
        )
    return log_baseline(client, f"baseline {tag}", metadata, files)


def log_baseline(client: rt.Client, name: str, metadata: dict[str, Any], files: dict[str, Path]) -> str:
    """As the adapters do it: an .npz is an actions file only by its slot (log_episode goes by extension)."""
    with client.start_episode(
        name=name, policy_version="pap-v12", metadata=metadata, artifacts=list(files)
    ) as ep:
        for kind, path in files.items():
            ep.upload(kind, path)  # type: ignore[arg-type]
    return ep.id


def policy(observation: dict[str, Any]) -> dict[str, Any]:
    if "/trigger/value" in observation:
        raise RuntimeError("the policy tripped")
    position = observation["/joint_states/position"]
    return {"/cmd_vel/linear": np.full(3, 4.0) + 0 * position, "_outcome": OUTCOME}


def test_a_run_replays_each_baseline_logs_candidates_and_summarizes(
    client: rt.Client, api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worse = {"outcome": {"success": False, "reward_total": 1.0, "collision_count": 2, "time_to_goal_s": 5.0}}
    b1 = baseline(client, tmp_path, metadata=worse)
    b2 = baseline(
        client, tmp_path, metadata={"lerobot_episode_outcome": {"next.success": True, "next.reward_sum": 1}}
    )
    b3 = baseline(client, tmp_path, metadata={"success": True}, npz=False)  # metric-only
    b4 = baseline(client, tmp_path, metadata={}, trigger=True)  # the policy raises on it

    run = rt.evals.create_run(
        candidate_policy_version="pap-v13",
        baseline_episode_ids=[b1, b2, b3, b4],
        baseline_policy_version="pap-v12",
        name="nightly sweep",
        client=client,
    )
    assert run.status == "pending"
    seen: list[rt.evals.EvalResult] = []
    results = rt.evals.run_against(run, policy_callable=policy, on_episode=seen.append)

    assert [r.baseline_episode_id for r in results] == [b1, b2, b3, b4]
    assert seen == results
    assert [r.status for r in results] == ["complete", "complete", "complete", "failed"]
    assert results[3].error == "RuntimeError: the policy tripped"
    assert results[3].candidate_episode_id is None
    assert "RuntimeError: the policy tripped" in capsys.readouterr().err  # the traceback, for the user
    assert (run.episodes_completed, run.episodes_failed) == (3, 1)

    m1 = results[0].metrics
    assert m1["success_baseline"] is False
    assert m1["success_candidate"] is True
    assert m1["reward_total_baseline"] == 1.0
    assert m1["collision_count_candidate"] == 0
    assert m1["step_count"] == STEPS
    assert m1["action_l2_distance"] == pytest.approx(np.sqrt(48.0))  # |(4, 4, 4) - (0, 0, 0)|, every step
    assert m1["ood_action_share"] == 1.0  # 4 sigma from a constant 0 (std taken as 1)
    assert results[1].metrics["success_baseline"] is True
    assert results[1].metrics["reward_total_baseline"] == 1.0
    m3 = results[2].metrics
    assert (m3["step_count"], m3["action_l2_distance"], m3["ood_action_share"]) == (0, None, None)
    assert m3["success_baseline"] is True

    for result, baseline_id in zip(results[:3], [b1, b2, b3]):
        assert result.candidate_episode_id is not None
        stored = api.episode(result.candidate_episode_id)
        assert stored["status"] == "ready"
        assert stored["source"] == "replay"
        assert stored["policy_version"] == "pap-v13"
        assert stored["name"] == f"nightly sweep · {baseline_id[:8]}"
        assert stored["metadata"]["eval_run_id"] == run.id
        assert stored["metadata"]["baseline_episode_id"] == baseline_id
        assert stored["metadata"]["metrics"] == result.metrics

    answer = rt.evals.complete_run(run)
    assert answer["eval_run_id"] == run.id
    assert answer["status"] == run.status == "completed"
    summary = answer["summary"]
    assert summary["results_counted"] == 3
    assert summary["success_rate"]["baseline"] == pytest.approx(2 / 3)
    assert summary["success_rate"]["candidate"] == 1.0
    assert summary["recommend"] == "ship"
    assert rt.evals.complete_run(run) == answer  # a repeat changes nothing


def test_a_dry_run_uploads_nothing(client: rt.Client, api: Api, tmp_path: Path) -> None:
    b1 = baseline(client, tmp_path, metadata={})
    run = rt.evals.create_run(candidate_policy_version="pap-dry", baseline_episode_ids=[b1], client=client)
    before = len(api.list(limit="200"))
    results = rt.evals.run_against(run, policy_callable=policy, dry_run=True)
    assert results[0].status == "complete"
    assert results[0].candidate_episode_id is None
    assert results[0].metrics["step_count"] == STEPS
    assert len(api.list(limit="200")) == before


def test_a_policy_returning_no_mapping_fails_that_result(client: rt.Client, tmp_path: Path) -> None:
    b1 = baseline(client, tmp_path, metadata={})
    run = rt.evals.create_run(candidate_policy_version="pap-bad", baseline_episode_ids=[b1], client=client)
    [result] = rt.evals.run_against(run, policy_callable=lambda obs: [1, 2, 3])  # type: ignore[arg-type,return-value]
    assert result.status == "failed"
    assert result.error == "TypeError: policy_callable must return a Mapping[str, ndarray]; got list"


def test_unknown_ids_are_clear_errors(client: rt.Client) -> None:
    with pytest.raises(rt.NotFoundError) as caught:
        rt.evals.create_run(
            candidate_policy_version="pap-v13", baseline_episode_ids=[str(uuid.uuid4())], client=client
        )
    assert "\n" not in str(caught.value)
    ghost = rt.evals.EvalRun(str(uuid.uuid4()), "pap-v13", None, ["x"], None, _client=client)
    with pytest.raises(rt.NotFoundError):
        rt.evals.complete_run(ghost)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"candidate_policy_version": " ", "baseline_episode_ids": ["a"]}, "candidate_policy_version"),
        ({"candidate_policy_version": "v", "baseline_episode_ids": []}, "at least one baseline"),
        ({"candidate_policy_version": "v", "baseline_episode_ids": ["a", " "]}, "empty string"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(rt.ConfigurationError, match=message):
        rt.evals.create_run(**kwargs)


def test_the_gate_blocks_then_passes_after_a_replay(client: rt.Client, tmp_path: Path) -> None:
    version = f"pap-gate-{uuid.uuid4().hex[:6]}"
    b1 = baseline(client, tmp_path, metadata={"outcome": {"success": False}})
    promoted = rt.verify.promote(
        baseline_episode_id=b1, severity="critical", name="pick at the edge", client=client
    )
    assert promoted["promoted"] is True
    again = rt.verify.promote(baseline_episode_id=b1, severity="critical", client=client)
    assert again == {**again, "scenario_id": promoted["scenario_id"], "promoted": False}

    blocked = rt.verify.check_gate(candidate_policy_version=version, client=client)  # HTTP 422, returned
    assert blocked["passed"] is False
    mine = [s for s in blocked["scenarios"] if s["scenario_id"] == promoted["scenario_id"]]
    assert mine == [
        {**mine[0], "baseline_episode_id": b1, "severity": "critical", "latest_status": "pending"}
    ]

    with pytest.raises(rt.ConfigurationError, match="policy_callable"):
        rt.verify.run_check(candidate_policy_version=version, client=client)


def test_run_check_replays_failing_critical_scenarios(client: rt.Client, tmp_path: Path) -> None:
    # Every critical scenario of the project counts: replay them all with a policy that succeeds.
    version = f"pap-ok-{uuid.uuid4().hex[:6]}"
    b1 = baseline(client, tmp_path, metadata={"outcome": {"success": False}})
    scenario = rt.verify.promote(baseline_episode_id=b1, severity="critical", client=client)["scenario_id"]
    code, gate = rt.verify.run_check(candidate_policy_version=version, policy_callable=policy, client=client)
    assert (code, gate["passed"]) == (0, True)
    assert gate["critical_failed"] == gate["critical_pending"] == 0
    mine = [s for s in gate["scenarios"] if s["scenario_id"] == scenario]
    assert mine[0]["latest_status"] == "pass"

    recorded = rt.verify.record_result(
        scenario_id=scenario,
        candidate_policy_version=version,
        metrics={"success_candidate": False},
        client=client,
    )
    assert recorded["status"] == "fail"  # derived by the server
    code, gate = rt.verify.run_check(
        candidate_policy_version=version, policy_callable=policy, dry_run=True, client=client
    )
    assert (code, gate["passed"]) == (1, False)  # a dry run records nothing
