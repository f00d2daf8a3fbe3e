"""The ``robotrace`` CLI end to end against the started server, as a user runs it (a subprocess): ``login``
approved through the server's /cli/auth page by a signed-in owner, ``whoami``, ``replay run``, ``verify
check``, ``logout --revoke`` (after which the key is refused)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import robotrace as rt
from robotrace import cli

from ..support.robotrace_server import RunningServer
from .test_evals import log_baseline

OWNER_EMAIL = "owner@example.com"
OWNER_PASSWORD = "correct-horse-battery-staple"
SRC = Path(rt.__file__).parents[1]  # the robotrace under test, whatever the venv links to

POLICY_MODULE = """
import numpy as np

def succeed(observation):
    return {"/cmd_vel/linear": np.zeros(3), "_outcome": {"success": True, "reward_total": 5.0}}

def explode(observation):
    raise ValueError("no weights loaded")
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}


def robotrace(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "robotrace.cli", *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def approve_in_the_browser(server: RunningServer, verification_url: str) -> None:
    """What the user does with the printed link: open it, sign in, press Authorize (plain HTTP)."""
    with httpx.Client(base_url=server.base_url, headers={"origin": server.base_url}, timeout=30) as browser:
        printed = browser.get(verification_url)
        assert printed.status_code == 303
        target = printed.headers["location"]
        signed_in = browser.post(
            "/api/auth/sign-in/email", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        page = browser.get(target)
        assert page.status_code == 200
        code = re.search(r"code=([A-Z0-9-]+)", target)
        assert code is not None
        assert code.group(1) in page.text
        decided = browser.post("/portal/cli/auth", data={"code": code.group(1), "decision": "approve"})
        assert decided.status_code == 200, decided.text
        assert "Device authorized" in decided.text


@pytest.fixture
def logged_in(robotrace_server: RunningServer) -> cli.StoredCredentials:
    """``robotrace login --no-browser``, approved in the portal while the CLI polls."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "robotrace.cli",
            "login",
            "--base-url",
            robotrace_server.base_url,
            "--no-browser",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        link = None
        for line in process.stdout:
            found = re.search(r"(http://\S+/cli/auth\?code=[A-Z0-9-]+)", line)
            if found:
                link = found.group(1)
                break
        assert link is not None, process.stderr.read() if process.stderr else ""
        approve_in_the_browser(robotrace_server, link)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert f"✓ Signed in as {OWNER_EMAIL}." in out
    creds = cli.read_credentials()
    assert creds is not None
    assert creds.base_url == robotrace_server.base_url
    return creds


def _baseline(client: rt.Client, tmp_path: Path, success: bool) -> str:
    tag = uuid.uuid4().hex[:6]
    sensors, actions = tmp_path / f"s-{tag}.npz", tmp_path / f"a-{tag}.npz"
    np.savez(sensors, **{"/joint_states/position": np.ones((6, 3), dtype=np.float32)})
    np.savez(actions, **{"/cmd_vel/linear": np.ones((6, 3), dtype=np.float32)})
    files = {"sensors": sensors, "actions": actions}
    return log_baseline(client, f"cli baseline {tag}", {"outcome": {"success": success}}, files)


def test_login_whoami_replay_verify_logout(
    logged_in: cli.StoredCredentials, robotrace_server: RunningServer, client: rt.Client, tmp_path: Path
) -> None:
    key = logged_in.api_key
    assert key.startswith("rt_")
    assert key != robotrace_server.api_key  # a new key, minted by the approval

    shown = robotrace("whoami", "--json")
    assert shown.returncode == 0, shown.stderr
    assert f'"user_email": "{OWNER_EMAIL}"' in shown.stdout
    assert key not in shown.stdout

    again = robotrace("login", "--base-url", robotrace_server.base_url, "--no-browser")
    assert again.returncode == 0
    assert "✓ Already signed in" in again.stdout

    (tmp_path / "lab_policies.py").write_text(POLICY_MODULE, encoding="utf-8")
    b1, b2 = _baseline(client, tmp_path, success=False), _baseline(client, tmp_path, success=True)
    ids = tmp_path / "baselines.txt"
    ids.write_text(f"# nightly set\n{b1}\n\n", encoding="utf-8")
    run = robotrace(
        "replay", "run", "--policy", "lab_policies:succeed", "--candidate-version", "cli-v2",
        "--baseline-episodes", f"@{ids}", b2, "--name", "cli sweep", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Replay run: candidate=cli-v2 baseline=mixed episodes=2" in run.stdout
    run_id = re.search(r"✓ Eval run created: (\S+)", run.stdout)
    assert run_id is not None
    assert f"View in portal: {robotrace_server.base_url}/portal/evals/{run_id.group(1)}" in run.stdout
    assert f"✓ [1/2] {b1[:8]} → " in run.stdout
    assert "Recommend: ship" in run.stdout
    assert "success_rate" in run.stdout

    failing = robotrace(
        "replay", "run", "--policy", "lab_policies:explode", "--candidate-version", "cli-v3",
        "--baseline-episodes", b1, cwd=tmp_path,
    )  # fmt: skip
    assert failing.returncode == 1
    assert f"✗ [1/1] {b1[:8]}  ValueError: no weights loaded" in failing.stdout

    unknown = robotrace(
        "replay", "run", "--policy", "lab_policies:succeed", "--candidate-version", "cli-v4",
        "--baseline-episodes", str(uuid.uuid4()), cwd=tmp_path,
    )  # fmt: skip
    assert unknown.returncode == 1
    assert unknown.stderr.strip().startswith("Error: Failed to open eval run:")
    assert unknown.stderr.strip().count("\n") == 0

    rt.verify.promote(baseline_episode_id=b1, severity="critical", client=client)
    version = f"cli-gate-{uuid.uuid4().hex[:6]}"
    blocked = robotrace("verify", "check", "--candidate", version)
    assert blocked.returncode == 1
    assert "✗ BLOCKED: " in blocked.stdout
    assert f"View scenarios: {robotrace_server.base_url}/portal/verify" in blocked.stdout
    passed = robotrace(
        "verify", "check", "--candidate", version, "--policy", "lab_policies:succeed", cwd=tmp_path
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "✓ PASS: " in passed.stdout

    out = robotrace("logout", "--revoke")
    assert out.returncode == 0, out.stderr
    assert "server-side." in out.stdout
    assert cli.read_credentials() is None
    refused = httpx.get(
        f"{robotrace_server.base_url}/api/episodes", headers={"Authorization": f"Bearer {key}"}
    )
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "no_such_module_xyz:fn"], "Could not import module 'no_such_module_xyz'"),
        (["--policy", "json:nope"], "Module 'json' has no attribute path 'nope'"),
        (["--policy", "json"], "--policy must be of the form 'module:fn'"),
        (["--policy", "json:dumps", "--baseline-episodes", "@/nonexistent/ids.txt"], "could not read"),
    ],
)
def test_replay_run_bad_input_is_one_line(
    args: list[str], message: str, robotrace_server: RunningServer
) -> None:
    cli.write_credentials(
        cli.StoredCredentials(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url)
    )
    full: dict[str, Any] = {"--candidate-version": "v", "--baseline-episodes": "x"}
    argv = ["replay", "run"]
    for flag, value in full.items():
        if flag not in args:
            argv += [flag, value]
    done = robotrace(*argv, *args)
    assert done.returncode == 1
    assert message in done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_not_logged_in(robotrace_server: RunningServer) -> None:
    done = robotrace("verify", "check", "--candidate", "v")
    assert done.returncode == 1
    assert "Not logged in (profile: default)." in done.stderr
    done = robotrace(
        "replay",
        "run",
        "--policy",
        "json:dumps",
        "--candidate-version",
        "v",
        "--baseline-episodes",
        "x",
        "--profile",
        "lab",
    )
    assert done.returncode == 1
    assert "Not logged in (profile: lab)." in done.stderr


def test_python_dash_m_robotrace_is_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "robotrace", "version"],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"robotrace {rt.__version__}\n")
