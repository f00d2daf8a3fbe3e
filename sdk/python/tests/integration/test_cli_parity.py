"""``robotrace replay run`` and ``robotrace verify check``: ours and the official 0.3.0 CLI against the
started server, on the same baselines with the same policy, print the same (ids and the version told apart)
and exit the same."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np

import robotrace as rt

from ..support.adapters_official import LIBS, OFFICIAL_PYTHON, _ensure_libs
from ..support.robotrace_server import RunningServer
from .test_evals import log_baseline

OURS = Path(rt.__file__).parents[1]
POLICIES = """
import numpy as np

def steady(observation):
    return {"/cmd_vel/linear": np.full(3, 0.5), "_outcome": {"success": True, "collision_count": 0}}

def flaky(observation):
    if float(observation["/joint_states/position"][0]) > 2:
        raise RuntimeError("lost track")
    return {"/cmd_vel/linear": np.zeros(3)}
"""
_IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{8}\b")


SDKS = {"official": (str(OFFICIAL_PYTHON), str(LIBS)), "ours": (sys.executable, str(OURS))}


def _run(name: str, tmp_path: Path, server: RunningServer, args: list[str]) -> tuple[int, str, str]:
    """One CLI (with its own credentials home, logged in with the server's key); ids in stdout as <id>."""
    _ensure_libs()
    python, path = SDKS[name]
    home = tmp_path / name
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "ROBOTRACE_HOME": str(home)}
    env.update(NO_COLOR="1", PYTHONPATH=f"{tmp_path}:{path}", PYTHONNOUSERSITE="1")
    if not (home / "credentials").exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / "credentials").write_text(
            f'[default]\napi_key = "{server.api_key}"\nbase_url = "{server.base_url}"\n'
        )
    done = subprocess.run(
        [python, "-m", "robotrace.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return done.returncode, _IDS.sub("<id>", done.stdout), done.stderr


def _both(tmp_path: Path, server: RunningServer, args: list[str]) -> list[tuple[int, str, str]]:
    return [_run(name, tmp_path, server, args) for name in SDKS]


def _baseline(client: rt.Client, tmp_path: Path, start: float, success: bool) -> str:
    tag = uuid.uuid4().hex[:6]
    sensors, actions = tmp_path / f"s-{tag}.npz", tmp_path / f"a-{tag}.npz"
    np.savez(
        sensors, **{"/joint_states/position": start + np.arange(8 * 3, dtype=np.float64).reshape(8, 3) / 10}
    )
    np.savez(actions, **{"/cmd_vel/linear": np.linspace(0, 1, 24).reshape(8, 3)})
    meta = {"outcome": {"success": success, "reward_total": 1.0, "collision_count": 1}}
    return log_baseline(client, f"parity {tag}", meta, {"sensors": sensors, "actions": actions})


def test_replay_run_prints_what_the_official_prints(
    client: rt.Client, robotrace_server: RunningServer, tmp_path: Path
) -> None:
    (tmp_path / "parity_policies.py").write_text(POLICIES, encoding="utf-8")
    b1, b2 = _baseline(client, tmp_path, 0.0, False), _baseline(client, tmp_path, 5.0, True)
    for policy, code in (("steady", 0), ("flaky", 1)):
        args = [
            "replay",
            "run",
            "--policy",
            f"parity_policies:{policy}",
            "--candidate-version",
            f"par-{policy}",
        ]
        official, ours = _both(tmp_path, robotrace_server, [*args, "--baseline-episodes", b1, b2])
        assert ours[:2] == official[:2]
        assert official[0] == code, official
    assert "Recommend: " in official[1] or "(no summary returned)" in official[1]
    assert "✗ [2/2] <id>  RuntimeError: lost track" in official[1]


def test_verify_check_prints_what_the_official_prints(
    client: rt.Client, robotrace_server: RunningServer, tmp_path: Path
) -> None:
    (tmp_path / "parity_policies.py").write_text(POLICIES, encoding="utf-8")
    b1 = _baseline(client, tmp_path, 0.0, False)
    rt.verify.promote(baseline_episode_id=b1, severity="critical", client=client)
    blocked = _both(
        tmp_path, robotrace_server, ["verify", "check", "--candidate", f"par-gate-{uuid.uuid4()}"]
    )
    assert blocked[1][:2] == blocked[0][:2]
    assert blocked[0][0] == 1
    assert "✗ BLOCKED: " in blocked[0][1]
    tag = uuid.uuid4().hex[:6]
    official, ours = (
        _run(name, tmp_path, robotrace_server, ["verify", "check", "--candidate", f"par-pass-{name}-{tag}",
             "--policy", "parity_policies:steady"])
        for name in SDKS
    )  # fmt: skip
    assert ours[0] == official[0] == 0
    assert "✓ PASS: " in official[1]
    assert ours[1].replace("-ours-", "-x-") == official[1].replace("-official-", "-x-")
