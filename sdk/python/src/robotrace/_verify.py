"""The release gate behind ``robotrace.verify`` (OFFICIAL_PILLARS.md §2): baseline episodes promoted to
scenarios with a severity, results per candidate policy version, and the check that passes (200) or blocks
(422, the same body: returned, not raised)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._client import Client
from ._errors import ArgumentError, ValidationError
from ._evals import runner as _evals
from ._evals.model import PolicyCallable
from ._http import ApiCall, dumps


def _version(candidate_policy_version: str) -> str:
    version = candidate_policy_version.strip() if isinstance(candidate_policy_version, str) else ""
    if not version:
        raise ArgumentError("`candidate_policy_version` is required and cannot be empty.")
    return version


def _post(client: Client, path: str, body: Mapping[str, Any], idempotent: bool = True) -> dict[str, Any]:
    return client._session.request_json(ApiCall("POST", path, dumps(dict(body)), idempotent_write=idempotent))


def check_gate(*, candidate_policy_version: str, client: Client | None = None) -> dict[str, Any]:
    """The gate for a candidate version (``POST /api/verify/check``): ``passed``, the critical counts,
    each scenario's ``latest_status`` and the ``blockers``. A blocked gate (HTTP 422) is returned too."""
    version = _version(candidate_policy_version)
    c = _evals.resolve_client(client)
    try:
        return _post(c, "/api/verify/check", {"candidate_policy_version": version}, idempotent=False)
    except ValidationError as exc:
        if exc.status_code == 422 and isinstance(exc.response_body, dict) and "passed" in exc.response_body:
            return exc.response_body
        raise


def record_result(
    *,
    scenario_id: str,
    candidate_policy_version: str,
    status: str | None = None,
    candidate_episode_id: str | None = None,
    eval_run_id: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    error: str | None = None,
    client: Client | None = None,
) -> dict[str, Any]:
    """Record one scenario's result for a candidate (``POST /api/verify/result``); without ``status`` the
    server derives it from ``metrics`` (``success_candidate``)."""
    body: dict[str, Any] = {
        "scenario_id": scenario_id,
        "candidate_policy_version": _version(candidate_policy_version),
        "metrics": dict(metrics or {}),
    }
    optional = {
        "status": status,
        "candidate_episode_id": candidate_episode_id,
        "eval_run_id": eval_run_id,
        "error": error,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return _post(_evals.resolve_client(client), "/api/verify/result", body)


def promote(
    *,
    baseline_episode_id: str,
    name: str | None = None,
    description: str | None = None,
    severity: str = "warning",
    client: Client | None = None,
) -> dict[str, Any]:
    """Make a baseline episode a scenario of the gate (``critical`` blocks a release, ``warning`` is
    reported, ``info`` tracked); promoting it again returns the same ``scenario_id``, ``promoted: false``."""
    body: dict[str, Any] = {"baseline_episode_id": baseline_episode_id, "severity": severity}
    if name is not None:
        body["name"] = name
    if description is not None:
        body["description"] = description
    return _post(_evals.resolve_client(client), "/api/verify/promote", body)


def run_check(
    *,
    candidate_policy_version: str,
    policy_callable: PolicyCallable | None = None,
    dry_run: bool = False,
    client: Client | None = None,
) -> tuple[int, dict[str, Any]]:
    """The CI gate: check; replay the critical scenarios not passing yet (one eval run ``verify <V>`` over
    their baselines, a result per scenario: ``pass`` when ``success_candidate`` is true, ``fail`` otherwise,
    ``error`` when the replay failed), complete the run, check again. Returns ``(exit code, gate)``: 0 when
    the gate passes."""
    version = _version(candidate_policy_version)
    c = _evals.resolve_client(client)
    gate = check_gate(candidate_policy_version=version, client=c)
    if gate.get("passed"):
        return 0, gate
    pending = [
        s
        for s in gate.get("scenarios") or []
        if isinstance(s, Mapping) and s.get("severity") == "critical" and s.get("latest_status") != "pass"
    ]
    if not pending:
        return 1, gate
    if policy_callable is None:
        raise ArgumentError(
            f"Critical verification scenarios still need replay for {version!r}. Pass `policy_callable=` or "
            "run `robotrace verify check --policy module:fn --candidate ...`."
        )
    scenario_of = {str(s["baseline_episode_id"]): str(s["scenario_id"]) for s in pending}
    run = _evals.create_run(
        candidate_policy_version=version,
        baseline_episode_ids=list(scenario_of),
        name=f"verify {version}",
        metadata={"verification_check": True},
        client=c,
    )
    results = _evals.run_against(run, policy_callable=policy_callable, dry_run=dry_run)
    if not dry_run:
        for result in results:
            if result.status == "complete":
                status = "pass" if result.metrics.get("success_candidate") is True else "fail"
            else:
                status = "error"
            record_result(
                scenario_id=scenario_of[result.baseline_episode_id],
                candidate_policy_version=version,
                status=status,
                candidate_episode_id=result.candidate_episode_id,
                eval_run_id=run.id,
                metrics=result.metrics,
                error=result.error,
                client=c,
            )
        _evals.complete_run(run, client=c)
    final = check_gate(candidate_policy_version=version, client=c)
    return (0 if final.get("passed") else 1), final
