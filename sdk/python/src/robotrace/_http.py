"""HTTP with bounded retries: JSON calls to the API and streamed uploads to signed URLs.

Both retry network errors, timeouts, 408, 429 and 5xx, ``max_retries`` times (default 3). A create or
finalize carries one ``Idempotency-Key`` for all its tries, so a retry after a lost response cannot act twice.
An upload's timeout is an idle timeout: every read and write of the connection is bounded, none of the whole
transfer, so a large file on a slow link succeeds and a stalled one fails after ``upload_timeout`` seconds.
``HttpSession`` and ``AsyncHttpSession`` (in ``_http_async``) share every decision through ``SessionBase``
(the URL and headers of a call, whether a try's outcome is the answer, a wait or the error to raise); only
the waiting and sending differ.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Protocol, Union

import httpx

from ._errors import ServerError, TimeoutError, TransportError, error_from_response
from ._payload import UploadFile
from ._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ._version import __version__

USER_AGENT = f"robotrace-python/{__version__}"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_UPLOAD_TIMEOUT_S = 120.0
# One chunk is one socket send, and a send's timeout covers the whole chunk (socket.sendall): small chunks
# make the upload timeout mean "no progress", not "this much data within the timeout".
CHUNK_SIZE = 64 * 1024
CLIENT_HEADERS = {"User-Agent": USER_AGENT, "X-RoboTrace-SDK-Version": __version__}

# What one try ended with: an answer, or the httpx error that stopped it.
Outcome = Union[httpx.Response, httpx.HTTPError]


@dataclass(frozen=True)
class ApiCall:
    """One JSON call to the API; ``idempotent_write`` gives all its tries one ``Idempotency-Key``."""

    method: str
    path: str
    body: bytes | None = None
    idempotent_write: bool = False
    # A key chosen by the caller (a spooled record keeps its key across processes); None: a fresh UUID.
    idempotency_key: str | None = None

    @property
    def what(self) -> str:
        return f"{self.method} {self.path}"


def upload_timeout_of(seconds: float | None) -> httpx.Timeout:
    """The upload's idle bound: each connect, write, read and pool wait; never the whole transfer."""
    idle = DEFAULT_UPLOAD_TIMEOUT_S if seconds is None else seconds
    return httpx.Timeout(idle, connect=min(10.0, idle))


def client_options(timeout: float | httpx.Timeout | None) -> dict[str, Any]:
    """The ``httpx.Client`` / ``httpx.AsyncClient`` settings both sessions use."""
    return {
        "timeout": DEFAULT_TIMEOUT if timeout is None else timeout,
        "follow_redirects": False,
        "headers": CLIENT_HEADERS,
    }


