"""The device login of ``robotrace login`` and the key revocation of ``robotrace logout --revoke``
(spec: OFFICIAL_PILLARS.md §3). Plain POSTs with the CLI's User-Agent, no SDK headers, no retries beyond
what the flow itself says: a transport error while polling waits and polls again; any answer the flow does
not know ends the login with a one-line reason.
"""

from __future__ import annotations

import platform
import socket
import time
from typing import Any

import httpx

from .._errors import RobotraceError
from .._version import __version__
from . import term

# How long `login` waits for the browser approval (the server's code lives as long).
LOGIN_TOTAL_TIMEOUT_S = 600
# The poll interval when the server names none; never below MIN_POLL_INTERVAL_S.
DEFAULT_POLL_INTERVAL_S = 2.0
MIN_POLL_INTERVAL_S = 0.5
# `logout --revoke` never hangs a shell on a slow server.
LOGOUT_REVOKE_TIMEOUT_S = 15.0

_TIMEOUT = httpx.Timeout(connect=10.0, read=15.0, write=10.0, pool=10.0)
# The waits between polls (tests record them instead of waiting).
_sleep = time.sleep


class CliError(RobotraceError):
    """A CLI step failed; the message is the one line printed after ``Error:``."""


def user_agent() -> str:
    system, machine = platform.system().lower(), platform.machine().lower()
    return f"robotrace-python/{__version__} cpython/{platform.python_version()} {system}/{machine}"


def hostname() -> str | None:
    try:
        return socket.gethostname() or None
    except OSError:
        return None


def _post(
    url: str, *, json: Any = None, headers: dict[str, str] | None = None, timeout: Any = _TIMEOUT
) -> Any:
    return httpx.post(
        url, json=json, headers={"User-Agent": user_agent(), **(headers or {})}, timeout=timeout
    )


def describe_http_error(response: httpx.Response, intent: str) -> str:
    """``Could not <intent>: <server's error> (HTTP n).`` or the status with the start of the body."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return f"Could not {intent}: {data['error']} (HTTP {response.status_code})."
    body = " ".join((response.text or "").split())
    if len(body) > 240:
        body = body[:240] + "…"
    return f"Could not {intent}: HTTP {response.status_code}" + (f" - {body}" if body else ".")


def start_session(base_url: str) -> dict[str, Any]:
    """``POST /api/cli/auth/start``: exactly a 200 with ``device_code``, ``user_code`` and
    ``verification_uri``."""
    try:
        response = _post(
            f"{base_url}/api/cli/auth/start", json={"user_agent": user_agent(), "hostname": hostname()}
        )
    except httpx.HTTPError as exc:
        raise CliError(f"Could not reach {base_url}: {exc}. Is the deployment URL correct?") from exc
    if response.status_code != 200:
        raise CliError(describe_http_error(response, "start a login session"))
    try:
        data = response.json()
    except ValueError as exc:
        raise CliError("Server returned a malformed response to /api/cli/auth/start.") from exc
    if not isinstance(data, dict):
        raise CliError("Server returned a malformed response to /api/cli/auth/start.")
    for key in ("device_code", "user_code", "verification_uri"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CliError(f"Server omitted `{key}` in the start response.")
    return data


def poll_interval(value: object, current: float) -> float:
    """The server's ``interval`` (seconds, at least MIN_POLL_INTERVAL_S), else ``current``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return max(MIN_POLL_INTERVAL_S, float(value))
    return current


def poll_until_resolved(base_url: str, device_code: str, interval_s: float) -> dict[str, Any]:
    """Poll at once, then every ``interval`` until approved (returns the answer), denied, expired, consumed,
    any other answer, or LOGIN_TOTAL_TIMEOUT_S (raises CliError)."""
    deadline = time.monotonic() + LOGIN_TOTAL_TIMEOUT_S
    interval = max(MIN_POLL_INTERVAL_S, interval_s)
    spinner = "|/-\\"
    ticks = 0
    while True:
        if time.monotonic() >= deadline:
            raise CliError(
                "Login window expired before the device was authorized. Run `robotrace login` again."
            )
        try:
            response = _post(f"{base_url}/api/cli/auth/poll", json={"device_code": device_code})
        except httpx.HTTPError:
            _sleep(min(interval * 2, 5.0))  # a network blip: wait, then ask again
            continue
        data = _json_object(response)
        if response.status_code == 200 and data is not None:
            status = data.get("status")
            if status == "approved":
                if not isinstance(data.get("api_key"), str) or not data["api_key"]:
                    raise CliError("Server approved the login but sent no `api_key`.")
                term.status_line("")
                return data
            if status == "denied":
                raise CliError("Device login was refused. Run `robotrace login` again if you want to retry.")
            if status != "pending":
                raise CliError(f"Server answered the login poll with an unknown status {status!r}.")
            interval = poll_interval(data.get("interval"), interval)
        elif response.status_code == 410:
            status = data.get("status") if data is not None else None
            if status == "expired":
                raise CliError("Login window expired. Run `robotrace login` again.")
            if status == "consumed":
                raise CliError("This device login was already used. Run `robotrace login` to start over.")
            raise CliError(describe_http_error(response, "poll for approval"))
        else:
            raise CliError(describe_http_error(response, "poll for approval"))
        term.status_line(term.dim(f"{spinner[ticks % 4]} Waiting - authorize this device in the browser…"))
        ticks += 1
        _sleep(interval)


def revoke_key(api_key: str, base_url: str) -> tuple[bool, str | None, str | None]:
    """``POST /api/cli/auth/revoke`` with the key: (revoked, the key's public prefix, a note or the error).
    A 401 counts as revoked already."""
    try:
        response = _post(
            f"{base_url}/api/cli/auth/revoke",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(connect=10.0, read=LOGOUT_REVOKE_TIMEOUT_S, write=10.0, pool=10.0),
        )
    except httpx.HTTPError as exc:
        return False, None, f"could not reach {base_url}: {exc}"
    if response.status_code == 200:
        data = _json_object(response) or {}
        prefix = data.get("key_prefix")
        return True, prefix if isinstance(prefix, str) and prefix else None, None
    if response.status_code == 401:
        return True, None, "key was already revoked or no longer authenticates"
    return False, None, describe_http_error(response, "revoke API key")


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
