"""The replay harness: open an eval run over baseline episodes, replay each through the user's policy on
this machine (its weights never leave it), log a candidate episode per baseline, post its metrics, finalize.

Per baseline: download its ``actions`` and ``sensors`` NPZ (``GET /api/episodes/{id}/artifact/{kind}``,
following the redirect to the signed URL without the API key; 404 = absent, a metric-only result), read its
metadata (``GET /api/episodes/{id}``; any error reads as ``{}``), call the policy once per sensor step,
compute the metrics (``metrics.py``), log the candidate episode (``source="replay"``), post the result (an
upsert on the server). Anything that goes wrong for one baseline (the policy raises, a download fails)
makes that result ``failed`` with the error, and the walk goes on.
"""

from __future__ import annotations

import io
import sys
import traceback
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable
from urllib.parse import quote, urljoin

import httpx

from .._adapters.deps import require
from .._client import Client
from .._default import _client as _default_client
from .._errors import APIError, ArgumentError, NotFoundError, RobotraceError, TransportError
from .._http import ApiCall, dumps
from .._version import __version__
from . import metrics as _metrics
from .model import Action, EvalResult, EvalRun, Observation, PolicyCallable

# The candidate episode's name is "<run name> · <baseline id[:8]>": the run name is cut to fit the 200 limit.
_NAME_LIMIT = 200
_SUFFIX = len(" · ") + 8


def install_command(*extras: str, pin: bool = True) -> str:
    """The pip command that installs this SDK (with ``extras``), e.g. for an error's hint."""
    spec = f"robotrace-dev[{','.join(extras)}]" if extras else "robotrace-dev"
    spec = f"{spec}=={__version__}" if pin else spec
    return f"pip install '{spec}'" if extras else f"pip install {spec}"


def numpy() -> Any:
    return require("numpy", extra="numpy", purpose="The replay harness (robotrace.evals)")


def resolve_client(client: Client | None = None) -> Client:
    return client if client is not None else _default_client()


