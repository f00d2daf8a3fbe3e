"""``AsyncHttpSession``: ``HttpSession`` for asyncio (kept apart so ``import robotrace`` skips asyncio)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import IO, Any, Callable

import httpx

from ._errors import TransportError
from ._http import (
    CHUNK_SIZE,
    MAX_REDIRECTS,
    ApiCall,
    Outcome,
    SessionBase,
    broken_off,
    client_options,
    json_object,
    upload_what,
)
from ._payload import UploadFile
from ._retry import RetryPolicy


class AsyncHttpSession(SessionBase):
    """The asyncio twin of ``HttpSession``, on ``httpx.AsyncClient``: the same calls, awaited."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        upload_timeout: float | None = None,
    ) -> None:
        super().__init__(api_key=api_key, base_url=base_url, policy=policy, upload_timeout=upload_timeout)
        self._sleep = sleep
        self._client = httpx.AsyncClient(transport=transport, **client_options(timeout))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request_json(self, call: ApiCall) -> dict[str, Any]:
        url, headers = self._json_call(call)
        response = await self._with_retries(
            lambda: self._client.request(call.method, url, content=call.body, headers=headers), call.what
        )
        return json_object(response, call.what)

    async def put_file(
        self, url: str, file: UploadFile, on_progress: Callable[[int], None] | None = None
    ) -> None:
        url, headers = self._upload_target(url, file)

        async def send() -> httpx.Response:
            with file.path.open("rb") as fh:
                return await self._client.put(
                    url, content=_achunks(fh, on_progress), headers=headers, timeout=self.upload_timeout
                )

        await self._with_retries(send, upload_what(file))

    async def stream_lines(self, call: ApiCall, accept: str) -> AsyncIterator[str]:
        """``HttpSession.stream_lines``, awaited: the lines of a streamed answer as they arrive."""
        url, headers = self._json_call(call)
        headers["Accept"] = accept

        async def send() -> httpx.Response:
            response = await self._client.send(
                self._client.build_request(call.method, url, headers=headers), stream=True
            )
            if response.status_code >= 400:  # an error answer is read whole: its JSON body names the error
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            return response

        response = await self._with_retries(send, call.what)
        try:
            async for line in response.aiter_lines():
                yield line
        except httpx.HTTPError as exc:  # past the headers there is no retry: the lines so far were handed out
            raise broken_off(call.what, exc) from exc
        finally:
            await response.aclose()

    async def download(self, url: str, target: Path) -> None:
        """``HttpSession.download``, awaited: redirects followed by hand, the API key to this origin only."""
        url = self._absolute(url)

        async def send() -> httpx.Response:
            location = url
            for _ in range(MAX_REDIRECTS + 1):
                request = self._client.build_request(
                    "GET", location, headers=self._download_headers(location), timeout=self.upload_timeout
                )
                response = await self._client.send(request, stream=True)
                if not (response.is_redirect and "location" in response.headers):
                    try:
                        if response.status_code >= 400:
                            await response.aread()
                        else:
                            await _asave(response, target)
                    finally:
                        await response.aclose()
                    return response
                await response.aclose()
                location = str(response.url.join(response.headers["location"]))
            raise TransportError(f"download of {url}: more than {MAX_REDIRECTS} redirects")

        await self._with_retries(send, f"download of {target.name}")

    async def _with_retries(self, send: Callable[[], Awaitable[httpx.Response]], what: str) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                outcome: Outcome = await send()
            except httpx.HTTPError as exc:
                outcome = exc
            step = self._after_try(attempt, what, outcome)
            if isinstance(step, httpx.Response):
                return step
            await self._sleep(step)


async def _asave(response: httpx.Response, target: Path) -> None:
    # Disk writes in a worker thread, like the upload's reads: a slow disk never stalls the event loop.
    with target.open("wb") as fh:
        async for chunk in response.aiter_bytes(CHUNK_SIZE):
            await asyncio.to_thread(fh.write, chunk)


async def _achunks(fh: IO[bytes], on_progress: Callable[[int], None] | None) -> AsyncIterator[bytes]:
    sent = 0
    # Disk reads happen in a worker thread so a slow disk never stalls the event loop.
    while chunk := await asyncio.to_thread(fh.read, CHUNK_SIZE):
        sent += len(chunk)
        yield chunk
        if on_progress is not None:
            on_progress(sent)
