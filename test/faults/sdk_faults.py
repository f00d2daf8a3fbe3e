"""Fault-test driver for our Python SDK (run by apps/web/test/integration/faults-sdk.test.ts).

``down``: the server is down — a closed port (connection refused) and a port that accepts connections but
never answers (a hung server). ``rt.log_episode`` must return or raise within the SDK's configured budget
(attempts x timeout + backoff) with a one-line message.

``otel``: the server is up; OpenTelemetry misbehaves in every way we can inject into the real tracer and
span (opentelemetry-sdk). ``log_episode`` must still log the episode, and nothing OTel raises may reach the
caller.

Each case prints one JSON line: {"case": ..., "ok": bool, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import robotrace as rt
from robotrace._retry import RetryPolicy


def emit(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def budget_s(timeout_s: float, policy: RetryPolicy) -> float:
    """The longest a call may take: every attempt times out, and every backoff is at its ceiling."""
    waits = sum(
        min(policy.max_delay_s, policy.base_delay_s * 2.0 ** (n - 1)) for n in range(1, policy.max_attempts)
    )
    return policy.max_attempts * timeout_s + waits


@contextlib.contextmanager
def hung_server() -> Iterator[int]:
    """A port that accepts TCP connections and never sends a byte (a wedged server or proxy)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return int(s.getsockname()[1])


def down(files: Path) -> None:
    timeout_s = 1.0
    policy = RetryPolicy()  # the default budget every user gets
    with hung_server() as hung:
        for case, port in (("refused", closed_port()), ("hung", hung)):
            rt.init(
                api_key="rt_faulttest_0123456789abcdef",
                base_url=f"http://127.0.0.1:{port}",
                timeout=timeout_s,
            )
            t0 = time.monotonic()
            try:
                rt.log_episode(name=f"down-{case}", source="sim", video=files / "video.mp4")
            except rt.RobotraceError as exc:
                message = str(exc)
                emit(
                    {
                        "case": case,
                        "ok": True,
                        "raised": type(exc).__name__,
                        "message": message,
                        "one_line": "\n" not in message and "\r" not in message,
                        "s": time.monotonic() - t0,
                        "budget_s": budget_s(timeout_s, policy),
                    }
                )
            except BaseException as exc:  # anything else is a failure of the SDK's contract
                emit({"case": case, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
            else:
                emit(
                    {"case": case, "ok": False, "error": "log_episode returned against a server that is down"}
                )
            finally:
                rt.close()


class BrokenTraceState:
    """A tracestate whose serialisation raises."""

    def to_header(self) -> str:
        raise RuntimeError("injected: tracestate.to_header")

    def __bool__(self) -> bool:
        return True


def otel(base_url: str, api_key: str, files: Path) -> None:
    from opentelemetry import trace  # noqa: PLC0415 - imported only for this mode
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415

    provider = TracerProvider()
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("robotrace-faults")

    def boom(what: str) -> Callable[..., Any]:
        def raise_(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError(f"injected: {what}")

        return raise_

    def context_with(span: Any, trace_id: Any = None, trace_state: Any = None) -> Any:
        """The span's real SpanContext (a tuple) with a field replaced, as a buggy propagator could make."""
        real = span.get_span_context()
        fields = (trace_id or real.trace_id, real.span_id, False, real.trace_flags, trace_state, True)
        return tuple.__new__(type(real), fields)

    # (case, injection given the live span, link_span, whether the block still reaches the server)
    cases: list[tuple[str, Callable[[Any], contextlib.AbstractContextManager[Any]], bool, bool]] = [
        ("baseline", lambda span: contextlib.nullcontext(), False, True),
        (
            "get_span_context raises",
            lambda span: mock.patch.object(span, "get_span_context", boom("get_span_context")),
            False,
            False,
        ),
        (
            "get_current_span raises",
            lambda span: mock.patch.object(trace, "get_current_span", boom("get_current_span")),
            False,
            False,
        ),
        (
            "span context holds garbage",
            lambda span: mock.patch.object(
                span, "get_span_context", return_value=context_with(span, trace_id="not-an-int")
            ),
            False,
            False,
        ),
        (
            "tracestate.to_header raises",
            lambda span: mock.patch.object(
                span, "get_span_context", return_value=context_with(span, trace_state=BrokenTraceState())
            ),
            False,
            False,
        ),
        (
            "back-link set_attribute raises",
            lambda span: mock.patch.object(span, "set_attribute", boom("set_attribute")),
            True,
            True,
        ),
        (
            "back-link is_recording raises",
            lambda span: mock.patch.object(span, "is_recording", boom("is_recording")),
            True,
            True,
        ),
    ]
    for name, inject, link_span, expect_block in cases:
        client = rt.Client(api_key=api_key, base_url=base_url, verbose=False, link_span=link_span)
        try:
            with tracer.start_as_current_span(f"fault {name}") as span:
                trace_id = format(span.get_span_context().trace_id, "032x")
                with inject(span):
                    episode = client.log_episode(
                        name=f"otel-fault {name}", source="sim", video=files / "video.mp4"
                    )
            stored = client.get_episode(episode.id)
            emit(
                {
                    "case": name,
                    "ok": True,
                    "status": episode.status,
                    "sent_block": episode.otel is not None,
                    "expect_block": expect_block,
                    "stored_trace_id": (stored.get("otel") or {}).get("trace_id"),
                    "span_trace_id": trace_id,
                }
            )
        except BaseException as exc:
            emit({"case": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
        finally:
            client.close()

    # The asyncio client captures the span the same way; one injected failure there too.
    async def async_case() -> dict[str, Any]:
        async with rt.AsyncClient(api_key=api_key, base_url=base_url, verbose=False) as client:
            with (
                tracer.start_as_current_span("fault async") as span,
                mock.patch.object(span, "get_span_context", boom("get_span_context (async)")),
            ):
                episode = await client.log_episode(
                    name="otel-fault async", source="sim", video=files / "video.mp4"
                )
            return {"status": episode.status, "sent_block": episode.otel is not None}

    try:
        emit(
            {
                "case": "async get_span_context raises",
                "ok": True,
                "expect_block": False,
                **asyncio.run(async_case()),
            }
        )
    except BaseException as exc:
        emit({"case": "async get_span_context raises", "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    provider.shutdown()


def upload_refused(base_url: str, api_key: str, files: Path, name: str) -> None:
    """log_episode whose upload the server refuses for good (e.g. 507, disk full): it must raise one line."""
    with rt.Client(api_key=api_key, base_url=base_url, verbose=False) as client:
        t0 = time.monotonic()
        try:
            client.log_episode(name=name, source="sim", video=files / "video.mp4")
        except rt.RobotraceError as exc:
            message = str(exc)
            emit(
                {
                    "case": "upload refused",
                    "ok": True,
                    "raised": type(exc).__name__,
                    "status_code": getattr(exc, "status_code", None),
                    "message": message,
                    "one_line": "\n" not in message,
                    "s": time.monotonic() - t0,
                }
            )
        else:
            emit({"case": "upload refused", "ok": False, "error": "log_episode returned"})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["down", "otel", "upload-refused"])
    parser.add_argument("--name", default="upload-refused")
    parser.add_argument("--files", required=True, help="directory holding video.mp4")
    parser.add_argument("--base-url")
    parser.add_argument("--api-key")
    args = parser.parse_args()
    files = Path(args.files)
    if args.mode == "down":
        down(files)
    elif args.mode == "upload-refused":
        upload_refused(args.base_url, args.api_key, files, args.name)
    else:
        otel(args.base_url, args.api_key, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
