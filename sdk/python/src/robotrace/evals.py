"""The replay harness: compare a candidate policy with baseline episodes, running it on this machine.

::

    import robotrace as rt

    run = rt.evals.create_run(candidate_policy_version="pap-v13", baseline_episode_ids=["<episode id>", ...])
    results = rt.evals.run_against(run, policy_callable=my_policy)   # my_policy(observation) -> action
    summary = rt.evals.complete_run(run)["summary"]                  # {"recommend": "ship" | "hold", ...}

For each baseline episode the harness downloads its ``actions`` and ``sensors`` NPZ, calls the policy once per
sensor step with ``{"<topic>/<field>": row, ...}``, logs a candidate episode (``source="replay"``) and posts
the metrics: success, reward, collisions and time to goal (baseline's from its metadata, candidate's from an
``"_outcome"`` mapping in the last action, else the baseline's), ``action_l2_distance``,
``ood_action_share`` and ``step_count``. A policy that raises makes that result ``failed``; the run goes on.
Only metrics leave the machine, never the policy. Needs numpy (``pip install 'robotrace-dev[numpy]'``).
"""

from __future__ import annotations

# The official module has these names too (it raises them).
from ._errors import APIError, ConfigurationError, NotFoundError  # noqa: F401
from ._evals.model import Action, EvalResult, EvalRun, Observation, PolicyCallable
from ._evals.runner import (
    complete_run,
    create_run,
    extract_outcome,
    install_command,
    iter_baseline_steps,
    materialize_observations,
    metric_action_l2_distance,
    metric_ood_action_share,
    run_against,
)

__all__ = [
    "Action",
    "EvalResult",
    "EvalRun",
    "Observation",
    "PolicyCallable",
    "complete_run",
    "create_run",
    "run_against",
]

for _value in (
    EvalResult,
    EvalRun,
    complete_run,
    create_run,
    run_against,
    extract_outcome,
    install_command,
    iter_baseline_steps,
    materialize_observations,
    metric_action_l2_distance,
    metric_ood_action_share,
):
    _value.__module__ = "robotrace.evals"
del _value
