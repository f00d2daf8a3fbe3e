"""Where the tail of a background ``log_episode`` call comes from (issue 18, the Python p99 goal).

    .cache/venv-sdk/bin/python bench/delivery/python_call_tail.py [--calls 300] [--rounds 3]

Each round times N background calls (a 100 MB video, hard-linked; a server that does not answer, as in
bench/delivery/run.ts) under four conditions, interleaved so the machine's load hits them alike:

- ``floor``: no robotrace at all, the same file-system steps a spooled call makes (mkdir, link, write a
  small JSON file, rename twice) — what this machine gives any process right now;
- ``no worker``: ``log_episode`` with the delivery thread parked (it never runs);
- ``worker``: ``log_episode`` as shipped (the thread tries to deliver, backs off, fsyncs new records);
- ``worker, busy GIL``: as shipped, with one more thread spinning in Python (a training loop's data loader).

Prints one JSON object: p50 / p99 / max in ms per condition and round, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import robotrace as rt
from robotrace import _spool_worker


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(pct(values, 0.5) * 1e3, 3),
        "p99": round(pct(values, 0.99) * 1e3, 3),
        "max": round(max(values) * 1e3, 3),
    }


def timed(calls: int, one: Callable[[int], None]) -> list[float]:
    out = []
    for i in range(calls):
        t = time.perf_counter()
        one(i)
        out.append(time.perf_counter() - t)
    return out


def floor(work: Path, video: Path, calls: int) -> list[float]:
    root = work / "floor"
    (root / "tmp").mkdir(parents=True)
    (root / "waiting").mkdir()

    def one(i: int) -> None:
        tmp = root / "tmp" / f"r{i}"
        tmp.mkdir()
        os.link(video, tmp / "video")
        part = tmp / "record.json.tmp"
        part.write_text(json.dumps({"i": i, "pad": "x" * 1500}))
        os.rename(part, tmp / "record.json")
        os.rename(tmp, root / "waiting" / f"r{i}")

    return timed(calls, one)


def spooled(work: Path, video: Path, calls: int, name: str, *, worker: bool, spin: bool) -> list[float]:
    real_run = _spool_worker.SpoolWorker._run
    if not worker:
        _spool_worker.SpoolWorker._run = lambda self: None  # type: ignore[method-assign]
    stop = threading.Event()
    spinner = None
    if spin:

        def busy() -> None:
            n = 0
            while not stop.is_set():
                n = (n * 31 + 7) % 1_000_003

        spinner = threading.Thread(target=busy, daemon=True)
        spinner.start()
    try:
        client = rt.Client(
            api_key="rt_bench_tail_0123456789abcdef",
            base_url="http://127.0.0.1:9",
            verbose=False,
            delivery="background",
            spool_dir=work / name,
            max_retries=0,
            flush_timeout=0,
        )
        try:
            return timed(calls, lambda i: client.log_episode(name=f"tail {i}", video=str(video)))
        finally:
            client.close()
    finally:
        stop.set()
        if spinner is not None:
            spinner.join()
        _spool_worker.SpoolWorker._run = real_run  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    a = parser.parse_args()
    os.environ["ROBOTRACE_SPOOL_MAX_BYTES"] = str(2**50)
    work = Path(tempfile.mkdtemp(prefix="robotrace-tail-"))
    try:
        video = work / "video.mp4"
        with open(video, "wb") as f:
            f.truncate(100 * 1024 * 1024)
        rounds: list[dict[str, Any]] = []
        for r in range(a.rounds):
            row: dict[str, Any] = {"load_1m": round(os.getloadavg()[0], 1)}
            row["floor"] = summary(floor(work / f"r{r}", video, a.calls))
            row["no worker"] = summary(spooled(work / f"r{r}", video, a.calls, "a", worker=False, spin=False))
            row["worker"] = summary(spooled(work / f"r{r}", video, a.calls, "b", worker=True, spin=False))
            row["worker, busy GIL"] = summary(
                spooled(work / f"r{r}", video, a.calls, "c", worker=True, spin=True)
            )
            rounds.append(row)
            shutil.rmtree(work / f"r{r}", ignore_errors=True)
        print(json.dumps({"calls": a.calls, "cores": os.cpu_count(), "rounds": rounds}, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
