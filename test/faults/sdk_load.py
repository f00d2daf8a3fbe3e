"""Fault-test driver: N concurrent ``log_episode`` calls of our Python SDK, one JSON line per finished call.

Run by ``apps/web/test/integration/faults-kill9.test.ts``, which kills the server with SIGKILL while these
calls are in flight and restarts it on the same port. Every call gets a unique name so the test can count
episodes per call afterwards.

Output (stdout, one JSON object per line, flushed):
  {"event": "ready"}                                   all clients built, calls about to start
  {"event": "done", "i": 3, "name": "...", "ok": true, "episode_id": "...", "status": "ready", "s": 1.2}
  {"event": "done", "i": 4, "name": "...", "ok": false, "error": "TransportError: ...", "s": 30.1}
  {"event": "finished", "ok": 199, "raised": 1}
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

import robotrace as rt
from robotrace._retry import RetryPolicy

_print_lock = threading.Lock()


def emit(event: dict[str, Any]) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def generous_policy(attempts: int) -> RetryPolicy:
    """The SDK's own retry policy with a larger budget (Client has no public knob for it; see the report)."""
    return RetryPolicy(max_attempts=attempts, base_delay_s=0.25, max_delay_s=2.0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--files", required=True, help="directory holding video.mp4 and sensors.bin")
    parser.add_argument("--attempts", type=int, default=30)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    files = Path(args.files)
    video, sensors = files / "video.mp4", files / "sensors.bin"
    # One Client per call, like a fleet of independent robots: 200 connections really are in flight at once.
    clients = [
        rt.Client(
            api_key=args.api_key,
            base_url=args.base_url,
            timeout=httpx.Timeout(args.timeout, connect=5.0),
            verbose=False,
        )
        for _ in range(args.count)
    ]
    for client in clients:
        client._session.policy = generous_policy(args.attempts)

    start = threading.Barrier(args.count + 1)

    def call(i: int) -> bool:
        name = f"{args.prefix}-{i:04d}"
        start.wait()
        t0 = time.monotonic()
        try:
            episode = clients[i].log_episode(
                name=name,
                source="sim",
                video=video,
                sensors=sensors,
                duration_s=1.5,
                metadata={"call": i},
            )
        except Exception as exc:  # every failure is reported, never swallowed
            emit(
                {
                    "event": "done",
                    "i": i,
                    "name": name,
                    "ok": False,
                    "error": f"{type(exc).__name__}: {exc}",
                    "s": round(time.monotonic() - t0, 3),
                }
            )
            return False
        emit(
            {
                "event": "done",
                "i": i,
                "name": name,
                "ok": True,
                "episode_id": episode.id,
                "status": episode.status,
                "s": round(time.monotonic() - t0, 3),
            }
        )
        return True

    with ThreadPoolExecutor(max_workers=args.count) as pool:
        futures = [pool.submit(call, i) for i in range(args.count)]
        emit({"event": "ready"})
        start.wait()
        results = [f.result() for f in futures]
    for client in clients:
        client.close()
    emit({"event": "finished", "ok": sum(results), "raised": len(results) - sum(results)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
