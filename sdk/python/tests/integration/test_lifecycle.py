"""Deleting and exporting episodes against the started server: through the SDK (sync and asyncio) and
``robotrace episodes delete|export`` run as a user runs it (a subprocess, logged in by its credentials file).
What a user notices: the episode and its files are gone, references are refused until unlinked, a replayed
delete answers as the first, and an export carries every field the API shows plus the files, byte for byte."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

import robotrace as rt
from robotrace._lifecycle import format_bytes

from ..support.api import Api
from ..support.robotrace_server import RunningServer

SRC = Path(rt.__file__).parents[1]  # the robotrace under test, whatever the venv links to
NPZ = b"PK\x03\x04" + bytes(range(256)) * 40


def robotrace(server: RunningServer, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "credentials").write_text(
        f'[default]\napi_key = "{server.api_key}"\nbase_url = "{server.base_url}"\n', encoding="utf-8"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "ROBOTRACE_HOME": str(home)}
    env.update(PYTHONPATH=str(SRC), NO_COLOR="1", PYTHONNOUSERSITE="1")
    return subprocess.run(
        [sys.executable, "-m", "robotrace.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def status_of(server: RunningServer, path: str) -> int:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    return httpx.get(server.base_url + path, headers=headers, timeout=30).status_code


def stored_files(server: RunningServer, episode_id: str, *, sidecars: bool = False) -> list[Path]:
    """The files on the server's local disk that belong to the episode (``sidecars``: with the
    ``<key>.meta`` content-type files local disk keeps beside each one)."""
    return [
        p
        for p in server.data_dir.rglob("*")
        if p.is_file() and episode_id in str(p) and (sidecars or p.suffix != ".meta")
    ]


@pytest.fixture
def sensors(tmp_path: Path) -> Path:
    path = tmp_path / "imu.npz"
    path.write_bytes(NPZ)
    return path


def test_delete_removes_the_files_and_a_replayed_key_answers_as_the_first(
    client: rt.Client, robotrace_server: RunningServer, video: Path, sensors: Path
) -> None:
    episode = client.log_episode(name="logged by mistake", source="sim", video=video, sensors=sensors)
    assert len(stored_files(robotrace_server, episode.id)) == 2

    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {robotrace_server.api_key}", "Idempotency-Key": key}
    url = f"{robotrace_server.base_url}/api/episodes/{episode.id}"
    first = httpx.delete(url, headers=headers, timeout=30)
    replay = httpx.delete(url, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert first.json()["artifacts_deleted"] == 2
    assert first.json()["bytes_freed"] == video.stat().st_size + sensors.stat().st_size

    assert status_of(robotrace_server, f"/api/episodes/{episode.id}") == 404
    assert stored_files(robotrace_server, episode.id, sidecars=True) == []
    with pytest.raises(rt.NotFoundError):
        client.delete_episode(episode.id)


def test_cli_delete_refuses_references_until_unlinked(
    client: rt.Client, robotrace_server: RunningServer, video: Path, tmp_path: Path
) -> None:
    baseline = client.log_episode(name="baseline in use", source="real", video=video)
    gone = client.log_episode(name="plain", source="sim", video=video)
    scenario = rt.verify.promote(
        baseline_episode_id=baseline.id, severity="critical", name="door jam", client=client
    )
    home = tmp_path / "home"

    refused = robotrace(robotrace_server, home, "episodes", "delete", gone.id, baseline.id)
    assert refused.returncode == 1, refused.stderr
    lines = refused.stdout.splitlines()
    assert lines[0] == f"deleted {gone.id} (1 artifact, {format_bytes(video.stat().st_size)} freed)"
    assert lines[1] == (
        f'referenced {baseline.id} by scenario "door jam" ({scenario["scenario_id"]})'
        " (pass --unlink-references to remove those links)"
    )
    assert "1 of 2 not deleted" in refused.stderr
    assert status_of(robotrace_server, f"/api/episodes/{baseline.id}") == 200

    unlinked = robotrace(robotrace_server, home, "episodes", "delete", baseline.id, "--unlink-references")
    assert unlinked.returncode == 0, unlinked.stderr
    assert unlinked.stdout.startswith(f"deleted {baseline.id} (1 artifact, ")
    assert unlinked.stdout.rstrip().endswith("unlinked 0 eval results, 1 scenario)")
    assert status_of(robotrace_server, f"/api/episodes/{baseline.id}") == 404
    assert stored_files(robotrace_server, baseline.id, sidecars=True) == []

    again = robotrace(robotrace_server, home, "episodes", "delete", baseline.id)
    assert again.returncode == 1
    assert again.stdout == f"not found {baseline.id}\n"


def test_cli_export_round_trips_every_field_and_file(
    client: rt.Client, robotrace_server: RunningServer, api: Api, video: Path, tmp_path: Path
) -> None:
    sensors = tmp_path / "imu.npz"
    sensors.write_bytes(NPZ)
    robot = f"export-arm-{uuid.uuid4().hex[:8]}"
    one = client.log_episode(
        name="export one",
        source="sim",
        robot=robot,
        policy_version="pi-0.3.1",
        env_version="cell-4",
        git_sha="abc1234",
        seed=7,
        fps=15,
        duration_s=2.5,
        metadata={"task": "pick", "nested": {"ok": True, "list": [1, "two"]}, "note": "ü"},
        video=video,
        sensors=sensors,
    )
    two = client.log_episode(name="export two", source="real", robot=robot, status="failed", video=video)
    client.log_episode(name="other robot", source="sim", robot=f"{robot}-other")
    out, files = tmp_path / "export.jsonl", tmp_path / "files"

    done = robotrace(
        robotrace_server, tmp_path / "home", "episodes", "export", "--robot", robot, "--out", str(out),
        "--artifacts-dir", str(files),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"exported 2 episodes to {out}, 3 artifacts downloaded to {files}\n"
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["id"] for line in lines) == sorted([one.id, two.id])
    originals = {"video": (video, ".mp4"), "sensors": (sensors, ".npz")}
    for line in lines:
        shown = api.episode(line["id"])
        artifacts: list[dict[str, Any]] = line.pop("artifacts")
        uploaded = [a for a in shown.pop("artifacts") if a["uploaded"]]
        assert line == shown
        assert sorted(a["kind"] for a in artifacts) == sorted(a["kind"] for a in uploaded)
        for artifact in artifacts:
            original, ext = originals[artifact["kind"]]
            assert artifact["local_path"] == str(files / line["id"] / f"{artifact['kind']}{ext}")
            assert artifact["bytes"] == original.stat().st_size
            assert Path(artifact["local_path"]).read_bytes() == original.read_bytes()


def test_the_sdk_exports_with_filters_sync_and_async(
    client: rt.Client, robotrace_server: RunningServer
) -> None:
    robot = f"sdk-export-{uuid.uuid4().hex[:8]}"
    ready = client.log_episode(name="ready one", source="sim", robot=robot)
    failed = client.log_episode(name="failed one", source="sim", robot=robot, status="failed")
    assert [e["id"] for e in client.export_episodes(robot=robot, status="failed")] == [failed.id]
    assert sorted(e["id"] for e in client.export_episodes(robot=robot)) == sorted([ready.id, failed.id])

    async def exported() -> list[str]:
        async with rt.AsyncClient(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as ac:
            return [e["id"] async for e in ac.export_episodes(robot=robot, status="ready")]

    assert asyncio.run(exported()) == [ready.id]
