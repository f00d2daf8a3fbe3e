"""Starts the RoboTrace server built from this repository, as the README starts it (stdlib only).

Shared by the SDK's integration tests and test/official_sdk, which runs in a venv without our SDK.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
# Where the server is built and run from: this checkout, unless a test run points at another copy of it
# (e.g. a clean export of HEAD while the working tree is mid-edit).
SERVER_ROOT = Path(os.environ.get("ROBOTRACE_TEST_SERVER_ROOT") or REPO_ROOT)
API_KEY = "rt_testkey_0123456789abcdefghijklmnop"
_LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass
class RunningServer:
    base_url: str
    api_key: str
    data_dir: Path
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def start_server(timeout_s: float = 90.0, env: dict[str, str] | None = None) -> RunningServer:
    """``env``: extra server settings (e.g. ``ROBOTRACE_UPLOAD_URL_TTL_S``)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the integration tests need `node` on PATH to run the RoboTrace server")
    subprocess.run(
        [node, "scripts/build.mjs", "--if-needed"], cwd=SERVER_ROOT, check=True, stdout=subprocess.DEVNULL
    )
    data_dir = Path(tempfile.mkdtemp(prefix="robotrace-pytest-"))
    env = {
        **os.environ,
        "PORT": "0",
        "HOST": "127.0.0.1",
        "ROBOTRACE_DATA_DIR": str(data_dir),
        "ROBOTRACE_INIT_EMAIL": "owner@example.com",
        "ROBOTRACE_INIT_PASSWORD": "correct-horse-battery-staple",
        "ROBOTRACE_INIT_PROJECT": "demo",
        "ROBOTRACE_INIT_API_KEY": API_KEY,
        **(env or {}),
    }
    process = subprocess.Popen(
        [node, "apps/web/dist/main.js"],
        cwd=SERVER_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def pump() -> None:
        # Keep draining after startup so a chatty server never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            match = _LISTENING.search(line)
            if match and not found.is_set():
                url.append(match.group(1).rstrip("/"))
                found.set()
        found.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not found.wait(0.1):
        if time.monotonic() > deadline:
            break
    server = RunningServer(url[0] if url else "", API_KEY, data_dir, process, lines)
    if not url:
        server.stop()
        raise RuntimeError(f"the RoboTrace server did not start:\n{server.output()}")
    return server
