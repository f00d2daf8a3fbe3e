"""``robotrace login`` / ``whoami`` / ``logout`` against a scripted HTTP server: every answer of the device
flow (OFFICIAL_PILLARS.md §3) the real server cannot be made to give on demand (slow down, expiry, a used
code, a 429, a dropped connection), and the credentials file they leave. The approved flow end to end
against the started server is tests/integration/test_cli.py."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from robotrace import cli
from robotrace._cli import device

Answer = tuple[int, Any]  # (status, JSON body); status 0 drops the connection


@dataclass
class Scripted:
    base_url: str = ""
    answers: dict[str, deque[Answer]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)

    def script(self, path: str, *answers: Answer) -> None:
        self.answers.setdefault(path, deque()).extend(answers)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]


@pytest.fixture
def server() -> Iterator[Scripted]:
    state = Scripted()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            state.requests.append((self.path, dict(self.headers), json.loads(raw) if raw else None))
            queue = state.answers.get(self.path)
            status, body = queue.popleft() if queue else (404, {"error": "not scripted"})
            if status == 0:
                self.connection.shutdown(2)  # a dropped connection: the client sees a transport error
                return
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The CLI's waits between polls, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(device, "_sleep", recorded.append)
    return recorded


def start_answer(base_url: str, **extra: Any) -> Answer:
    body = {
        "device_code": "dev-123",
        "user_code": "XKDF-PQ4N",
        "verification_uri": f"{base_url}/cli/auth",
        "verification_uri_complete": f"{base_url}/cli/auth?code=XKDF-PQ4N",
        "interval": 2,
        **extra,
    }
    return 200, body


APPROVED: Answer = (
    200,
    {
        "status": "approved",
        "api_key": "rt_from_device_login_0123456789",
        "client_id": "c-1",
        "user_email": "owner@example.com",
    },
)


def login(server: Scripted, *extra: str) -> int:
    return cli.cli_main(["login", "--base-url", server.base_url, "--no-browser", *extra])


def test_login_polls_at_once_then_every_interval_and_slows_down_when_told(
    server: Scripted, sleeps: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("/api/cli/auth/start", start_answer(server.base_url, interval=3))
    server.script(
        "/api/cli/auth/poll",
        (200, {"status": "pending"}),
        (200, {"status": "pending", "interval": 7}),  # slow down
        (200, {"status": "pending", "interval": 0.1}),  # never below half a second
        APPROVED,
    )
    assert login(server) == 0
    assert server.paths() == ["/api/cli/auth/start"] + ["/api/cli/auth/poll"] * 4
    assert sleeps == [3.0, 7.0, 0.5]
    start_body = server.requests[0][2]
    assert start_body["user_agent"].startswith("robotrace-python/")
    assert "hostname" in start_body
    for _, headers, _ in server.requests:
        assert headers["User-Agent"].startswith("robotrace-python/")
        assert "Authorization" not in headers
        assert "X-RoboTrace-SDK-Version" not in headers
    assert all(body == {"device_code": "dev-123"} for path, _, body in server.requests[1:])
    out = capsys.readouterr().out
    assert f"{server.base_url}/cli/auth?code=XKDF-PQ4N" in out
    assert "XKDF-PQ4N" in out
    assert "✓ Signed in as owner@example.com." in out
    assert f"Portal · {server.base_url}/portal" in out
    saved = cli.read_credentials()
    assert saved == cli.StoredCredentials(
        api_key="rt_from_device_login_0123456789",
        base_url=server.base_url,
        client_id="c-1",
        user_email="owner@example.com",
        written_at=saved.written_at if saved else None,
    )
    assert saved is not None
    assert saved.written_at


def test_login_uses_the_plain_verification_uri_and_the_default_interval(
    server: Scripted, sleeps: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    answer = start_answer(server.base_url)[1]
    del answer["verification_uri_complete"], answer["interval"]
    server.script("/api/cli/auth/start", (200, answer))
    server.script("/api/cli/auth/poll", (200, {"status": "pending"}), APPROVED)
    assert login(server) == 0
    assert sleeps == [2.0]
    assert f"  {server.base_url}/cli/auth\n" in capsys.readouterr().out


def test_a_dropped_connection_while_polling_waits_and_polls_again(
    server: Scripted, sleeps: list[float]
) -> None:
    server.script("/api/cli/auth/start", start_answer(server.base_url, interval=1))
    server.script("/api/cli/auth/poll", (0, None), APPROVED)
    assert login(server) == 0
    assert sleeps == [2.0]  # twice the interval after a transport error
    assert server.paths().count("/api/cli/auth/poll") == 2


@pytest.mark.parametrize(
    ("poll", "message"),
    [
        ((410, {"status": "expired"}), "Login window expired. Run `robotrace login` again."),
        (
            (410, {"status": "consumed"}),
            "This device login was already used. Run `robotrace login` to start over.",
        ),
        ((200, {"status": "denied"}), "Device login was refused."),
        ((429, {"error": "Too many requests"}), "Could not poll for approval: Too many requests (HTTP 429)."),
        ((500, {"error": "boom"}), "Could not poll for approval: boom (HTTP 500)."),
        ((200, {"status": "approved"}), "Server approved the login but sent no `api_key`."),
    ],
)
def test_login_ends_with_one_line_for_every_final_answer(
    server: Scripted, sleeps: list[float], capsys: pytest.CaptureFixture[str], poll: Answer, message: str
) -> None:
    server.script("/api/cli/auth/start", start_answer(server.base_url))
    server.script("/api/cli/auth/poll", poll)
    assert login(server) == 1
    err = capsys.readouterr().err
    assert f"Error: {message}" in err
    assert err.strip().count("\n") == 0
    assert cli.read_credentials() is None
    assert sleeps == []


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ((201, {"device_code": "d", "user_code": "u", "verification_uri": "v"}), "HTTP 201"),
        (
            (503, {"error": "down for maintenance"}),
            "Could not start a login session: down for maintenance (HTTP 503).",
        ),
        (
            (200, {"device_code": "d", "user_code": "u"}),
            "Server omitted `verification_uri` in the start response.",
        ),
    ],
)
def test_a_start_answer_other_than_a_complete_200_is_fatal(
    server: Scripted, capsys: pytest.CaptureFixture[str], start: Answer, message: str
) -> None:
    server.script("/api/cli/auth/start", start)
    assert login(server) == 1
    assert message in capsys.readouterr().err
    assert server.paths() == ["/api/cli/auth/start"]


def test_the_login_window_has_an_end(
    server: Scripted, sleeps: list[float], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(device, "LOGIN_TOTAL_TIMEOUT_S", 0)
    server.script("/api/cli/auth/start", start_answer(server.base_url))
    assert login(server) == 1
    assert "Login window expired before the device was authorized" in capsys.readouterr().err


def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.cli_main(["login", "--base-url", "http://127.0.0.1:9", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "Error: Could not reach http://127.0.0.1:9" in err


def test_login_needs_a_server_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.cli_main(["login", "--no-browser"]) == 1
    assert (
        "No RoboTrace server URL: pass --base-url <url> or set ROBOTRACE_BASE_URL." in capsys.readouterr().err
    )


def test_an_existing_login_is_kept_unless_forced(
    server: Scripted, sleeps: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    cli.write_credentials(
        cli.StoredCredentials(api_key="rt_old", base_url=server.base_url, user_email="a@b.c")
    )
    assert login(server) == 0
    assert "✓ Already signed in as a@b.c." in capsys.readouterr().out
    assert server.requests == []

    server.script("/api/cli/auth/start", start_answer(server.base_url))
    server.script("/api/cli/auth/poll", APPROVED)
    assert login(server, "--force") == 0
    creds = cli.read_credentials()
    assert creds is not None
    assert creds.api_key == "rt_from_device_login_0123456789"


def test_profiles_are_separate_and_the_file_is_private(server: Scripted, sleeps: list[float]) -> None:
    cli.write_credentials(cli.StoredCredentials(api_key="rt_default", base_url="http://other.example"))
    server.script("/api/cli/auth/start", start_answer(server.base_url))
    server.script("/api/cli/auth/poll", APPROVED)
    assert login(server, "--profile", "staging") == 0
    staging, default = cli.read_credentials(profile="staging"), cli.read_credentials()
    assert staging is not None
    assert staging.api_key.startswith("rt_from_device")
    assert default is not None
    assert default.api_key == "rt_default"
    path = cli.credentials_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["credentials"]  # no temporary file left


def test_whoami_reads_the_local_file_only_and_never_prints_the_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.cli_main(["whoami"]) == 1
    assert "Not logged in (profile: default)." in capsys.readouterr().err
    creds = cli.StoredCredentials(
        api_key="rt_secret_key", base_url="http://127.0.0.1:9", client_id="c-9", user_email="me@lab.org"
    )
    cli.write_credentials(creds)
    assert cli.cli_main(["whoami"]) == 0
    out = capsys.readouterr().out
    assert "User:       me@lab.org" in out
    assert "Base URL:   http://127.0.0.1:9" in out
    assert "rt_secret_key" not in out
    assert cli.cli_main(["whoami", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == {"profile", "base_url", "user_email", "client_id", "written_at", "credentials_path"}
    assert shown["credentials_path"] == str(cli.credentials_path())
    assert shown["user_email"] == "me@lab.org"


def test_logout_without_revoke_is_local(capsys: pytest.CaptureFixture[str]) -> None:
    cli.write_credentials(cli.StoredCredentials(api_key="rt_x", base_url="http://127.0.0.1:9"))
    assert cli.cli_main(["logout"]) == 0
    out = capsys.readouterr().out
    assert "✓ Removed profile 'default'" in out
    assert "still valid" in out
    assert not cli.credentials_path().exists()
    assert cli.cli_main(["logout"]) == 1
    assert "No saved credentials found for profile 'default'." in capsys.readouterr().err


@pytest.mark.parametrize(
    ("answer", "code", "shown"),
    [
        ((200, {"status": "revoked", "key_prefix": "rt_abc123"}), 0, "✓ Revoked rt_abc123 server-side."),
        ((401, {"error": "Invalid API key"}), 0, "key was already revoked or no longer authenticates"),
        ((500, {"error": "db down"}), 1, "Could not revoke API key: db down (HTTP 500)."),
    ],
)
def test_logout_revoke_sends_the_key_and_deletes_locally_whatever_the_answer(
    server: Scripted, capsys: pytest.CaptureFixture[str], answer: Answer, code: int, shown: str
) -> None:
    cli.write_credentials(cli.StoredCredentials(api_key="rt_to_revoke", base_url=server.base_url))
    server.script("/api/cli/auth/revoke", answer)
    assert cli.cli_main(["logout", "--revoke"]) == code
    captured = capsys.readouterr()
    assert shown in captured.out + captured.err
    assert server.requests[0][1]["Authorization"] == "Bearer rt_to_revoke"
    assert server.requests[0][2] is None  # no body
    assert cli.read_credentials() is None


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import robotrace

    assert cli.cli_main(["version"]) == 0
    assert capsys.readouterr().out == f"robotrace {robotrace.__version__}\n"
    with pytest.raises(SystemExit) as exited:
        cli.cli_main(["--version"])
    assert exited.value.code == 0
    with pytest.raises(SystemExit) as exited:
        cli.cli_main(["nonsense"])
    assert exited.value.code == 2


def test_the_credentials_file_is_the_typescript_clis(tmp_path: Path) -> None:
    """Written as packages/sdk-ts/src/credentials.ts writes it, read as it reads it; other keys survive."""
    path = cli.credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# RoboTrace credentials (written by `robotrace login`). Keep this file private.\n\n"
        '[default]\napi_key = "rt_ts"\nbase_url = "http://localhost:3000"\n'
        'written_at = "2026-01-01T00:00:00.000Z"\n'
        '\n["lab \\"b\\""]\napi_key = "rt_b"\nbase_url = "http://b:3000"\ncustom = "kept"\n',
        encoding="utf-8",
    )
    creds = cli.read_credentials()
    assert creds is not None
    assert (creds.api_key, creds.base_url) == ("rt_ts", "http://localhost:3000")
    cli.write_credentials(
        cli.StoredCredentials(api_key='rt_"new"\\', base_url="http://b:3000", user_email="x@y"),
        profile='lab "b"',
    )
    text = path.read_text(encoding="utf-8")
    assert text.startswith(
        "# RoboTrace credentials (written by `robotrace login`). Keep this file private.\n"
    )
    assert '\n[default]\napi_key = "rt_ts"\n' in text
    assert '\n["lab \\"b\\""]\napi_key = "rt_\\"new\\"\\\\"\n' in text
    assert 'custom = "kept"' in text
    again = cli.read_credentials(profile='lab "b"')
    assert again is not None
    assert again.api_key == 'rt_"new"\\'
    assert again.user_email == "x@y"
    # The SDK's own reader (the Client's fallback) sees the same values.
    from robotrace._credentials import read_profile

    assert read_profile(path, "default")["api_key"] == "rt_ts"


def test_a_broken_credentials_file_is_never_overwritten(
    server: Scripted, sleeps: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli.credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[default\napi_key = 'rt_precious'\n", encoding="utf-8")
    server.script("/api/cli/auth/start", start_answer(server.base_url))
    server.script("/api/cli/auth/poll", APPROVED)
    assert login(server) == 1
    assert "is not valid TOML" in capsys.readouterr().err
    assert "rt_precious" in path.read_text(encoding="utf-8")
    assert os.listdir(path.parent) == ["credentials"]
