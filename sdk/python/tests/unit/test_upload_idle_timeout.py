"""The upload timeout is an idle timeout (spec/SDK_BEHAVIOUR.md), against a real local HTTP server: one
that receives the file slowly for longer than the timeout in total, but never stalls, gets all of it; one that
stops reading makes the upload fail with ``TimeoutError`` once no bytes moved for the timeout."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest

import robotrace as rt

from ..support.fake_server import API_KEY

MIB = 1024 * 1024
# Larger than what the loopback socket buffers hold (a few MiB), so the client really waits on the server.
SIZE = 64 * MIB
IDLE_S = 2.0
# The slow server pauses this long after every MiB: 64 pauses = 3.2 s in total, well past IDLE_S, while the
# few MiB in the socket buffers drain in a fraction of IDLE_S.
PAUSE_S = 0.05


@dataclass
class Received:
    bytes: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    finalized: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _serve(after_each_mib: Callable[[Received], bool]) -> tuple[ThreadingHTTPServer, Received]:
    """A tiny RoboTrace; ``after_each_mib`` paces the PUT body (False: stop reading and never answer)."""
    got = Received()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            if self.path == "/api/ingest/episode":
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                self._json(
                    201,
                    {
                        "episode_id": "ep-1",
                        "status": "recording",
                        "storage": "local",
                        "upload_urls": [
                            {"kind": "video", "url": f"{base}/upload", "expires_at": "2030-01-01T00:00:00Z"}
                        ],
                        "portal_url": f"{base}/portal/episodes/ep-1",
                        "warnings": [],
                    },
                )
            else:
                got.finalized.append(body["status"])
                self._json(200, {"id": "ep-1", "status": body["status"]})

        def do_PUT(self) -> None:
            remaining = int(self.headers["Content-Length"])
            while remaining:
                chunk = self.rfile.read(min(64 * 1024, remaining))
                if not chunk:
                    return
                before = got.bytes
                got.bytes += len(chunk)
                remaining -= len(chunk)
                got.first_at = got.first_at or time.monotonic()
                got.last_at = time.monotonic()
                if before // MIB != got.bytes // MIB and not after_each_mib(got):
                    got.release.wait(60)  # stalled: reads nothing more, answers nothing
                    return
            self._json(200, {})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("idle") / "long.mp4"
    path.write_bytes(b"\x01" * SIZE)
    return path


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Received], bool]], tuple[rt.Client, Received]]]:
    started: list[tuple[ThreadingHTTPServer, Received, rt.Client]] = []

    def start(after_each_mib: Callable[[Received], bool]) -> tuple[rt.Client, Received]:
        server, got = _serve(after_each_mib)
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        client = rt.Client(
            api_key=API_KEY, base_url=base_url, upload_timeout=IDLE_S, max_retries=0, verbose=False
        )
        started.append((server, got, client))
        return client, got

    yield start
    for server, got, client in started:
        client.close()
        got.release.set()
        server.shutdown()
        server.server_close()


def _slowly(got: Received) -> bool:
    time.sleep(PAUSE_S)
    return True


def test_a_slow_upload_that_never_stalls_outlasts_the_timeout_and_succeeds(
    serve: Callable[[Callable[[Received], bool]], tuple[rt.Client, Received]], video: Path
) -> None:
    client, got = serve(_slowly)
    episode = client.log_episode(video=video)
    assert episode.status == "ready"
    assert got.bytes == SIZE
    assert got.finalized == ["ready"]
    # The server's own clock: bytes flowed for longer than the idle timeout, so it was no deadline.
    assert got.last_at - got.first_at > IDLE_S


def test_an_upload_the_server_stops_reading_fails_with_a_timeout(
    serve: Callable[[Callable[[Received], bool]], tuple[rt.Client, Received]], video: Path
) -> None:
    client, got = serve(lambda _got: False)  # reads the first MiB, then nothing
    started = time.monotonic()
    with pytest.raises(rt.TimeoutError) as caught:
        client.log_episode(video=video)
    assert isinstance(caught.value, rt.TransportError)
    assert str(caught.value).startswith("upload of long.mp4 failed after 1 try: timed out (WriteTimeout(")
    # It cannot give up before the idle timeout passed without progress.
    assert time.monotonic() - started >= IDLE_S
    assert got.bytes < SIZE
    assert got.finalized == ["failed"]  # log_episode marks the run failed with the reason
