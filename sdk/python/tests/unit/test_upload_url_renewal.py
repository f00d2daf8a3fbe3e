"""An expired signed upload URL is renewed once (``POST /api/ingest/episode/{id}/upload-url``): before
sending when its ``expires_at`` has passed, else after the server refuses it as ``url_expired``; the whole
file is sent again. ``URLExpiredError`` only when the fresh URL is refused too. Sync and async, on
httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

import robotrace as rt
from robotrace import _retry
from robotrace._retry import url_expiring

BASE_URL = "http://signing.test"
API_KEY = "rt_unit_0123456789abcdefghijklmnop"
EPISODE = "ep-1"


class SigningServer:
    """Just enough of the API for upload URLs: create, upload-url, PUTs to signed URLs checked against this
    server's clock, finalize. The SDK reads the same clock (``robotrace._retry.utcnow`` is patched to it)."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
        self.ttl_s = ttl_s
        self.put_delays: list[float] = []  # how long each PUT takes to arrive: the clock moves on first
        self.ask_answer: httpx.Response | None = None
        self.calls: list[str] = []
        self.bodies: list[bytes] = []
        self.final: dict[str, Any] = {}
        self._signed = 0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "PUT":
            return self._put(request)
        body = json.loads(request.content) if request.content else {}
        if path == "/api/ingest/episode":
            self.calls.append("create")
            return httpx.Response(
                201,
                json={
                    "episode_id": EPISODE,
                    "status": "recording",
                    "storage": "local",
                    "upload_urls": [self._sign(kind) for kind in body["request_uploads"]],
                    "portal_url": f"{BASE_URL}/portal/episodes/{EPISODE}",
                    "warnings": [],
                },
            )
        if path == f"/api/ingest/episode/{EPISODE}/upload-url":
            self.calls.append(f"ask {body['kind']}")
            return self.ask_answer or httpx.Response(200, json=self._sign(body["kind"]))
        if path == f"/api/ingest/episode/{EPISODE}/finalize":
            self.calls.append(f"finalize {body['status']}")
            self.final = body
            return httpx.Response(200, json={"id": EPISODE, "status": body["status"]})
        return httpx.Response(404, json={"error": f"no route {request.method} {path}", "code": "not_found"})

    def _sign(self, kind: str) -> dict[str, str]:
        self._signed += 1
        expires = self.now + timedelta(seconds=self.ttl_s)
        return {
            "kind": kind,
            "url": f"{BASE_URL}/storage/{kind}?exp={expires.timestamp():.0f}&n={self._signed}",
            "expires_at": expires.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    def _put(self, request: httpx.Request) -> httpx.Response:
        if self.put_delays:
            self.advance(self.put_delays.pop(0))
        url = f"url {request.url.params['n']}"
        self.bodies.append(request.content)
        if int(request.url.params["exp"]) < self.now.timestamp():
            self.calls.append(f"put {url} 403")
            return httpx.Response(
                403,
                json={"error": "This signed URL has expired: request a new one", "code": "url_expired"},
            )
        self.calls.append(f"put {url} 200")
        return httpx.Response(200)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> SigningServer:
    signing = SigningServer()
    monkeypatch.setattr(_retry, "utcnow", lambda: signing.now)
    return signing


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "run.mp4"
    path.write_bytes(b"frame" * 3000)
    return path


Steps = Callable[[SigningServer], None]


def _upload(flavour: str, server: SigningServer, video: Path, before: Steps) -> rt.Episode | rt.AsyncEpisode:
    """start_episode(artifacts=["video"]), ``before(server)``, upload the video, finish the episode."""
    if flavour == "sync":
        with rt.Client(api_key=API_KEY, base_url=BASE_URL, transport=server.transport()) as client:
            with client.start_episode(artifacts=["video"]) as ep:
                before(server)
                ep.upload_video(video)
            return ep

    async def main() -> rt.AsyncEpisode:
        async with rt.AsyncClient(api_key=API_KEY, base_url=BASE_URL, transport=server.transport()) as client:
            async with await client.start_episode(artifacts=["video"]) as aep:
                before(server)
                await aep.upload_video(video)
            return aep

    return asyncio.run(main())


FLAVOURS = pytest.mark.parametrize("flavour", ["sync", "async"])


@FLAVOURS
@pytest.mark.parametrize("waited_s", [120.0, 56.0], ids=["expired", "expires-within-5s"])
def test_a_url_past_its_expiry_is_renewed_before_sending(
    server: SigningServer, video: Path, flavour: str, waited_s: float
) -> None:
    ep = _upload(flavour, server, video, lambda s: s.advance(waited_s))
    assert server.calls == ["create", "ask video", "put url 2 200", "finalize ready"]
    assert server.bodies == [video.read_bytes()]
    assert ep.upload_urls["video"].url.endswith("n=2")  # the handle keeps the fresh URL
    assert server.final["bytes_total"] == video.stat().st_size


@FLAVOURS
def test_a_url_refused_as_expired_is_renewed_once_and_the_whole_file_sent_again(
    server: SigningServer, video: Path, flavour: str
) -> None:
    # Our clock said the URL was good, but the PUT arrived after its expiry (a slow start, a skewed clock).
    ep = _upload(flavour, server, video, lambda s: s.put_delays.append(120))
    assert server.calls == ["create", "put url 1 403", "ask video", "put url 2 200", "finalize ready"]
    assert server.bodies == [video.read_bytes()] * 2
    assert ep.status == "ready"
    assert server.final["bytes_total"] == video.stat().st_size  # counted once


@FLAVOURS
def test_url_expired_error_when_the_fresh_url_is_refused_too(
    server: SigningServer, video: Path, flavour: str
) -> None:
    with pytest.raises(rt.URLExpiredError) as caught:
        _upload(flavour, server, video, lambda s: s.put_delays.extend([120, 120]))
    assert server.calls == ["create", "put url 1 403", "ask video", "put url 2 403", "finalize failed"]
    assert caught.value.code == "url_expired"
    assert str(caught.value).startswith(
        "This signed URL has expired: request a new one; refused again with the fresh upload URL the SDK "
        "asked for once (HTTP 403, code=url_expired"
    )
    reason = server.final["metadata"]["failure_reason"]
    assert reason.startswith("URLExpiredError: This signed URL has expired")


@FLAVOURS
def test_a_url_renewed_before_sending_is_not_renewed_again(
    server: SigningServer, video: Path, flavour: str
) -> None:
    def expire_and_arrive_late(s: SigningServer) -> None:
        s.advance(120)
        s.put_delays.append(120)

    with pytest.raises(rt.URLExpiredError):
        _upload(flavour, server, video, expire_and_arrive_late)
    assert server.calls == ["create", "ask video", "put url 2 403", "finalize failed"]


@FLAVOURS
def test_a_refused_request_for_a_fresh_url_raises_its_own_error(
    server: SigningServer, video: Path, flavour: str
) -> None:
    def expire_and_refuse(s: SigningServer) -> None:
        s.advance(120)
        s.ask_answer = httpx.Response(409, json={"error": "Episode is already finalized", "code": "conflict"})

    with pytest.raises(rt.ConflictError, match="already finalized"):
        _upload(flavour, server, video, expire_and_refuse)
    assert server.calls == ["create", "ask video", "finalize failed"]  # nothing sent to the stale URL


def test_log_episode_renews_and_finalizes_ready(server: SigningServer, video: Path) -> None:
    server.put_delays.append(120)
    with rt.Client(api_key=API_KEY, base_url=BASE_URL, transport=server.transport()) as client:
        ep = client.log_episode(video=video)
    assert ep.status == "ready"
    assert server.calls == ["create", "put url 1 403", "ask video", "put url 2 200", "finalize ready"]


def test_a_fresh_url_keeps_the_public_url_when_the_answer_lacks_it(
    server: SigningServer, video: Path
) -> None:
    with rt.Client(api_key=API_KEY, base_url=BASE_URL, transport=server.transport()) as client:
        ep = client.start_episode(artifacts=["video"])
        ep.upload_urls["video"].public_url = "https://cdn.example/run.mp4"
        server.advance(120)
        ep.upload_video(video)
    assert ep.upload_urls["video"].public_url == "https://cdn.example/run.mp4"


def test_an_answer_without_a_url_is_a_server_error(server: SigningServer, video: Path) -> None:
    server.ask_answer = httpx.Response(200, json={"kind": "video"})
    with rt.Client(api_key=API_KEY, base_url=BASE_URL, transport=server.transport()) as client:
        ep = client.start_episode(artifacts=["video"])
        server.advance(120)
        with pytest.raises(rt.ServerError, match="fresh video upload URL answer has no url"):
            ep.upload_video(video)


def test_url_expiring_reads_iso_8601_by_our_clock() -> None:
    now = datetime(2026, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert url_expiring("2026-06-01T11:59:59.000Z", now)
    assert url_expiring("2026-06-01T12:00:04Z", now)  # within the 5 s margin
    assert not url_expiring("2026-06-01T12:00:06.000Z", now)
    assert not url_expiring("2026-06-01T14:00:06+02:00", now)  # 12:00:06 UTC
    assert url_expiring("2026-06-01T12:00:00", now)  # no offset: UTC
    assert not url_expiring("", now)  # unreadable: the server decides
    assert not url_expiring("next tuesday", now)