class SessionBase:
    def __init__(
        self, *, api_key: str, base_url: str, policy: RetryPolicy | None, upload_timeout: float | None = None
    ) -> None:
        self.base_url = base_url
        self.policy = policy or RetryPolicy()
        self.upload_timeout = upload_timeout_of(upload_timeout)
        # Sent on API calls only: the key must never reach a signed upload URL (possibly another host).
        self._api_headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    def _json_call(self, call: ApiCall) -> tuple[str, dict[str, str]]:
        headers = dict(self._api_headers)
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if call.idempotent_write:
            headers["Idempotency-Key"] = call.idempotency_key or str(uuid.uuid4())
        return self.base_url + call.path, headers

    def _absolute(self, url: str) -> str:
        if url.startswith(("http://", "https://")):
            return url
        return self.base_url + ("" if url.startswith("/") else "/") + url

    def _download_headers(self, url: str) -> dict[str, str]:
        """The API key for this server's origin only (a signed storage URL, another host, gets none)."""
        return dict(self._api_headers) if _origin(url) == _origin(self.base_url) else {}

    def _upload_target(self, url: str, file: UploadFile) -> tuple[str, dict[str, str]]:
        if not url.startswith(("http://", "https://")):
            url = self.base_url + ("" if url.startswith("/") else "/") + url
        return url, {"Content-Type": file.content_type, "Content-Length": str(file.size)}

    def _after_try(self, attempt: int, what: str, outcome: Outcome) -> httpx.Response | float:
        """After try number ``attempt``: the response when it is the answer, else the seconds to wait before
        the next try; raises the error to give up with."""
        if isinstance(outcome, httpx.Response):
            if outcome.status_code < 400:
                return outcome
        elif not isinstance(outcome, httpx.TransportError):  # connect/read/write errors and timeouts retry
            raise TransportError(f"{what} failed: {outcome!r}") from outcome
        last = attempt >= self.policy.max_attempts
        if not isinstance(outcome, httpx.Response):
            if last:
                tries = f"{attempt} {'try' if attempt == 1 else 'tries'}"
                if isinstance(outcome, httpx.TimeoutException):
                    # For an upload the bound is per read/write: no progress within it, however long the file.
                    raise TimeoutError(f"{what} failed after {tries}: timed out ({outcome!r})") from outcome
                raise TransportError(f"{what} failed after {tries}: {outcome!r}") from outcome
            return self.policy.delay_s(attempt, None)
        retry_after = parse_retry_after(outcome.headers.get("Retry-After"))
        if is_retryable_status(outcome.status_code) and not last:
            return self.policy.delay_s(attempt, retry_after)
        raise error_from_response(
            outcome.status_code,
            _body(outcome),
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
        upload_timeout: float | None = None,
    ) -> None:
        super().__init__(api_key=api_key, base_url=base_url, policy=policy, upload_timeout=upload_timeout)
        self._sleep = sleep
        self._client = httpx.Client(transport=transport, **client_options(timeout))

    def close(self) -> None:
        self._client.close()

    def request_json(self, call: ApiCall) -> dict[str, Any]:
        """Send a JSON call; return the JSON object answered, or raise the typed error after retries."""
        url, headers = self._json_call(call)
        response = self._with_retries(
            lambda: self._client.request(call.method, url, content=call.body, headers=headers), call.what
        )
        return json_object(response, call.what)

    def put_file(self, url: str, file: UploadFile, on_progress: Callable[[int], None] | None = None) -> None:
        """PUT a file to a signed URL, streamed from disk in chunks (never read whole into memory)."""
        url, headers = self._upload_target(url, file)

        def send() -> httpx.Response:
            # A fresh handle per try: a retry re-sends the file from its first byte.
            with file.path.open("rb") as fh:
                return self._client.put(
                    url, content=_chunks(fh, on_progress), headers=headers, timeout=self.upload_timeout
                )

        self._with_retries(send, upload_what(file))

    def put_part(self, url: str, path: Path, offset: int, length: int) -> str:
        """PUT ``length`` bytes of ``path`` from ``offset`` to a signed part URL; returns the part's ETag."""
        url, _ = self._upload_target(url, UploadFile("video", path, length))
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}

        def send() -> httpx.Response:
            with path.open("rb") as fh:  # a fresh handle per try: a retry re-sends this part only
                fh.seek(offset)
                return self._client.put(
                    url,
                    content=_chunks(_Window(fh, length), None),
                    headers=headers,
                    timeout=self.upload_timeout,
                )

        response = self._with_retries(send, f"upload of part at byte {offset} of {path.name}")
        return str(response.headers.get("ETag", "")).strip('"')

    def stream_lines(self, call: ApiCall, accept: str) -> Iterator[str]:
        """The lines of a streamed answer (the export), read as they arrive. Retried like ``request_json``
        until the answer's headers came; from then on each read is bounded by the timeout, never the whole."""
        url, headers = self._json_call(call)
        headers["Accept"] = accept

        def send() -> httpx.Response:
            return _opened(self._client, self._client.build_request(call.method, url, headers=headers))

        response = self._with_retries(send, call.what)
        try:
            yield from response.iter_lines()
        except httpx.HTTPError as exc:  # past the headers there is no retry: the lines so far were handed out
            raise broken_off(call.what, exc) from exc
        finally:
            response.close()

    def download(self, url: str, target: Path) -> int:
        """GET ``url`` into ``target`` (streamed), following redirects by hand so the API key goes to the
        API's own origin only, never to the storage host a signed URL points at. Returns the bytes written."""
        url = self._absolute(url)

        def send() -> httpx.Response:
            location = url
            for _ in range(MAX_REDIRECTS + 1):
                request = self._client.build_request(
                    "GET", location, headers=self._download_headers(location), timeout=self.upload_timeout
                )
                response = _opened(self._client, request)
                if not (response.is_redirect and "location" in response.headers):
                    if response.status_code < 400:
                        _save(response, target)
                    return response
                response.close()
                location = str(response.url.join(response.headers["location"]))
            raise TransportError(f"download of {url}: more than {MAX_REDIRECTS} redirects")

        response = self._with_retries(send, f"download of {target.name}")
        return int(response.extensions.get("robotrace_bytes", 0))

    def _with_retries(self, send: Callable[[], httpx.Response], what: str) -> httpx.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                outcome: Outcome = send()
            except httpx.HTTPError as exc:
                outcome = exc
            step = self._after_try(attempt, what, outcome)
            if isinstance(step, httpx.Response):
                return step
            self._sleep(step)


MAX_REDIRECTS = 5


def broken_off(what: str, exc: httpx.HTTPError) -> TransportError:
    """A streamed answer that stopped: a ``TimeoutError`` when no bytes came within the read timeout."""
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(f"{what}: no bytes arrived within the timeout ({exc!r})")
    return TransportError(f"{what}: the answer broke off: {exc!r}")


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)  # the port is None for the scheme's default, so :443 and no port compare equal
    return parsed.scheme, parsed.host, parsed.port


def _opened(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send with the body left unread; an error answer is read whole (its JSON body names the error)."""
    response = client.send(request, stream=True)
    if response.status_code >= 400:
        try:
            response.read()
        finally:
            response.close()
    return response


def _save(response: httpx.Response, target: Path) -> None:
    """The body into ``target``, chunk by chunk; the count is kept on the response for ``download``."""
    written = 0
    try:
        with target.open("wb") as fh:
            for chunk in response.iter_bytes(CHUNK_SIZE):
                fh.write(chunk)
                written += len(chunk)
    finally:
        response.close()
    response.extensions["robotrace_bytes"] = written


class _Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


class _Window:
    """``length`` bytes of an open file from its current position, read like a file."""

    def __init__(self, fh: IO[bytes], length: int) -> None:
        self._fh, self._left = fh, length

    def read(self, n: int) -> bytes:
        chunk = self._fh.read(min(n, self._left)) if self._left > 0 else b""
        self._left -= len(chunk)
        return chunk


def upload_what(file: UploadFile) -> str:
    return f"upload of {file.path.name}"


def _chunks(fh: _Readable, on_progress: Callable[[int], None] | None) -> Iterator[bytes]:
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
