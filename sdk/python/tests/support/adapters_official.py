"""Runs the official robotrace-dev 0.3.0 adapters in their own venv (.cache/venv-official), for the "same
output as the official adapter" tests.

That venv holds the official SDK alone; its adapters also need numpy, gymnasium, h5py, pyarrow and rosbags,
installed once with ``pip install --target`` into .cache/official-adapter-libs (the pins of
requirements-dev.txt, so both SDKs run the same libraries) and put on PYTHONPATH for the run. Our SDK is
never on that path.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[4]
OFFICIAL_PYTHON = REPO_ROOT / ".cache" / "venv-official" / "bin" / "python"
LIBS = REPO_ROOT / ".cache" / "official-adapter-libs"
SCRIPT = Path(__file__).with_name("adapters_official_rollout.py")
_WANTED = ("numpy", "gymnasium", "h5py", "pyarrow", "rosbags")


def _pins() -> list[str]:
    text = (REPO_ROOT / "sdk" / "python" / "requirements-dev.txt").read_text()
    pins = [line.strip() for line in text.splitlines() if re.match(rf"^({'|'.join(_WANTED)})==", line)]
    assert len(pins) == len(_WANTED), f"requirements-dev.txt should pin {_WANTED}; found {pins}"
    return pins


def _ensure_libs() -> None:
    if not OFFICIAL_PYTHON.exists():
        raise RuntimeError(f"{OFFICIAL_PYTHON} is missing: run scripts/setup-python.sh")
    pins = "\n".join(_pins())
    stamp = LIBS / ".stamp"
    LIBS.parent.mkdir(parents=True, exist_ok=True)
    # One installer at a time (two test runs may start together); a changed pin installs afresh.
    with open(LIBS.with_name(LIBS.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == pins:
            return
        fresh = LIBS.with_name(LIBS.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        pip = [str(OFFICIAL_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--target", str(fresh), *pins.split()], check=True)
        (fresh / ".stamp").write_text(pins)
        shutil.rmtree(LIBS, ignore_errors=True)
        fresh.rename(LIBS)


def _run_official(*args: str) -> dict[str, Any]:
    _ensure_libs()
    env = {**os.environ, "PYTHONPATH": str(LIBS), "PYTHONNOUSERSITE": "1"}
    done = subprocess.run(
        [str(OFFICIAL_PYTHON), str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"the official adapter failed:\n{done.stdout}\n{done.stderr}"
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["robotrace_version"] == "0.3.0", answer
    return answer


def official_cartpole_rollout(output_dir: Path, *, seed: int, max_steps: int) -> dict[str, Any]:
    """The official ``encode_rollout`` of CartPole-v1 with the fixed policy of adapters_official_rollout.py;
    returns the metadata it computed (the files are in ``output_dir``)."""
    return _run_official("gymnasium", str(output_dir), str(seed), str(max_steps))


def official_hdf5_episode(path: Path, output_dir: Path, *, episode_index: int) -> dict[str, Any]:
    """The official hdf5 ``encode_episode`` of one trajectory; returns its metadata."""
    return _run_official("hdf5", str(output_dir), str(path), str(episode_index))


def official_lerobot_episode(root: Path, output_dir: Path, *, episode_index: int) -> dict[str, Any]:
    """The official lerobot ``encode_episode`` of one episode of a local dataset; returns its metadata."""
    return _run_official("lerobot", str(output_dir), str(root), str(episode_index))


def official_ros2_bag(bag: Path, output_dir: Path) -> dict[str, Any]:
    """The official ros2 ``encode_bag`` of a bag without cameras (no OpenCV there); returns its metadata."""
    return _run_official("ros2", str(output_dir), str(bag))
