"""HTTP with bounded retries: JSON calls to the API and streamed uploads to signed URLs.

Both retry network errors, 408, 429 and 5xx, at most ``MAX_ATTEMPTS`` tries in all. A create or finalize
carries one ``Idempotency-Key`` for all its tries, so a retry after a lost response cannot act twice.
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
from .errors import APIError, ServerError, TransportError, error_from_response

USER_AGENT = f"robotrace-python/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# A multi-GB video takes minutes; a stalled connection still fails within the read/write bound.
UPLOAD_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
CHUNK_SIZE = 1024 * 1024


class HttpSession:
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
        self.base_url = base_url
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        # No Authorization here: it must never reach a signed upload URL (possibly another host).
        self._client = httpx.Client(
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "X-RoboTrace-SDK-Version": __version__},
        )
        self._api_headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
        }

    def close(self) -> None:
        self._client.close()

    def request_json(
        self, method: str, path: str, *, body: bytes | None = None, idempotent_write: bool = False
    ) -> dict[str, Any]:
        """Send a JSON call; return the JSON object answered, or raise the typed error after retries."""
        headers = dict(self._api_headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotent_write:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        url = self.base_url + path
        what = f"{method} {path}"

        def send() -> httpx.Response:
            return self._client.request(method, url, content=body, headers=headers)

        response = self._with_retries(send, what)
        return _json_object(response, what)

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
        if not url.startswith(("http://", "https://")):
            url = self.base_url + ("" if url.startswith("/") else "/") + url
        headers = {"Content-Type": content_type, "Content-Length": str(size)}
        what = f"upload of {path.name}"

        def send() -> httpx.Response:
            # A fresh handle per try: a retry re-sends the file from its first byte.
            with path.open("rb") as fh:
                return self._client.put(
                    url, content=_chunks(fh, on_progress), headers=headers, timeout=UPLOAD_TIMEOUT
                )

        self._with_retries(send, what)

    def _with_retries(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        attempts = self.policy.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = send()
            except httpx.TransportError as exc:  # connect/read/write errors and timeouts
                if attempt == attempts:
                    raise TransportError(f"{what} failed after {attempts} tries: {exc!r}") from exc
                self._sleep(self.policy.delay_s(attempt, None))
                continue
            except httpx.HTTPError as exc:
                raise TransportError(f"{what} failed: {exc!r}") from exc
            status = response.status_code
            if status < 400:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if is_retryable_status(status) and attempt < attempts:
                self._sleep(self.policy.delay_s(attempt, retry_after))
                continue
            raise _error(response, retry_after, what)
        raise AssertionError("unreachable: the last try returns or raises")


def _chunks(fh: IO[bytes], on_progress: Callable[[int], None] | None) -> Iterator[bytes]:
    sent = 0
    while True:
        chunk = fh.read(CHUNK_SIZE)
        if not chunk:
            return
        sent += len(chunk)
        yield chunk
        if on_progress is not None:
            on_progress(sent)


def _body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def _error(response: httpx.Response, retry_after: float | None, what: str) -> APIError:
    return error_from_response(
        response.status_code,
        _body(response),
        retry_after=None if retry_after is None else int(retry_after),
        what=what,
    )


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
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