def _post(client: Client, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
    # One Idempotency-Key across the tries: a retry after a lost answer cannot act twice.
    return client._session.request_json(ApiCall("POST", path, dumps(dict(body)), idempotent_write=True))


def _path_id(value: str) -> str:
    return quote(value, safe="")


def create_run(
    *,
    candidate_policy_version: str,
    baseline_episode_ids: Sequence[str],
    baseline_policy_version: str | None = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    client: Client | None = None,
) -> EvalRun:
    """Open an eval run (``POST /api/ingest/eval-run``) comparing ``candidate_policy_version`` with the given
    baseline episodes (of the key's project; an unknown one is a ``NotFoundError``)."""
    if not isinstance(candidate_policy_version, str) or not candidate_policy_version.strip():
        raise ArgumentError("`candidate_policy_version` is required and cannot be empty.")
    if isinstance(baseline_episode_ids, str) or not baseline_episode_ids:
        raise ArgumentError("Pass at least one baseline episode id to evaluate against.")
    ids = [str(x).strip() for x in baseline_episode_ids]
    if any(not x for x in ids):
        raise ArgumentError("`baseline_episode_ids` contains an empty string.")
    body: dict[str, Any] = {"candidate_policy_version": candidate_policy_version, "baseline_episode_ids": ids}
    if baseline_policy_version is not None:
        body["baseline_policy_version"] = baseline_policy_version
    if name is not None:
        body["name"] = name
    if metadata is not None:
        body["metadata"] = dict(metadata)
    c = resolve_client(client)
    answer = _post(c, "/api/ingest/eval-run", body)
    run_id = answer.get("eval_run_id")
    if not isinstance(run_id, str) or not run_id:
        raise APIError("the eval-run answer has no eval_run_id", status_code=201, response_body=answer)
    run = EvalRun(
        id=run_id,
        candidate_policy_version=candidate_policy_version,
        baseline_policy_version=baseline_policy_version,
        baseline_episode_ids=ids,
        name=name,
        status=str(answer.get("status", "pending")),
    )
    run._client = c
    return run


def run_against(
    run: EvalRun,
    *,
    policy_callable: PolicyCallable,
    on_episode: Callable[[EvalResult], None] | None = None,
    dry_run: bool = False,
) -> list[EvalResult]:
    """Replay every baseline of ``run`` through ``policy_callable``; one ``EvalResult`` each, in order.

    A baseline that fails (the policy raises or returns no mapping, a download fails) is a ``failed``
    result with the error (its traceback on stderr) and the walk goes on. ``dry_run``: metrics only, no
    candidate episode and no result posted (the downloads still need the key). ``on_episode`` is called after
    each result; an exception in it is printed, never raised.
    """
    c = run._client or resolve_client()
    np = numpy()
    results: list[EvalResult] = []
    for baseline_id in run.baseline_episode_ids:
        try:
            metrics, candidate_id = _replay_one(c, run, baseline_id, policy_callable, dry_run=dry_run, np=np)
            result = EvalResult(baseline_id, candidate_id, "complete", metrics)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            result = EvalResult(baseline_id, None, "failed", {}, f"{type(exc).__name__}: {exc}"[:2000])
        if not dry_run:
            _push_result(c, run, result)
        if result.status == "complete":
            run.episodes_completed += 1
        else:
            run.episodes_failed += 1
        if on_episode is not None:
            try:
                on_episode(result)
            except Exception:
                traceback.print_exc(file=sys.stderr)
        results.append(result)
    return results


def complete_run(
    run: EvalRun,
    *,
    status: str = "completed",
    metadata: Mapping[str, Any] | None = None,
    client: Client | None = None,
) -> dict[str, Any]:
    """Finalize the run (``POST /api/ingest/eval-run/{id}/finalize``); returns the answer, whose ``summary``
    compares baseline and candidate (``success_rate``, ``reward_mean``, …, ``recommend``)."""
    c = run._client or resolve_client(client)
    body: dict[str, Any] = {"status": status}
    if metadata is not None:
        body["metadata"] = dict(metadata)
    answer = _post(c, f"/api/ingest/eval-run/{_path_id(run.id)}/finalize", body)
    run.status = str(answer.get("status", status))
    return answer


def iter_baseline_steps(baseline_sensors: Mapping[str, Any] | None) -> Iterable[Observation]:
    """The per-step observations the harness would hand the policy for these sensor arrays."""
    return iter(_metrics.materialize_observations(baseline_sensors, np=numpy()))


def _replay_one(
    client: Client, run: EvalRun, baseline_id: str, policy: PolicyCallable, *, dry_run: bool, np: Any
) -> tuple[dict[str, Any], str | None]:
    actions = fetch_npz(client, baseline_id, "actions", np)
    sensors = fetch_npz(client, baseline_id, "sensors", np)
    baseline_outcome = _metrics.extract_outcome(_baseline_metadata(client, baseline_id))
    observations = _metrics.materialize_observations(sensors, np=np)
    candidate: list[Action] = []
    for observation in observations:
        action = policy(observation)
        if not isinstance(action, Mapping):
            raise TypeError(
                f"policy_callable must return a Mapping[str, ndarray]; got {type(action).__name__}"
            )
        candidate.append(dict(action))
    metrics = _metrics.episode_metrics(
        baseline_outcome,
        _metrics.outcome_from_actions(candidate),
        _metrics.action_l2_distance(actions, candidate, np=np),
        _metrics.ood_action_share(actions, candidate, np=np),
        len(observations),
    )
    if dry_run:
        return metrics, None
    label = run.name or f"replay {run.candidate_policy_version}"
    episode = client.log_episode(
        name=f"{label[: _NAME_LIMIT - _SUFFIX]} · {baseline_id[:8]}",
        source="replay",
        policy_version=run.candidate_policy_version,
        metadata={"eval_run_id": run.id, "baseline_episode_id": baseline_id, "metrics": metrics},
    )
    if not episode.wait(60.0):  # background delivery: the id is the server's once delivered
        raise RobotraceError(
            f"the candidate episode was not delivered: {episode.delivery_error or 'timed out'}"
        )
    return metrics, episode.id


def fetch_npz(client: Client, episode_id: str, kind: str, np: Any) -> dict[str, Any] | None:
    """A baseline's NPZ artifact as {member: array}; None when the episode has none (404).

    Loaded without pickle: an object-array member (which would run code from the file when loaded) is left
    out with a note on stderr.
    """
    session = client._session
    path = f"/api/episodes/{_path_id(episode_id)}/artifact/{kind}"
    call = ApiCall("GET", path)
    url, headers = session._json_call(call)
    headers["Accept"] = "*/*"
    what = f"downloading the baseline's {kind} ({episode_id})"
    try:
        response = session._with_retries(lambda: session._client.get(url, headers=headers), call.what)
        location = response.headers.get("location")
        if response.is_redirect and location:
            # The signed URL carries its own authorization: the API key must not go with it.
            signed = urljoin(url, location)
            response = session._with_retries(lambda: session._client.get(signed), f"GET {kind} artifact")
    except NotFoundError:
        return None
    except APIError as exc:
        raise APIError(f"{what} failed: {exc.message}", status_code=exc.status_code) from exc
    except httpx.HTTPError as exc:
        raise TransportError(f"{what} failed: {exc!r}") from exc
    if response.status_code >= 300:
        raise APIError(f"{what} failed with HTTP {response.status_code}", status_code=response.status_code)
    return _load_npz(response.content, f"{kind} of {episode_id}", np)


def _load_npz(content: bytes, label: str, np: Any) -> dict[str, Any]:
    try:
        archive = np.load(io.BytesIO(content), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"the baseline's {label} is not an NPZ file: {exc}") from exc
    arrays: dict[str, Any] = {}
    with archive as data:
        if not hasattr(data, "files"):  # a single .npy, not an archive
            raise ValueError(f"the baseline's {label} is not an NPZ archive")
        for member in data.files:
            try:
                arrays[member] = data[member]
            except ValueError:
                print(
                    f"[robotrace] skipped {member!r} of the baseline's {label}: an object array",
                    file=sys.stderr,
                )
    return arrays


def _baseline_metadata(client: Client, episode_id: str) -> dict[str, Any]:
    try:
        episode = client.get_episode(episode_id)
    except RobotraceError:
        return {}
    metadata = episode.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _push_result(client: Client, run: EvalRun, result: EvalResult) -> None:
    body: dict[str, Any] = {
        "baseline_episode_id": result.baseline_episode_id,
        "status": result.status,
        "metrics": result.metrics,
    }
    if result.candidate_episode_id is not None:
        body["candidate_episode_id"] = result.candidate_episode_id
    if result.error is not None:
        body["error"] = result.error
    _post(client, f"/api/ingest/eval-run/{_path_id(run.id)}/result", body)


# Handles on the metric helpers, as the official module has them.
def metric_action_l2_distance(baseline_actions: Any, candidate_actions: Any, *, np: Any) -> float | None:
    return _metrics.action_l2_distance(baseline_actions, candidate_actions, np=np)


def metric_ood_action_share(baseline_actions: Any, candidate_actions: Any, *, np: Any) -> float | None:
    return _metrics.ood_action_share(baseline_actions, candidate_actions, np=np)


def materialize_observations(sensors: Any, *, np: Any) -> list[Observation]:
    return _metrics.materialize_observations(sensors, np=np)


def extract_outcome(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return _metrics.extract_outcome(metadata)
