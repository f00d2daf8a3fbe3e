"""How the harness talks to the API (through ``httpx.MockTransport``, every request recorded): the artifact
redirect is followed without the API key, 404 means absent, a metadata error reads as {}, creates and results
carry an Idempotency-Key, a 422 from the gate is returned only when it is the gate's body."""

from __future__ import annotations

import io
import json
from typing import Any, Callable

import httpx
import numpy as np
import pytest

import robotrace as rt

BASE = "http://robotrace.test"
KEY = "rt_unit_0123456789abcdefghijklmnop"


def _npz(**arrays: Any) -> bytes:
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def client_for(handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]) -> rt.Client:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return rt.Client(
        api_key=KEY, base_url=BASE, transport=httpx.MockTransport(record), verbose=False, max_retries=0
    )


def test_the_signed_artifact_url_never_gets_the_key_and_404_is_absent() -> None:
    sensors = _npz(
        **{"/imu/linear_acceleration": np.zeros((3, 3)), "/imu/_t_ns": np.arange(3, dtype=np.int64)}
    )

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/ingest/eval-run":
            return httpx.Response(201, json={"eval_run_id": "run-1", "status": "pending", "episode_count": 1})
        if path.endswith("/artifact/sensors"):
            return httpx.Response(302, headers={"location": "https://bucket.example/signed?sig=abc"})
        if path.endswith("/artifact/actions"):
            return httpx.Response(404, json={"error": "no actions"})
        if request.url.host == "bucket.example":
            return httpx.Response(200, content=sensors)
        if path == "/api/episodes/ep-1":
            return httpx.Response(500, json={"error": "metadata store down"})
        if path == "/api/ingest/episode":
            return httpx.Response(
                201, json={"episode_id": "cand-1", "status": "recording", "upload_urls": []}
            )
        if path == "/api/ingest/episode/cand-1/finalize":
            return httpx.Response(200, json={"status": "ready"})
        if path == "/api/ingest/eval-run/run-1/result":
            return httpx.Response(200, json={"eval_result_id": "r"})
        return httpx.Response(404, json={"error": f"unexpected {path}"})

    seen: list[httpx.Request] = []
    with client_for(handler, seen) as client:
        run = rt.evals.create_run(candidate_policy_version="v2", baseline_episode_ids=["ep-1"], client=client)
        [result] = rt.evals.run_against(run, policy_callable=lambda obs: {"/cmd_vel/linear": np.zeros(3)})
    assert result.status == "complete", result.error
    assert result.candidate_episode_id == "cand-1"
    assert result.metrics["step_count"] == 3
    assert result.metrics["action_l2_distance"] is None  # no baseline actions: metric-only
    assert result.metrics["success_baseline"] is None  # the metadata error read as {}
    signed = [r for r in seen if r.url.host == "bucket.example"]
    assert len(signed) == 1
    assert "authorization" not in signed[0].headers
    api = [r for r in seen if r.url.host == "robotrace.test"]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in api)
    writes = [r for r in api if r.url.path in ("/api/ingest/eval-run", "/api/ingest/eval-run/run-1/result")]
    assert len(writes) == 2
    assert all(r.headers.get("idempotency-key") for r in writes)
    posted = json.loads(writes[1].content)
    assert posted == {
        "baseline_episode_id": "ep-1",
        "status": "complete",
        "metrics": result.metrics,
        "candidate_episode_id": "cand-1",
    }


def test_a_failing_download_fails_that_result_with_the_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/artifact/actions"):
            return httpx.Response(403, json={"error": "storage refused"})
        return httpx.Response(200, json={"eval_result_id": "r"})

    seen: list[httpx.Request] = []
    with client_for(handler, seen) as client:
        run = rt.evals.EvalRun("run-2", "v2", None, ["ep-9"], None, _client=client)
        [result] = rt.evals.run_against(run, policy_callable=lambda obs: {})
    assert result.status == "failed"
    assert (
        result.error
        == "APIError: downloading the baseline's actions (ep-9) failed: storage refused (HTTP 403)"
    )
    assert json.loads(seen[-1].content)["status"] == "failed"


@pytest.mark.parametrize(
    ("status", "body", "returned"),
    [
        (200, {"passed": True, "critical_total": 0}, True),
        (422, {"passed": False, "critical_total": 1, "blockers": ["x"]}, True),
        (422, {"error": "candidate_policy_version: too long"}, False),
    ],
)
def test_check_gate_returns_a_blocked_gate_and_raises_other_errors(
    status: int, body: dict[str, Any], returned: bool
) -> None:
    seen: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(status, json=body), seen) as client:
        if returned:
            assert rt.verify.check_gate(candidate_policy_version=" v1 ", client=client) == body
        else:
            with pytest.raises(rt.ValidationError):
                rt.verify.check_gate(candidate_policy_version="v1", client=client)
    assert json.loads(seen[0].content) == {"candidate_policy_version": "v1"}


def test_promote_and_record_send_what_the_official_sends() -> None:
    seen: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"ok": True}), seen) as client:
        rt.verify.promote(baseline_episode_id="ep-1", client=client)
        rt.verify.record_result(scenario_id="s-1", candidate_policy_version="v1 ", client=client)
    assert json.loads(seen[0].content) == {"baseline_episode_id": "ep-1", "severity": "warning"}
    assert json.loads(seen[1].content) == {
        "scenario_id": "s-1",
        "candidate_policy_version": "v1",
        "metrics": {},
    }
    assert [r.url.path for r in seen] == ["/api/verify/promote", "/api/verify/result"]
