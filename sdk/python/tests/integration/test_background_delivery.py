"""Background delivery against the real server: a durable spool (spec/SPOOL.md), exactly-once delivery,
and the faults the training loop must never see (server down, kill -9, spool full or unwritable, a file
deleted before delivery, a corrupt record)."""

from __future__ import annotations

import http.server
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

import robotrace as rt

from ..support.api import Api
from ..support.robotrace_server import RunningServer, start_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def video_bytes(i: int, size: int = 4096) -> bytes:
    head = f"video-{i}-".encode()
    return head + bytes((i + n) % 256 for n in range(size - len(head)))


def by_robot(api: Api, robot: str) -> list[dict[str, object]]:
    return api.list(robot=robot, limit="200")


def test_logged_while_the_server_is_down_each_appears_once_with_its_bytes(tmp_path: Path) -> None:
    port = free_port()
    robot = f"offline-{uuid.uuid4().hex[:8]}"
    client = rt.Client(
        api_key="rt_testkey_0123456789abcdefghijklmnop",
        base_url=f"http://127.0.0.1:{port}",
        delivery="background",
        spool_dir=tmp_path / "spool",
        max_retries=0,
        verbose=False,
    )
    episodes = []
    for i in range(100):
        path = tmp_path / f"run-{i}.mp4"
        path.write_bytes(video_bytes(i))
        episodes.append(client.log_episode(name=f"offline {i}", robot=robot, seed=i, video=path))
        path.unlink()  # the training loop cleans up at once; the spool holds its own link
    assert all(ep.id == "" and ep.status == "spooled" for ep in episodes)
    assert client.flush(timeout=0.5) is False  # nothing can be delivered yet, and flush says so

    server = start_server(env={"PORT": str(port)})
    try:
        assert client.flush(timeout=120) is True
        assert all(ep.wait(0) for ep in episodes)
        api = Api(server)
        stored = by_robot(api, robot)
        assert sorted(int(str(e["seed"])) for e in stored) == list(range(100))  # each exactly once
        for ep in episodes:
            seed = int(str(api.episode(ep.id)["seed"]))
            assert api.artifact(ep.id, "video") == video_bytes(seed)
            assert ep.status == "ready"
        api.close()
        assert os.listdir(tmp_path / "spool" / "v1" / "waiting") == []
        assert len(os.listdir(tmp_path / "spool" / "v1" / "delivered")) == 100
    finally:
        client.close()
        server.stop()


CHILD = """
import sys, robotrace as rt
base_url, key, spool, robot, files = sys.argv[1:6]
client = rt.Client(api_key=key, base_url=base_url, delivery="background", spool_dir=spool, verbose=False)
for i, path in enumerate(files.split(",")):
    client.log_episode(name=f"killed {i}", robot=robot, seed=i, video=path)
print("spooled", flush=True)
client.flush(timeout=600)
"""


