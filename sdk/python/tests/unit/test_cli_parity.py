"""Our CLI prints what the official 0.3.0 CLI prints and exits with the same codes: both run as subprocesses
against the same scripted server, each with its own credentials home, and their stdout, stderr and exit codes
compared (the version number and the home folder told apart). Each also reads the credentials file the other
wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import robotrace as rt

from ..support.adapters_official import OFFICIAL_PYTHON
from .test_cli_login import APPROVED, Answer, Scripted, server, start_answer

__all__ = ["server"]  # the scripted server fixture, shared with test_cli_login

OURS = Path(rt.__file__).parents[1]


def _normalize(text: str, home: Path) -> str:
    return text.replace(str(home), "<home>").replace(rt.__version__, "<v>").replace("0.3.0", "<v>")


def run(python: str, home: Path, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "ROBOTRACE_HOME": str(home),
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        [python, "-m", "robotrace.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**base, **env},
    )
    return done.returncode, _normalize(done.stdout, home), _normalize(done.stderr, home)


def both(server: Scripted, tmp_path: Path, args: list[str], script: list[tuple[str, Answer]]) -> None:
    """The same command by both CLIs, the server scripted the same for each; asserts equal output."""
    answers = []
    for name, python, env in (
        ("official", str(OFFICIAL_PYTHON), {}),
        ("ours", sys.executable, {"PYTHONPATH": str(OURS)}),
    ):
        for path, answer in script:
            server.script(path, answer)
        server.requests.clear()
        home = tmp_path / name
        home.mkdir(exist_ok=True)
        answers.append((*run(python, home, args, env), [p for p, _, _ in server.requests]))
    assert answers[1] == answers[0]


@pytest.mark.parametrize(
    "script",
    [
        [("/api/cli/auth/poll", (200, {"status": "pending"})), ("/api/cli/auth/poll", APPROVED)],
        [("/api/cli/auth/poll", (410, {"status": "expired"}))],
        [("/api/cli/auth/poll", (410, {"status": "consumed"}))],
        [("/api/cli/auth/poll", (200, {"status": "denied"}))],
        [("/api/cli/auth/poll", (429, {"error": "slow down"}))],
    ],
    ids=["approved", "expired", "consumed", "denied", "429"],
)
def test_login_prints_the_same(server: Scripted, tmp_path: Path, script: list[tuple[str, Answer]]) -> None:
    start = start_answer(server.base_url, interval=0.5)
    both(
        server,
        tmp_path,
        ["login", "--base-url", server.base_url, "--no-browser"],
        [("/api/cli/auth/start", start), *script],
    )


def test_a_refused_start_prints_the_same(server: Scripted, tmp_path: Path) -> None:
    both(server, tmp_path, ["login", "--base-url", server.base_url, "--no-browser"],
         [("/api/cli/auth/start", (503, {"error": "maintenance"}))])  # fmt: skip


def test_each_reads_the_file_the_other_wrote(server: Scripted, tmp_path: Path) -> None:
    """Log in with one CLI; whoami, whoami --json, login (already signed in) and logout --revoke with both."""
    for writer, python, env in (
        ("official", str(OFFICIAL_PYTHON), {}),
        ("ours", sys.executable, {"PYTHONPATH": str(OURS)}),
    ):
        home = tmp_path / f"written-by-{writer}"
        home.mkdir()
        server.script("/api/cli/auth/start", start_answer(server.base_url, interval=0.5))
        server.script("/api/cli/auth/poll", APPROVED)
        assert run(python, home, ["login", "--base-url", server.base_url, "--no-browser"], env)[0] == 0
        # Both readers on this file (the written_at of the file is the same for both).
        for args in (
            ["whoami"],
            ["whoami", "--json"],
            ["login", "--base-url", server.base_url, "--no-browser"],
        ):
            official = run(str(OFFICIAL_PYTHON), home, args, {})
            ours = run(sys.executable, home, args, {"PYTHONPATH": str(OURS)})
            assert ours == official, args
            assert official[0] == 0
        text = (home / "credentials").read_text()
        server.script("/api/cli/auth/revoke", (200, {"status": "revoked", "key_prefix": "rt_from_de"}))
        official = run(str(OFFICIAL_PYTHON), home, ["logout", "--revoke"], {})
        assert not home.exists()  # the empty folder went too
        home.mkdir()
        (home / "credentials").write_text(text)
        server.script("/api/cli/auth/revoke", (200, {"status": "revoked", "key_prefix": "rt_from_de"}))
        ours = run(sys.executable, home, ["logout", "--revoke"], {"PYTHONPATH": str(OURS)})
        assert ours == official
        assert official[0] == 0
        assert not home.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["whoami"],
        ["whoami", "--json"],
        ["logout"],
        ["logout", "--revoke"],
        ["version"],
        ["verify", "check", "--candidate", "v1"],
        ["replay", "run", "--policy", "json", "--candidate-version", "v", "--baseline-episodes", "a"],
        ["replay"],
        ["login", "--bogus"],
    ],
)
def test_without_a_login_prints_the_same(server: Scripted, tmp_path: Path, args: list[str]) -> None:
    both(server, tmp_path, args, [])
