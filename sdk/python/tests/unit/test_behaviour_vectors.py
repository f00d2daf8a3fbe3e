"""Every case of spec/sdk-behaviour-vectors.json against this SDK; the TypeScript SDK runs the same file
(packages/sdk-ts/test/unit/behaviour-vectors.test.ts)."""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import robotrace as rt
from robotrace import _http, _retry

from ..conftest import REPO_ROOT
from ..support.fake_server import FakeServer, error
from .helpers import SleepRecorder, client_for

SPEC: dict[str, Any] = json.loads((REPO_ROOT / "spec" / "sdk-behaviour-vectors.json").read_text("utf-8"))
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _answer(scripted: Any, code: str | None = None) -> httpx.Response | Exception:
    """A vector's answer as the fake server gives it: an error response, or the exception httpx raises."""
    if scripted == "network":
        return httpx.ConnectError("connection refused")
    if scripted == "timeout":
        return httpx.ReadTimeout("no answer within the timeout")
    if isinstance(scripted, int):
        return error(scripted, f"the server says {scripted}", code or f"code_{scripted}")
    status = scripted["status"]
    return error(
        status,
        f"the server says {status}",
        f"code_{status}",
        headers={"Retry-After": scripted["retry_after"]},
    )


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "run.mp4"
    path.write_bytes(b"\x07" * 4096)
    return path


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff's random draw, fixed per case (0 unless a case says)."""
    value = [0.0]
    monkeypatch.setattr(random, "random", lambda: value[0])
    return value


def _perform(client: rt.Client, call: str, video: Path) -> BaseException | None:
    """One logical ``call`` made the way a user makes it; the error it raised, or None."""
    try:
        episode = client.start_episode(artifacts=["video"])
        if call == "get":
            client.get_episode(episode.id)
        elif call == "finalize":
            episode.finalize()
        elif call in ("upload", "upload_url"):
            if call == "upload_url":  # an expired slot makes the upload ask for a fresh URL first
                episode.upload_urls["video"].expires_at = "2000-01-01T00:00:00Z"
            episode.upload("video", video)
    except rt.RobotraceError as exc:
        return exc
    return None


def _run(
    call: str, answers: list[Any], video: Path, max_retries: int | None = None, code: str | None = None
) -> tuple[BaseException | None, FakeServer, SleepRecorder]:
    server, sleep = FakeServer(), SleepRecorder()
    server.fail_next(call, *(_answer(a, code) for a in answers))
    options = {} if max_retries is None else {"max_retries": max_retries}
    with client_for(server, sleep, **options) as client:
        return _perform(client, call, video), server, sleep


def _assert_error(raised: BaseException | None, expected: str | None) -> None:
    if expected is None:
        assert raised is None, repr(raised)
    else:
        assert type(raised).__name__ == expected, repr(raised)
        assert isinstance(raised, getattr(rt, expected))


def test_defaults_are_the_spec() -> None:
    defaults, backoff = SPEC["defaults"], SPEC["backoff"]
    policy = _retry.RetryPolicy()
    assert policy.max_attempts - 1 == defaults["max_retries"]
    assert _http.DEFAULT_TIMEOUT.read == defaults["api_timeout_s"]
    assert _http.upload_timeout_of(None).write == defaults["upload_idle_timeout_s"]
    assert (policy.base_delay_s, policy.max_delay_s) == (backoff["base_s"], backoff["cap_s"])
    assert policy.max_retry_after_s == SPEC["retry_after"]["cap_s"]


def test_exactly_the_listed_statuses_are_retried() -> None:
    low, high = SPEC["retry"]["retried_status_range"]
    for status in range(400, 600):
        listed = status in SPEC["retry"]["retried_statuses"] or low <= status <= high
        assert _retry.is_retryable_status(status) is listed, status


@pytest.mark.parametrize(
    "options", [{"max_retries": -1}, {"max_retries": 1.5}, {"max_retries": True}, {"upload_timeout": 0}]
)
def test_unusable_retry_and_timeout_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(rt.ConfigurationError):
        rt.Client(api_key="rt_x", base_url="http://x", **options)


@pytest.mark.parametrize(("name", "parent"), SPEC["errors"]["tree"].items())
def test_error_tree(name: str, parent: str | None) -> None:
    cls = getattr(rt, name)
    assert cls.__name__ == name
    assert cls.__bases__[0] is (Exception if parent is None else getattr(rt, parent))


