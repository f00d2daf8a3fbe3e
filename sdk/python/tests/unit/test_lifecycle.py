"""Deleting and exporting episodes against a scripted server (httpx.MockTransport): the calls sent, the errors
raised, and the ``robotrace episodes delete|export`` lines - the same lines the TypeScript CLI's unit test
(packages/sdk-ts/test/unit/cli-lifecycle.test.ts) expects."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

import robotrace as rt
from robotrace._cli import episodes as episode_cli
from robotrace._lifecycle import format_bytes

from ..support.fake_server import API_KEY, BASE_URL
from .helpers import SleepRecorder

A = "0b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69"
B = "1b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69"
C = "2b0c6f2e-6a59-4a43-9d8e-1f2d3c4b5a69"
NPZ = b"PK\x03\x04" + bytes([7]) * 60
VIDEO = bytes([1]) * 100
Handler = Callable[[httpx.Request], httpx.Response]


def deleted(episode_id: str, **extra: Any) -> httpx.Response:
    body = {
        "episode_id": episode_id,
        "deleted": True,
        "artifacts_deleted": 2,
        "bytes_freed": 3 * 1024 * 1024,
        "references_removed": {"eval_results": 0, "scenarios": 0},
        **extra,
    }
    return httpx.Response(200, json=body)


def error(status: int, message: str, code: str, details: object = None) -> httpx.Response:
    body = {"error": message, "code": code, "details": details, "request_id": "r"}
    return httpx.Response(status, json=body)


class Recording:
    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._handler(request)


def client_on(server: Recording) -> rt.Client:
    client = rt.Client(api_key=API_KEY, base_url=BASE_URL, transport=httpx.MockTransport(server))
    client._session._sleep = SleepRecorder()
    return client


def run_cli(server: Recording, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="robotrace")
    episode_cli.register(
        parser.add_subparsers(dest="command", required=True), lambda _profile: client_on(server)
    )
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def referencing_server() -> Recording:
    def answer(request: httpx.Request) -> httpx.Response:
        if A in request.url.path:
            return deleted(A)
        if B in request.url.path:
            return error(404, "Episode not found", "not_found")
        details = {
            "eval_runs": [{"id": "run-1", "name": "nightly"}],
            "scenarios": [{"id": "sc-1", "name": None}],
        }
        return error(409, "Episode is referenced", "episode_referenced", details)

    return Recording(answer)


def test_delete_raises_the_typed_errors_with_the_references() -> None:
    server = referencing_server()
    with client_on(server) as client:
        assert client.delete_episode(A)["artifacts_deleted"] == 2
        with pytest.raises(rt.NotFoundError):
            client.delete_episode(B)
        with pytest.raises(rt.ConflictError) as conflict:
            client.delete_episode(C)
    assert conflict.value.code == "episode_referenced"
    assert conflict.value.details == {
        "eval_runs": [{"id": "run-1", "name": "nightly"}],
        "scenarios": [{"id": "sc-1", "name": None}],
    }
    assert [r.method for r in server.requests] == ["DELETE"] * 3
    assert all("unlink_references" not in str(r.url) for r in server.requests)


def test_a_retried_delete_keeps_its_idempotency_key_and_unlinks_when_asked() -> None:
    answers = iter([error(503, "busy", "unavailable"), deleted(A)])
    server = Recording(lambda _request: next(answers))
    with client_on(server) as client:
        assert client.delete_episode(A, unlink_references=True)["deleted"] is True
    keys = [r.headers.get("idempotency-key") for r in server.requests]
    assert len(keys) == 2
    assert keys[0]
    assert keys[1] == keys[0]
    assert str(server.requests[0].url) == f"{BASE_URL}/api/episodes/{A}?unlink_references=true"


def test_cli_delete_prints_one_line_per_id_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(referencing_server(), ["episodes", "delete", A, B, C])
    out, err = capsys.readouterr()
    assert out.split("\n") == [
        f"deleted {A} (2 artifacts, 3.0 MB freed)",
        f"not found {B}",
        f'referenced {C} by eval run "nightly" (run-1), scenario sc-1'
        " (pass --unlink-references to remove those links)",
        "",
    ]
    assert err.strip() == "Error: 2 of 3 not deleted"
    assert code == 1


def test_cli_delete_says_what_was_unlinked_and_pending(capsys: pytest.CaptureFixture[str]) -> None:
    server = Recording(
        lambda _r: deleted(A, references_removed={"eval_results": 1, "scenarios": 2}, pending_storage=True)
    )
    assert run_cli(server, ["episodes", "delete", A, "--unlink-references", "--yes"]) == 0
    assert capsys.readouterr().out == (
        f"deleted {A} (2 artifacts, 3.0 MB freed; unlinked 1 eval result, 2 scenarios)"
        " - storage still deleting the files, retried by the server\n"
    )


def test_cli_delete_stops_at_an_auth_error(capsys: pytest.CaptureFixture[str]) -> None:
    server = Recording(lambda _r: error(401, "Invalid API key", "unauthorized"))
    assert run_cli(server, ["episodes", "delete", A, B]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Invalid API key" in err
    assert len(server.requests) == 1


def exported(episode_id: str, artifacts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": episode_id,
        "episode_id": episode_id,
        "name": f"ep {episode_id[:4]}",
        "source": "sim",
        "status": "ready",
        "metadata": {"note": "ü"},
        "otel": None,
        "artifacts": artifacts,
        "created_at": "2026-11-24T10:00:00.000Z",
        "portal_url": f"{BASE_URL}/portal/episodes/{episode_id}",
    }


class _Broken(httpx.SyncByteStream):
    def __init__(self, head: bytes) -> None:
        self._head = head

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        raise httpx.ReadError("connection reset")


def export_server(lines: list[dict[str, Any]], break_after: int | None = None) -> Recording:
    """Artifact URLs redirect to a storage host on another origin, as a signed S3 URL does."""
    text = "".join(json.dumps(line) + "\n" for line in lines).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.url.host == "storage.test":
            return httpx.Response(200, content=VIDEO if path.endswith("/video") else NPZ)
        if path == "/api/episodes/export":
            if break_after is None:
                return httpx.Response(200, content=text, headers={"content-type": "application/x-ndjson"})
            return httpx.Response(200, stream=_Broken(text[:break_after]))
        if "/artifact/" in path:
            return httpx.Response(302, headers={"location": f"http://storage.test/signed{path}"})
        return error(404, "no", "not_found")

    return Recording(answer)


def test_export_streams_the_lines_with_the_filters_as_query() -> None:
    lines = [exported(A, []), exported(B, [])]
    server = export_server(lines)
    with client_on(server) as client:
        got = list(
            client.export_episodes(status="failed", robot="arm-2", created_after="2026-11-01T00:00:00Z")
        )
    assert got == lines
    assert dict(server.requests[0].url.params) == {
        "status": "failed",
        "robot": "arm-2",
        "created_after": "2026-11-01T00:00:00Z",
    }
    assert server.requests[0].headers["accept"] == "application/x-ndjson"


def test_a_naive_datetime_is_refused_before_any_request() -> None:
    server = export_server([])
    with client_on(server) as client, pytest.raises(rt.ArgumentError, match="timezone-aware"):
        client.export_episodes(created_after=datetime(2026, 11, 1))
    assert server.requests == []


def test_cli_export_downloads_each_file_the_key_only_to_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = [
        {"kind": "video", "url": f"{BASE_URL}/api/episodes/{A}/artifact/video", "bytes": 100,
         "content_type": "video/mp4"},
        {"kind": "sensors", "url": f"{BASE_URL}/api/episodes/{A}/artifact/sensors", "bytes": 64,
         "content_type": "application/octet-stream"},
    ]  # fmt: skip
    server = export_server([exported(A, artifacts)])
    out, files = tmp_path / "export.jsonl", tmp_path / "files"
    assert run_cli(server, ["episodes", "export", "--out", str(out), "--artifacts-dir", str(files)]) == 0
    assert capsys.readouterr().err == f"exported 1 episode to {out}, 2 artifacts downloaded to {files}\n"
    (line,) = [json.loads(text) for text in out.read_text(encoding="utf-8").splitlines()]
    assert [a["local_path"] for a in line["artifacts"]] == [
        str(files / A / "video.mp4"),
        str(files / A / "sensors.npz"),
    ]
    assert line["metadata"] == {"note": "ü"}
    assert (files / A / "video.mp4").read_bytes() == VIDEO
    assert (files / A / "sensors.npz").read_bytes() == NPZ
    assert sorted(p.name for p in (files / A).iterdir()) == ["sensors.npz", "video.mp4"]
    for request in server.requests:
        on_api = str(request.url).startswith(BASE_URL)
        assert request.headers.get("authorization") == (f"Bearer {API_KEY}" if on_api else None), request.url


def test_cli_export_cut_off_leaves_no_file_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [exported(A, []), exported(B, []), exported(C, [])]
    server = export_server(lines, break_after=len(json.dumps(lines[0])) + 10)
    out = tmp_path / "export.jsonl"
    assert run_cli(server, ["episodes", "export", "--out", str(out)]) == 1
    assert "the answer broke off" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_export_never_writes_outside_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = exported(
        "../../escape", [{"kind": "video", "url": f"{BASE_URL}/x", "bytes": 1, "content_type": None}]
    )
    code = run_cli(export_server([evil]), ["episodes", "export", "--artifacts-dir", str(tmp_path / "files")])
    assert code == 1
    assert "refusing to write artifact video of episode ../../escape" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_async_client_deletes_exports_and_downloads(tmp_path: Path) -> None:
    sensors = {"kind": "sensors", "url": f"{BASE_URL}/api/episodes/{A}/artifact/sensors", "bytes": 64,
               "content_type": "application/octet-stream"}  # fmt: skip
    lines = [exported(A, [sensors])]
    export = export_server(lines)

    def answer(request: httpx.Request) -> httpx.Response:
        return deleted(A) if request.method == "DELETE" else export(request)

    async def main() -> tuple[dict[str, Any], list[dict[str, Any]], Path]:
        transport = httpx.MockTransport(answer)
        async with rt.AsyncClient(api_key=API_KEY, base_url=BASE_URL, transport=transport) as client:
            result = await client.delete_episode(A)
            got = [episode async for episode in client.export_episodes(source="sim")]
            path = await client.download_artifact(A, got[0]["artifacts"][0], tmp_path)
            return result, got, path

    result, got, path = asyncio.run(main())
    assert result["episode_id"] == A
    assert got == lines
    assert path == tmp_path / A / "sensors.npz"
    assert path.read_bytes() == NPZ
    assert sorted(p.name for p in (tmp_path / A).iterdir()) == ["sensors.npz"]
    for request in export.requests:
        on_api = str(request.url).startswith(BASE_URL)
        assert request.headers.get("authorization") == (f"Bearer {API_KEY}" if on_api else None), request.url


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1280, "1.3 KB"), (3 * 1024 * 1024, "3.0 MB"), (5 * 1024**3, "5.00 GB")],
)
def test_sizes_read_as_the_typescript_cli_prints_them(size: int, text: str) -> None:
    assert format_bytes(size) == text


class _Terminal:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "deletes"), [("n", 1, 0), ("y", 0, 2)])
def test_cli_delete_asks_first_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], answer: str, code: int, deletes: int
) -> None:
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or answer)
    server = Recording(lambda request: deleted(A if A in request.url.path else B))
    assert run_cli(server, ["episodes", "delete", A, B]) == code
    assert asked == ["Delete 2 episodes and their artifacts? This cannot be undone [y/N]: "]
    assert len(server.requests) == deletes
    if deletes == 0:
        assert "nothing deleted" in capsys.readouterr().err


class _Stalled(httpx.SyncByteStream):
    """One line, then the read timeout the transport would raise."""

    def __iter__(self) -> Iterator[bytes]:
        yield (json.dumps(exported(A, [])) + "\n").encode()
        raise httpx.ReadTimeout("timed out")


def test_an_export_that_stops_sending_raises_timeout_after_the_lines_that_came() -> None:
    server = Recording(lambda _r: httpx.Response(200, stream=_Stalled()))
    seen: list[str] = []
    with client_on(server) as client, pytest.raises(rt.TimeoutError, match="no bytes arrived"):
        seen.extend(episode["id"] for episode in client.export_episodes())
    assert seen == [A]
