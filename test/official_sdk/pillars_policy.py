"""The candidate policy `robotrace replay run --policy pillars_policy:policy` imports (test_pillars.py).

CartPole's action is one discrete value; the candidate pushes the same way as the observation's pole angle
leans, and reports its outcome through the official runner's `_outcome` sentinel: it succeeds like the
baseline and earns more reward, so the summary must recommend shipping.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def policy(obs: dict[str, Any]) -> dict[str, Any]:
    angle = float(np.asarray(obs["observation/value"]).ravel()[2])
    return {
        "action/value": np.asarray(1 if angle > 0 else 0),
        "_outcome": {"success": True, "reward_total": 500.0},
    }


def failing_policy(obs: dict[str, Any]) -> dict[str, Any]:
    """Reports failure: what `verify check` must block on."""
    return {
        "action/value": np.asarray(0),
        "_outcome": {"success": False, "reward_total": 1.0},
    }