@pytest.mark.parametrize("case", SPEC["errors"]["status_cases"], ids=lambda c: f"{c['status']} {c['code']}")
def test_status_maps_to_its_class(case: dict[str, Any], video: Path, draws: list[float]) -> None:
    every_attempt = [case["status"]] * (SPEC["defaults"]["max_retries"] + 1)
    raised, _, _ = _run("get", every_attempt, video, code=case["code"])
    _assert_error(raised, case["class"])
    assert isinstance(raised, rt.APIError)
    assert (raised.status_code, raised.code, raised.request_id) == (
        case["status"],
        case["code"],
        f"req_{case['status']}",
    )


@pytest.mark.parametrize("case", SPEC["retry"]["cases"], ids=lambda c: c["name"])
def test_retries(case: dict[str, Any], video: Path, draws: list[float]) -> None:
    raised, server, _ = _run(case["call"], case["answers"], video, case.get("max_retries"))
    assert len(server.routes(case["call"])) == case["expect"]["attempts"]
    _assert_error(raised, case["expect"]["error"])


@pytest.mark.parametrize("case", SPEC["retry"]["wait_cases"], ids=lambda c: c["name"])
def test_waits(case: dict[str, Any], video: Path, draws: list[float]) -> None:
    draws[0] = case["random"]
    raised, server, sleep = _run(case["call"], case["answers"], video)
    assert raised is None
    assert len(server.routes(case["call"])) == case["expect"]["attempts"]
    assert sleep.waits == pytest.approx(case["expect"]["waits_s"])


@pytest.mark.parametrize(
    "case", SPEC["backoff"]["cases"], ids=lambda c: f"{c['failed_attempts']}x{c['random']}"
)
def test_backoff(case: dict[str, Any]) -> None:
    delay = _retry.RetryPolicy().delay_s(case["failed_attempts"], None, rand=lambda: case["random"])
    assert delay == pytest.approx(case["expect_s"], abs=1e-9)


@pytest.mark.parametrize("case", SPEC["retry_after"]["cases"], ids=lambda c: json.dumps(c["header"]))
def test_retry_after(case: dict[str, Any]) -> None:
    now = datetime.fromisoformat(SPEC["retry_after"]["now"].replace("Z", "+00:00"))
    assert _retry.parse_retry_after(case["header"], now) == case["expect_s"]


@pytest.mark.parametrize("case", SPEC["idempotency"]["cases"], ids=lambda c: c["call"])
def test_idempotency_key(case: dict[str, Any], video: Path, draws: list[float]) -> None:
    raised, server, _ = _run(case["call"], case["answers"], video)
    assert raised is None
    keys = [r.headers.get("Idempotency-Key") for r in server.routes(case["call"])]
    assert len(keys) == len(case["answers"]) + 1
    if case["key"] == "absent":
        assert keys == [None] * len(keys)
    else:
        assert len(set(keys)) == 1
        assert UUID4.fullmatch(str(keys[0]))
        assert uuid.UUID(str(keys[0])).version == 4


def test_every_logical_call_has_its_own_key() -> None:
    server = FakeServer()
    with client_for(server) as client:
        client.start_episode(artifacts=[])
        client.start_episode(artifacts=[])
    first, second = (r.headers["Idempotency-Key"] for r in server.routes("create"))
    assert first != second


def _expand(value: dict[str, Any]) -> Any:
    if "blob" in value:
        return {"blob": _expand(value["blob"])}
    return value["repeat"] * value["times"]


def _argument_id(case: dict[str, Any]) -> str:
    value = _expand(case["value"])
    size = f"{len(value)} chars" if isinstance(value, str) else f"{case['bytes']} bytes"
    return f"{case['call']} {case['field']}: {size} -> {'ok' if case['ok'] else 'ArgumentError'}"


@pytest.mark.parametrize("case", SPEC["arguments"]["cases"], ids=_argument_id)
def test_argument_checks(case: dict[str, Any]) -> None:
    value = _expand(case["value"])
    if "bytes" in case:  # the vector's own arithmetic, measured as the server measures it
        assert len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()) == case["bytes"]
    server = FakeServer()
    with client_for(server) as client:
        try:
            if case["call"] == "create":
                client.start_episode(artifacts=[], **{case["field"]: value})
            else:
                client.start_episode(artifacts=[]).finalize(metadata=value)
        except rt.ArgumentError:
            raised = True
        else:
            raised = False
    assert raised is not case["ok"]
    # Checked before any request: a refused argument leaves nothing half-created on the server.
    assert len(server.routes(case["call"])) == (1 if case["ok"] else 0)
