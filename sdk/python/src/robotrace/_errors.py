"""The exception tree: the same names and constructor shape as the official ``robotrace-dev`` SDK, and the
same tree as the TypeScript SDK (spec/SDK_BEHAVIOUR.md; spec/sdk-behaviour-vectors.json maps statuses).

::

    RobotraceError
    ├── ConfigurationError          missing key/base URL, bad argument, unreadable file
    │   └── ArgumentError           (also a ValueError) an argument was rejected before any request
    ├── TransportError              network error after the last retry
    │   └── TimeoutError            (also the built-in TimeoutError) no answer / no upload progress in time
    └── APIError                    the server answered with an error status
        ├── ValidationError  400 413 422   AuthError  401   NotFoundError  404
        ├── ConflictError    409    RateLimitError    429    ServerError    5xx
        └── URLExpiredError  403    a signed upload URL expired, and so did the fresh one (``url_expired``)

Every ``APIError`` carries the server's ``message``, ``code``, ``details`` and ``request_id`` from the error
body ``{"error": msg, "code", "details", "request_id"}``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any


class RobotraceError(Exception):
    """Base class of every error this SDK raises."""


class ConfigurationError(RobotraceError):
    """The SDK is missing configuration (API key, base URL) or was given something it cannot use."""


class ArgumentError(ConfigurationError, ValueError):
    """An argument was rejected before the first request, so no episode was created."""


class TransportError(RobotraceError):
    """The request never got an answer (connection, DNS, TLS, timeout), even after retries."""


class TimeoutError(TransportError, builtins.TimeoutError):
    """No answer within the timeout (an upload: no bytes moved for the idle timeout), even after retries."""


class APIError(RobotraceError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        response_body: object | None = None,
        code: str | None = None,
        details: object | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.response_body = response_body
        self.code = code
        self.details = details
        self.request_id = request_id

    def __str__(self) -> str:
        extra = [f"HTTP {self.status_code}"]
        if self.code:
            extra.append(f"code={self.code}")
        if self.request_id:
            extra.append(f"request_id={self.request_id}")
        return f"{self.message} ({', '.join(extra)})"


class ValidationError(APIError):
    """400, 413, 422: the server rejected the request's content; ``details`` names the field."""


class AuthError(APIError):
    """401: the API key is missing, malformed or revoked."""


class NotFoundError(APIError):
    """404: no such episode in the key's project (another project's episode looks the same)."""


class ConflictError(APIError):
    """409: e.g. finalizing an already finalized episode with another status."""


class RateLimitError(APIError):
    """429: retried automatically; raised after the last attempt. ``retry_after`` is in whole seconds."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        response_body: object | None = None,
        code: str | None = None,
        details: object | None = None,
        request_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(
            message,
            status_code=status_code,
            response_body=response_body,
            code=code,
            details=details,
            request_id=request_id,
        )
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: retried automatically; raised after the last attempt."""


class URLExpiredError(APIError):
    """403, code ``url_expired``: the server refused a signed upload URL as expired.

    An upload asks for a fresh URL once (``POST /api/ingest/episode/{id}/upload-url``) and sends the file
    again, so this is raised only when the fresh URL was refused too, e.g. because the upload could not start
    within the server's ``ROBOTRACE_UPLOAD_URL_TTL_S``.
    """


_BY_STATUS: Mapping[int, type[APIError]] = {
    400: ValidationError,
    413: ValidationError,
    422: ValidationError,
    401: AuthError,
    404: NotFoundError,
    409: ConflictError,
}


def error_from_response(
    status_code: int, body: object, *, retry_after: int | None = None, what: str = ""
) -> APIError:
    """Build the typed error for an error response; ``body`` is the parsed JSON (or the raw text)."""
    fields: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    message = fields.get("error")
    if not isinstance(message, str) or not message:
        message = f"{what} failed with HTTP {status_code}".strip() if what else f"HTTP {status_code}"
    code = _str_or_none(fields.get("code"))
    request_id = _str_or_none(fields.get("request_id"))
    common: dict[str, Any] = {
        "status_code": status_code,
        "response_body": body,
        "code": code,
        "details": fields.get("details"),
        "request_id": request_id,
    }
    if status_code == 429:
        return RateLimitError(message, retry_after=retry_after, **common)
    if status_code == 403 and code == "url_expired":
        return URLExpiredError(message, **common)
    if status_code >= 500:
        return ServerError(message, **common)
    return _BY_STATUS.get(status_code, APIError)(message, **common)


def url_expired_again(refused: URLExpiredError) -> URLExpiredError:
    """The error to give up with when the fresh upload URL an upload asked for was refused as expired too."""
    return URLExpiredError(
        f"{refused.message}; refused again with the fresh upload URL the SDK asked for once",
        status_code=refused.status_code,
        response_body=refused.response_body,
        code=refused.code,
        details=refused.details,
        request_id=refused.request_id,
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
