"""The release gate: baseline episodes promoted to scenarios, and a check per candidate policy version.

::

    import robotrace as rt

    rt.verify.promote(baseline_episode_id="<episode id>", severity="critical")  # or "warning" / "info"
    gate = rt.verify.check_gate(candidate_policy_version="pap-v13")          # passed or blocked (not raised)
    code, gate = rt.verify.run_check(candidate_policy_version="pap-v13", policy_callable=my_policy)

``run_check`` replays the critical scenarios that have not passed for the candidate yet (through
``robotrace.evals``), records a result for each, and checks again: exit code 0 when the gate passes. A
``critical`` scenario blocks a release, a ``warning`` one is reported, an ``info`` one is tracked.
"""

from __future__ import annotations

# The official module has these names too (it raises them).
from ._errors import APIError, ConfigurationError, RobotraceError  # noqa: F401
from ._verify import check_gate, promote, record_result, run_check

__all__ = ["check_gate", "promote", "record_result", "run_check"]

for _value in (check_gate, promote, record_result, run_check):
    _value.__module__ = "robotrace.verify"
del _value