def test_kill_9_mid_delivery_then_a_new_process_resumes_exactly_once(
    robotrace_server: RunningServer, api: Api, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    robot = f"killed-{uuid.uuid4().hex[:8]}"
    files = []
    for i in range(8):
        path = tmp_path / f"big-{i}.mp4"
        path.write_bytes(video_bytes(i, 1024) * (8 * 1024))  # 8 MiB each: delivery takes a while
        files.append(str(path))
    argv = [robotrace_server.base_url, robotrace_server.api_key, str(spool), robot, ",".join(files)]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "spooled"
    delivered = spool / "v1" / "delivered"
    claims = spool / "v1" / "claims"

    def mid_delivery() -> bool:
        # One record delivered and another claimed: the kill lands in the middle of a delivery.
        return bool(delivered.exists() and os.listdir(delivered) and claims.exists() and os.listdir(claims))

    deadline = time.monotonic() + 60
    while not mid_delivery() and time.monotonic() < deadline:
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()
    left = os.listdir(spool / "v1" / "waiting")
    assert left, "the child delivered everything before the kill: the test proves nothing"
    # The killed worker's claim is usually still there (held an instant before the kill; between two records
    # there is none): the new process must resume either way, taking a stale claim over.

    with rt.Client(
        api_key=robotrace_server.api_key,
        base_url=robotrace_server.base_url,
        delivery="background",
        spool_dir=spool,
        verbose=False,
    ) as resumed:
        assert resumed.flush(timeout=120) is True
    stored = by_robot(api, robot)
    assert sorted(int(str(e["seed"])) for e in stored) == list(range(8))
    for e in stored:
        assert api.artifact(str(e["id"]), "video") == video_bytes(int(str(e["seed"])), 1024) * (8 * 1024)


def background(server: RunningServer, spool: Path, **kwargs: object) -> rt.Client:
    return rt.Client(
        api_key=server.api_key,
        base_url=server.base_url,
        delivery="background",
        spool_dir=spool,
        verbose=False,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_full_spool_refuses_new_episodes_with_one_warning(
    robotrace_server: RunningServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("ROBOTRACE_SPOOL_MAX_BYTES", "1000")
    video = tmp_path / "run.mp4"
    video.write_bytes(video_bytes(1, 5000))
    with background(robotrace_server, tmp_path / "spool") as client, caplog.at_level(logging.WARNING):
        refused = [client.log_episode(name="too big", video=video) for _ in range(3)]
        small = client.log_episode(name="metadata only")
        assert small.wait(60)
        assert small.id
    for ep in refused:
        assert ep.wait(0) is False
        assert "full" in str(ep.delivery_error)
    warnings = [r for r in caplog.records if r.name == "robotrace" and "full" in r.getMessage()]
    assert len(warnings) == 1


def test_an_unwritable_spool_never_raises_into_the_loop(
    robotrace_server: RunningServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the spool directory should be")
    with background(robotrace_server, blocker / "spool") as client, caplog.at_level(logging.WARNING):
        eps = [client.log_episode(name=f"unwritable {i}") for i in range(3)]
        assert client.flush(timeout=5) is True  # nothing waiting: nothing could be spooled
    assert all(ep.wait(0) is False and "cannot be written" in str(ep.delivery_error) for ep in eps)
    assert len([r for r in caplog.records if r.name == "robotrace"]) == 1


def test_files_deleted_after_the_call_same_filesystem_delivered_other_filesystem_parked(
    robotrace_server: RunningServer, api: Api, tmp_path: Path
) -> None:
    # A spool on /dev/shm (tmpfs) cannot hard-link a file from tmp_path: the worker must copy it, and a file
    # deleted before that copy is parked with the reason. On the same filesystem the link keeps the bytes.
    shm = Path("/dev/shm") / f"robotrace-spool-{uuid.uuid4().hex[:8]}"
    assert os.stat("/dev/shm").st_dev != os.stat(tmp_path).st_dev
    video = tmp_path / "run.mp4"
    try:
        video.write_bytes(video_bytes(7))
        # Spooled while the server is unreachable, so nothing is copied or delivered before the delete.
        with rt.Client(
            api_key=robotrace_server.api_key,
            base_url=f"http://127.0.0.1:{free_port()}",
            delivery="background",
            spool_dir=shm,
            max_retries=0,
            flush_timeout=0,
            verbose=False,
        ) as offline:
            gone = offline.log_episode(name="deleted too early", video=video)
        video.unlink()
        with background(robotrace_server, shm) as client:
            assert client.flush(timeout=30) is True
        parked = os.listdir(shm / "v1" / "parked")
        assert parked == [gone.spool_id]
        state = json.loads((shm / "v1" / "parked" / parked[0] / "state.json").read_text())
        assert state["parked_reason"].startswith("file deleted before delivery: video")

        video.write_bytes(video_bytes(8))
        with background(robotrace_server, tmp_path / "spool") as client:
            kept = client.log_episode(name="deleted after linking", video=video)
            video.unlink()
            assert kept.wait(60)
        assert api.artifact(kept.id, "video") == video_bytes(8)
    finally:
        subprocess.run(["rm", "-rf", str(shm)], check=False)


def test_a_corrupt_record_is_parked_and_the_rest_delivered(
    robotrace_server: RunningServer, api: Api, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    # A recent id: a record from 1970 would be parked for its age (expired) before anyone reads it.
    bad = spool / "v1" / "waiting" / f"{int(time.time() * 1000) - 1000:013d}-00000000000000aa"
    bad.mkdir(parents=True)
    (bad / "record.json").write_text('{"format": 1, "id": "truncated')
    robot = f"corrupt-{uuid.uuid4().hex[:8]}"
    with background(robotrace_server, spool) as client:
        ep = client.log_episode(name="after the corrupt one", robot=robot)
        assert ep.wait(60)
    assert [e["id"] for e in by_robot(api, robot)] == [ep.id]
    state = json.loads((spool / "v1" / "parked" / bad.name / "state.json").read_text())
    assert state["parked_reason"].startswith("corrupt record: record.json is not JSON")


def test_the_span_active_at_the_call_is_stored_and_env_chooses_background(
    robotrace_server: RunningServer, api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROBOTRACE_DELIVERY", "background")
    monkeypatch.setenv("ROBOTRACE_SPOOL_DIR", str(tmp_path / "spool"))
    rt.init(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url, verbose=False)
    tracer = TracerProvider().get_tracer("training")
    with tracer.start_as_current_span("rollout") as span:
        ep = rt.log_episode(name="env background")
        ctx = span.get_span_context()
    assert ep.id == ""  # spooled, not yet delivered; delivered later, outside the span
    assert rt.flush(30) is True
    assert ep.wait(0)
    stored = api.episode(ep.id)
    assert stored["name"] == "env background"
    assert stored["otel"]["trace_id"] == f"{ctx.trace_id:032x}"
    assert stored["otel"]["span_id"] == f"{ctx.span_id:016x}"


MULTIPART_CHILD = """
import sys, robotrace as rt
base_url, key, spool, video = sys.argv[1:5]  # robot: sys.argv[5]
client = rt.Client(api_key=key, base_url=base_url, delivery="background", spool_dir=spool, verbose=False)
client.log_episode(name="big resumable", robot=sys.argv[5], video=video)
print("spooled", flush=True)
client.flush(timeout=600)
"""


def test_kill_9_during_a_200_mb_upload_resumes_from_the_last_acknowledged_part(
    robotrace_server: RunningServer, api: Api, tmp_path: Path
) -> None:
    size, part = 200 * 1024 * 1024, 8 * 1024 * 1024  # above the 128 MiB threshold: 25 parts of 8 MiB
    video = tmp_path / "big.mp4"
    with video.open("wb") as fh:
        for i in range(size // (1024 * 1024)):
            fh.write(i.to_bytes(4, "little") * (256 * 1024))
    spool = tmp_path / "spool"
    robot = f"resume-{uuid.uuid4().hex[:8]}"
    argv = [robotrace_server.base_url, robotrace_server.api_key, str(spool), str(video), robot]
    command = [sys.executable, "-c", MULTIPART_CHILD, *argv]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "spooled"
    waiting = spool / "v1" / "waiting"
    acknowledged = 0
    deadline = time.monotonic() + 120
    while acknowledged < 4 and time.monotonic() < deadline and child.poll() is None:
        for state in waiting.glob("*/state.json"):
            try:
                parts = json.loads(state.read_text()).get("multipart", {}).get("video", {}).get("parts", {})
            except ValueError:
                continue  # caught mid-rename: read again
            acknowledged = len(parts)
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert 4 <= acknowledged < 25, f"killed after {acknowledged} parts: the test proves nothing"

    offset = len(robotrace_server.output())
    with background(robotrace_server, spool) as resumed:
        assert resumed.flush(timeout=300) is True
    stored = by_robot(api, robot)
    assert len(stored) == 1
    assert api.artifact(str(stored[-1]["id"]), "video") == video.read_bytes()
    logged = re.findall(r"multipart upload stored .*bytes_received=(\d+)", robotrace_server.output()[offset:])
    assert len(logged) == 1
    # Every byte the server received for this upload, both processes together: the file once, plus at most
    # the part in flight at the kill and one more (a part acknowledged but not yet noted).
    assert size <= int(logged[0]) <= size + 2 * part


def test_blocking_log_episode_sends_a_file_above_the_threshold_in_parts(
    robotrace_server: RunningServer, api: Api, tmp_path: Path
) -> None:
    video = tmp_path / "big.mp4"
    mib = 1024 * 1024
    video.write_bytes(bytes(range(256)) * (21 * mib // 256) + b"tail")  # 3 parts of 8 MiB, the last short
    offset = len(robotrace_server.output())
    with rt.Client(
        api_key=robotrace_server.api_key,
        base_url=robotrace_server.base_url,
        verbose=False,
        multipart_threshold=8 * mib,
    ) as client:
        ep = client.log_episode(name="blocking multipart", video=video)
    assert ep.status == "ready"
    assert api.artifact(ep.id, "video") == video.read_bytes()
    # In parts, not one PUT: the server logged the completed multipart upload of this episode.
    logged = robotrace_server.output()[offset:]
    assert re.search(
        rf'multipart upload stored episode_id="{ep.id}" kind="video" size_bytes={video.stat().st_size}',
        logged,
    )


class _Flaky503:
    """A reverse proxy in front of the server that answers 503 to the first ``failures`` requests (a server
    up but overloaded for a while), then forwards everything."""

    def __init__(self, upstream: str, failures: int) -> None:
        self.refused = 0
        outer = self
        forward = httpx.Client(base_url=upstream, timeout=60)

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if outer.refused < failures:
                    outer.refused += 1
                    payload = b'{"error":"overloaded","code":"unavailable","details":null,"request_id":"x"}'
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                answer = forward.request(self.command, self.path, content=body, headers=headers)
                self.send_response(answer.status_code)
                for name in ("Content-Type", "ETag", "Location", "Retry-After"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._forward = forward

    def close(self) -> None:
        self.server.shutdown()
        self._forward.close()


def test_a_server_answering_503_for_a_while_never_blocks_the_loop_and_each_episode_arrives_once(
    robotrace_server: RunningServer, api: Api, tmp_path: Path
) -> None:
    proxy = _Flaky503(robotrace_server.base_url, failures=30)
    robot = f"overloaded-{uuid.uuid4().hex[:8]}"
    try:
        with rt.Client(
            api_key=robotrace_server.api_key,
            base_url=proxy.url,
            delivery="background",
            spool_dir=tmp_path / "spool",
            max_retries=1,
            verbose=False,
        ) as client:
            episodes = []
            for i in range(5):
                path = tmp_path / f"run-{i}.mp4"
                path.write_bytes(video_bytes(i))
                episodes.append(client.log_episode(name=f"overloaded {i}", robot=robot, seed=i, video=path))
            assert [ep.id for ep in episodes] == [""] * 5  # spooled: the loop did not wait for the 503s
            assert client.flush(timeout=120) is True
        assert proxy.refused == 30
        stored = by_robot(api, robot)
        assert sorted(int(str(e["seed"])) for e in stored) == list(range(5))
        for ep in episodes:
            assert ep.wait(0)
            assert api.artifact(ep.id, "video") == video_bytes(int(str(api.episode(ep.id)["seed"])))
    finally:
        proxy.close()
