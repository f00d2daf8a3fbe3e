"""Against the real server, whose signed upload URLs live 10 s in this session (see conftest): uploads after
the expiry ask for a fresh URL once, before sending or after the server's url_expired refusal."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

import robotrace as rt

from ..support.api import Api
from ..support.robotrace_server import RunningServer


class Recording(httpx.HTTPTransport):
    """The real transport, noting what each request was and what it got: "PUT 403", "POST upload-url 200"."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.seen.append(_note(request, response))
        return response


class AsyncRecording(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.seen.append(_note(request, response))
        return response


def _note(request: httpx.Request, response: httpx.Response) -> str:
    if request.method == "PUT":
        return f"PUT {response.status_code}"
    return f"{request.method} {request.url.path.rsplit('/', 1)[1]} {response.status_code}"


def _wait_until_refused(expires_at: str) -> None:
    """The server refuses a URL once its clock's whole second is past the expiry second."""
    expires = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
    time.sleep(max(0.0, expires + 1.2 - time.time()))


def test_uploads_after_the_expiry_renew_their_url_once(
    robotrace_server: RunningServer, api: Api, video: Path, tmp_path: Path
) -> None:
    sensors = tmp_path / "sensors.bin"
    sensors.write_bytes(bytes(range(256)) * 12_288)  # 3 MiB: refused while it streams, then sent again
    sync_seen, async_seen = Recording(), AsyncRecording()
    server = {"api_key": robotrace_server.api_key, "base_url": robotrace_server.base_url}

    async def main() -> tuple[rt.Episode, rt.Episode, rt.AsyncEpisode]:
        async with rt.AsyncClient(**server, transport=async_seen) as aclient:
            with rt.Client(**server, transport=sync_seen) as client:
                ahead = client.start_episode(name="renew before sending", artifacts=["video"])
                behind = client.start_episode(name="renew after refusal", artifacts=["sensors"])
                closed = client.start_episode(name="finalized", artifacts=["video"])
                closed.finalize(status="failed")
                aep = await aclient.start_episode(name="renew async", artifacts=["video"])

                _wait_until_refused(aep.upload_urls["video"].expires_at)
                # This handle believes its URL is good (a skewed clock): only the server's refusal tells.
                behind.upload_urls["sensors"].expires_at = "2999-01-01T00:00:00.000Z"
                stale = behind.upload_urls["sensors"].url
                sync_seen.seen.clear()

                ahead.upload_video(video)
                ahead.finalize()
                assert sync_seen.seen == ["POST upload-url 200", "PUT 200", "POST finalize 200"]

                sync_seen.seen.clear()
                behind.upload_sensors(sensors)
                behind.finalize()
                assert sync_seen.seen == ["PUT 403", "POST upload-url 200", "PUT 200", "POST finalize 200"]
                assert behind.upload_urls["sensors"].url != stale

                with pytest.raises(rt.ConflictError, match="already finalized"):
                    closed.upload_video(video)

                async_seen.seen.clear()
                await aep.upload_video(video)
                await aep.finalize()
                assert async_seen.seen == ["POST upload-url 200", "PUT 200", "POST finalize 200"]
                return ahead, behind, aep

    ahead, behind, aep = asyncio.run(main())
    for ep, kind, file in ((ahead, "video", video), (behind, "sensors", sensors), (aep, "video", video)):
        stored = api.episode(ep.id)
        assert (stored["status"], stored["bytes_total"]) == ("ready", file.stat().st_size)
        assert api.artifact(ep.id, kind) == file.read_bytes()
