"""The official robotrace-dev 0.3.0 CLI, unmodified, against our other pillars (OFFICIAL_PILLARS.md 1-3).

One story, as a team would live it: `robotrace login --no-browser` approved in a real Chromium, `whoami`,
baselines logged with the official gymnasium adapter on CartPole-v1 (real NPZ), `robotrace replay run`
printing the summary, `robotrace verify check` blocking (exit 1, the 422 body) while a critical scenario
has no passing result and passing (exit 0) once one does, `robotrace logout --revoke` leaving that key
with a 401.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import httpx
import pytest

import robotrace
from robotrace import verify
from robotrace.adapters import gymnasium as rt_gym

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CLI = [sys.executable, "-m", "robotrace.cli"]
EMAIL = "owner@example.com"
PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - the test server's bootstrap owner


def _cli_env(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOTRACE_")}
    env.update(
        ROBOTRACE_HOME=str(home),
        ROBOTRACE_BASE_URL=base_url,
        PYTHONPATH=str(HERE),
        NO_COLOR="1",
        TERM="dumb",
    )
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI invocation
        [*CLI, *args],
        env=env,
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _login(env: dict[str, str]) -> str:
    """`robotrace login --no-browser`, approved in Chromium; returns what the CLI printed."""
    proc = subprocess.Popen(  # noqa: S603 - our own CLI invocation
        [*CLI, "login", "--no-browser"],
        env=env,
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    printed: list[str] = []
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        printed.append(line)
        m = re.search(r"(https?://\S+/cli/auth\?code=([A-Z0-9]{4}-[A-Z0-9]{4}))", line)
        if m:
            url = m.group(1)
    assert url is not None, "".join(printed)
    code = url.rsplit("=", 1)[1]
    browser = subprocess.run(  # noqa: S603
        [  # noqa: S607 - node from PATH, as the launcher uses it
            "node",
            str(HERE / "pillars_browser.mjs"),
            url,
            code,
            EMAIL,
            PASSWORD,
            "approve",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert browser.returncode == 0, browser.stderr
    seen = json.loads(browser.stdout.strip().splitlines()[-1])
    assert seen == {
        "state": "approved",
        "shown_code": code,
        "signed_in_first": True,
        "dialogs": [],
    }
    rest, _ = proc.communicate(timeout=60)
    printed.append(rest)
    assert proc.returncode == 0, "".join(printed)
    return "".join(printed)


@pytest.fixture(scope="module")
def cli(robotrace_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("robotrace-home")
    env = _cli_env(home, robotrace_server.base_url)
    printed = _login(env)
    return {"env": env, "home": home, "printed": printed}


def _key_of(home: Path) -> str:
    text = "\n".join(p.read_text() for p in home.rglob("*") if p.is_file())
    m = re.search(r"rt_[A-Za-z0-9_]{20,120}", text)
    assert m, text
    return m.group(0)


def _baselines(server: Any, n: int) -> list[str]:
    """CartPole-v1 rollouts through the official gymnasium adapter (real NPZ sensors and actions)."""
    client = robotrace.Client(api_key=server.api_key, base_url=server.base_url, verbose=False)
    ids = []
    try:
        for seed in range(n):
            env = gym.make("CartPole-v1")
            try:
                ep = rt_gym.upload_rollout(
                    env,
                    policy=lambda obs, info: int(obs[2] > 0),
                    client=client,
                    name=f"cartpole baseline {seed} <script>alert(1)</script>",
                    policy_version="cartpole-v1.0",
                    seed=seed,
                    max_steps=60,
                    record_video=False,
                    metadata={"outcome": {"success": True, "reward_total": 60.0}},
                )
            finally:
                env.close()
            assert ep.status == "ready"
            ids.append(ep.id)
    finally:
        client.close()
    return ids


def test_login_whoami_replay_verify_logout(robotrace_server: Any, cli: dict[str, Any]) -> None:
    env = cli["env"]
    assert "Signed in as owner@example.com" in cli["printed"]
    who = _run(["whoami"], env)
    assert who.returncode == 0, who.stderr
    assert EMAIL in who.stdout
    key = _key_of(cli["home"])
    assert key != robotrace_server.api_key
    # The minted key is the project's: it reads the episodes, with either key header.
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-RoboTrace-Key": key}):
        assert httpx.get(f"{robotrace_server.base_url}/api/episodes", headers=headers).status_code == 200

    baselines = _baselines(robotrace_server, 2)
    base = robotrace_server.base_url
    for bid in baselines:
        tracks = httpx.get(
            f"{base}/api/episodes/{bid}/artifact/actions",
            headers={"Authorization": f"Bearer {key}"},
            follow_redirects=True,
        )
        assert tracks.status_code == 200
        assert tracks.content[:2] == b"PK"  # a real NPZ (zip)

    replay = _run(
        [
            "replay",
            "run",
            "--policy",
            "pillars_policy:policy",
            "--candidate-version",
            "cartpole-v2.0",
            "--baseline-version",
            "cartpole-v1.0",
            "--name",
            "cartpole v2 <b>bold</b>",
            "--baseline-episodes",
            *baselines,
        ],
        env,
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    run_id = re.search(r"Eval run created: ([0-9a-f-]{36})", replay.stdout)
    assert run_id, replay.stdout
    assert "Summary:" in replay.stdout
    assert re.search(r"✓ reward_mean\s+baseline=\s*60", replay.stdout), replay.stdout
    assert "Recommend: ship  (1/2 metrics better)" in replay.stdout
    assert f"{base}/portal/evals/{run_id.group(1)}" in replay.stdout

    _verify_story(base, key, baselines, env)

    out = _run(["logout", "--revoke"], env)
    assert out.returncode == 0, out.stdout + out.stderr
    gone = httpx.get(f"{base}/api/episodes", headers={"Authorization": f"Bearer {key}"})
    assert gone.status_code == 401
    assert _run(["whoami"], env).returncode != 0


def _verify_story(base: str, key: str, baselines: list[str], env: dict[str, str]) -> None:
    # Promote the first baseline as critical (and again: the same scenario), the second as a warning.
    client = robotrace.Client(api_key=key, base_url=base, verbose=False)
    try:
        first = verify.promote(baseline_episode_id=baselines[0], severity="critical", client=client)
        assert first["promoted"] is True
        again = verify.promote(baseline_episode_id=baselines[0], severity="critical", client=client)
        assert again == {"scenario_id": first["scenario_id"], "promoted": False}
        verify.promote(baseline_episode_id=baselines[1], client=client)
    finally:
        client.close()

    blocked = _run(["verify", "check", "--candidate", "cartpole-v3.0"], env)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "✗ BLOCKED: 0/1 critical scenarios pass (0 failed, 1 pending)" in blocked.stdout
    direct = httpx.post(
        f"{base}/api/verify/check",
        json={"candidate_policy_version": "cartpole-v3.0"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert direct.status_code == 422
    assert direct.json()["passed"] is False
    assert direct.json()["critical_pending"] == 1

    # A failing candidate replayed by `verify check --policy` stays blocked (1 failed).
    failing = _run(
        [
            "verify",
            "check",
            "--candidate",
            "cartpole-v3.0",
            "--policy",
            "pillars_policy:failing_policy",
        ],
        env,
    )
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "✗ BLOCKED: 0/1 critical scenarios pass (1 failed, 0 pending)" in failing.stdout

    passing = _run(
        [
            "verify",
            "check",
            "--candidate",
            "cartpole-v3.1",
            "--policy",
            "pillars_policy:policy",
        ],
        env,
    )
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "✓ PASS: 1/1 critical scenarios pass (0 failed, 0 pending)" in passing.stdout
    assert f"{base}/portal/verify" in passing.stdout
    # v2.0's replay run finished before the scenarios were promoted: no result for it, still blocked.
    late = _run(["verify", "check", "--candidate", "cartpole-v2.0"], env)
    assert late.returncode == 1
