"""HTTP with bounded retries: JSON calls to the API and streamed uploads to signed URLs.

Both retry network errors, 408, 429 and 5xx, at most ``MAX_ATTEMPTS`` tries in all. A create or finalize
carries one ``Idempotency-Key`` for all its tries, so a retry after a lost response cannot act twice.
``HttpSession`` and ``AsyncHttpSession`` (in ``_http_async``) share every decision through ``SessionBase``;
only the waiting and sending differ.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Callable

import httpx

from ._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ._version import __version__
from .errors import ServerError, TransportError, error_from_response

USER_AGENT = f"robotrace-python/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# A multi-GB video takes minutes; a stalled connection still fails within the read/write bound.
UPLOAD_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
CHUNK_SIZE = 1024 * 1024
CLIENT_HEADERS = {"User-Agent": USER_AGENT, "X-RoboTrace-SDK-Version": __version__}


class SessionBase:
    def __init__(self, *, api_key: str, base_url: str, policy: RetryPolicy | None) -> None:
        self.base_url = base_url
        self.policy = policy or RetryPolicy()
        # Sent on API calls only: the key must never reach a signed upload URL (possibly another host).
        self._api_headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def _json_call(self, path: str, body: bytes | None, idempotent_write: bool) -> tuple[str, dict[str, str]]:
        headers = dict(self._api_headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotent_write:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        return self.base_url + path, headers

    def _upload_target(self, url: str, size: int, content_type: str) -> tuple[str, dict[str, str]]:
        if not url.startswith(("http://", "https://")):
            url = self.base_url + ("" if url.startswith("/") else "/") + url
        return url, {"Content-Type": content_type, "Content-Length": str(size)}

    def _wait_or_raise(
        self,
        attempt: int,
        what: str,
        *,
        response: httpx.Response | None = None,
        exc: httpx.TransportError | None = None,
    ) -> float:
        """After a failed try: the seconds to wait before the next one, or raise the error to give up with."""
        last = attempt >= self.policy.max_attempts
        if response is None:
            if last:
                raise TransportError(f"{what} failed after {attempt} tries: {exc!r}") from exc
            return self.policy.delay_s(attempt, None)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if is_retryable_status(response.status_code) and not last:
            return self.policy.delay_s(attempt, retry_after)
        raise error_from_response(
            response.status_code,
            _body(response),
            retry_after=None if retry_after is None else int(retry_after),
            what=what,
        )


class HttpSession(SessionBase):
    """One connection pool per Client; ``httpx.Client`` is thread-safe, and so is this."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(api_key=api_key, base_url=base_url, policy=policy)
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            transport=transport,
            follow_redirects=False,
            headers=CLIENT_HEADERS,
        )

    def close(self) -> None:
        self._client.close()

    def request_json(
        self, method: str, path: str, *, body: bytes | None = None, idempotent_write: bool = False
    ) -> dict[str, Any]:
        """Send a JSON call; return the JSON object answered, or raise the typed error after retries."""
        url, headers = self._json_call(path, body, idempotent_write)
        response = self._with_retries(
            lambda: self._client.request(method, url, content=body, headers=headers), f"{method} {path}"
        )
        return json_object(response, f"{method} {path}")

    def put_file(
        self,
        url: str,
        path: Path,
        *,
        size: int,
        content_type: str,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        """PUT a file to a signed URL, streamed from disk in chunks (never read whole into memory)."""
        url, headers = self._upload_target(url, size, content_type)

        def send() -> httpx.Response:
            # A fresh handle per try: a retry re-sends the file from its first byte.
            with path.open("rb") as fh:
                return self._client.put(
                    url, content=_chunks(fh, on_progress), headers=headers, timeout=UPLOAD_TIMEOUT
                )

        self._with_retries(send, f"upload of {path.name}")

    def _with_retries(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = send()
            except httpx.TransportError as exc:  # connect/read/write errors and timeouts
                self._sleep(self._wait_or_raise(attempt, what, exc=exc))
                continue
            except httpx.HTTPError as exc:
                raise TransportError(f"{what} failed: {exc!r}") from exc
            if response.status_code < 400:
                return response
            self._sleep(self._wait_or_raise(attempt, what, response=response))


def _chunks(fh: IO[bytes], on_progress: Callable[[int], None] | None) -> Iterator[bytes]:
    sent = 0
    while chunk := fh.read(CHUNK_SIZE):
        sent += len(chunk)
        yield chunk
        if on_progress is not None:
            on_progress(sent)


def _body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    body = _body(response)
    if isinstance(body, dict):
        return body
    raise ServerError(
        f"{what} answered {response.status_code} without a JSON object",
        status_code=response.status_code,
        response_body=body,
    )


def dumps(payload: Any) -> bytes:
    """Compact JSON; NaN/Infinity are refused because they are not JSON."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
