"""The Python SDK's half of bench/delivery (run by bench/delivery/run.ts; prints one JSON object).

    .cache/venv-sdk/bin/python bench/delivery/python_delivery.py --base-url URL --api-key KEY --video FILE
        --work DIR [--calls N] [--drain N]

1. Call latency: ``log_episode(video=<100 MB>)`` blocking (create + PUT + finalize) and background (spooled:
   the call returns once the record is on disk), each timed per call, in the same run.
2. Draining: the same N episodes delivered by a blocking loop, then by background delivery (N calls, then
   ``flush()``); throughput in bytes/s of each.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import robotrace as rt


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--video", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--drain", type=int, default=8)
    a = parser.parse_args()
    size = os.path.getsize(a.video)
    work = Path(a.work)

    blocking = rt.Client(api_key=a.api_key, base_url=a.base_url, verbose=False)
    # Blocking loop: N episodes one after another (also the per-call latency of a blocking call).
    t0 = time.perf_counter()
    blocking_s = []
    for i in range(a.drain):
        t = time.perf_counter()
        blocking.log_episode(name=f"bench blocking {i}", video=a.video)
        blocking_s.append(time.perf_counter() - t)
    blocking_total = time.perf_counter() - t0
    blocking.close()

    # Background drain: the same N calls, then flush; the calls are timed while the worker delivers.
    bg = rt.Client(
        api_key=a.api_key, base_url=a.base_url, verbose=False, delivery="background", spool_dir=work / "drain"
    )
    t0 = time.perf_counter()
    during_drain = []
    for i in range(a.drain):
        t = time.perf_counter()
        bg.log_episode(name=f"bench background {i}", video=a.video)
        during_drain.append(time.perf_counter() - t)
    assert bg.flush(timeout=600)
    drain_total = time.perf_counter() - t0
    bg.close()

    # Call latency alone: many calls into a spool whose server does not answer (nothing is delivered, so the
    # machine is not busy moving gigabytes meanwhile). Hard links take no room, but the bound counts them.
    os.environ["ROBOTRACE_SPOOL_MAX_BYTES"] = str(2**50)
    offline = rt.Client(
        api_key=a.api_key,
        base_url="http://127.0.0.1:9",
        verbose=False,
        delivery="background",
        spool_dir=work / "latency",
        max_retries=0,
        flush_timeout=0,
    )
    calls = []
    for i in range(a.calls):
        t = time.perf_counter()
        offline.log_episode(name=f"bench latency {i}", video=a.video)
        calls.append(time.perf_counter() - t)
    offline.close()

    print(
        json.dumps(
            {
                "video_bytes": size,
                "blocking_call_ms": {"p50": percentile(blocking_s, 0.5) * 1e3, "p99": max(blocking_s) * 1e3},
                "background_call_ms": {
                    "p50": percentile(calls, 0.5) * 1e3,
                    "p99": percentile(calls, 0.99) * 1e3,
                    "n": len(calls),
                },
                "background_call_during_drain_ms": {
                    "p50": percentile(during_drain, 0.5) * 1e3,
                    "max": max(during_drain) * 1e3,
                },
                "blocking_loop_bytes_per_s": a.drain * size / blocking_total,
                "background_drain_bytes_per_s": a.drain * size / drain_total,
            }
        )
    )


if __name__ == "__main__":
    main()
