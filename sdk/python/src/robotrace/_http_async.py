"""``AsyncHttpSession``: ``HttpSession`` for asyncio (kept apart so ``import robotrace`` skips asyncio)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import IO, Any, Callable

import httpx

from ._http import CHUNK_SIZE, CLIENT_HEADERS, DEFAULT_TIMEOUT, UPLOAD_TIMEOUT, SessionBase, json_object
from ._retry import RetryPolicy
from .errors import TransportError


class AsyncHttpSession(SessionBase):
    """The asyncio twin of ``HttpSession``, on ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(api_key=api_key, base_url=base_url, policy=policy)
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            transport=transport,
            follow_redirects=False,
            headers=CLIENT_HEADERS,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request_json(
        self, method: str, path: str, *, body: bytes | None = None, idempotent_write: bool = False
    ) -> dict[str, Any]:
        url, headers = self._json_call(path, body, idempotent_write)
        response = await self._with_retries(
            lambda: self._client.request(method, url, content=body, headers=headers), f"{method} {path}"
        )
        return json_object(response, f"{method} {path}")

    async def put_file(
        self,
        url: str,
        path: Path,
        *,
        size: int,
        content_type: str,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        url, headers = self._upload_target(url, size, content_type)

        async def send() -> httpx.Response:
            with path.open("rb") as fh:
                return await self._client.put(
                    url, content=_achunks(fh, on_progress), headers=headers, timeout=UPLOAD_TIMEOUT
                )

        await self._with_retries(send, f"upload of {path.name}")

    async def _with_retries(self, send: Callable[[], Awaitable[httpx.Response]], what: str) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await send()
            except httpx.TransportError as exc:
                await self._sleep(self._wait_or_raise(attempt, what, exc=exc))
                continue
            except httpx.HTTPError as exc:
                raise TransportError(f"{what} failed: {exc!r}") from exc
            if response.status_code < 400:
                return response
            await self._sleep(self._wait_or_raise(attempt, what, response=response))


async def _achunks(fh: IO[bytes], on_progress: Callable[[int], None] | None) -> AsyncIterator[bytes]:
    sent = 0
    # Disk reads happen in a worker thread so a slow disk never stalls the event loop.
    while chunk := await asyncio.to_thread(fh.read, CHUNK_SIZE):
        sent += len(chunk)
        yield chunk
        if on_progress is not None:
            on_progress(sent)
