"""Code written for the official robotrace-dev 0.3.0 runs against this SDK: its public names, keyword
arguments and defaults (facts read from the 0.3.0 wheel) all exist here."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable

import pytest

import robotrace as rt

OFFICIAL_EXPORTS = [
    "Client", "Episode", "UploadUrl", "ArtifactKind", "EpisodeSource", "EpisodeFinalStatus",
    "RobotraceError", "ConfigurationError", "TransportError", "APIError", "AuthError", "NotFoundError",
    "ConflictError", "ValidationError", "RateLimitError", "ServerError",
    "init", "close", "start_episode", "log_episode", "ENV_API_KEY", "ENV_BASE_URL", "__version__",
]  # fmt: skip
START_EPISODE = [
    "name", "source", "robot", "policy_version", "env_version", "git_sha", "seed", "fps", "metadata",
    "artifacts",
]  # fmt: skip
LOG_EPISODE = [
    "name", "source", "robot", "policy_version", "env_version", "git_sha", "seed", "video", "sensors",
    "actions", "duration_s", "fps", "metadata", "status",
]  # fmt: skip
SIGNATURES: list[tuple[Callable[..., Any], list[str]]] = [
    (rt.init, ["api_key", "base_url", "timeout"]),
    (rt.Client.__init__, ["api_key", "base_url", "timeout", "verbose", "transport"]),
    (rt.start_episode, START_EPISODE),
    (rt.Client.start_episode, START_EPISODE),
    (rt.log_episode, LOG_EPISODE),
    (rt.Client.log_episode, [*LOG_EPISODE, "failure_time_s"]),
    (rt.Episode.finalize, ["status", "duration_s", "fps", "bytes_total", "failure_time_s", "metadata"]),
]


def test_official_names_are_exported() -> None:
    assert [name for name in OFFICIAL_EXPORTS if not hasattr(rt, name)] == []
    assert rt.ENV_API_KEY == "ROBOTRACE_API_KEY"
    assert rt.ENV_BASE_URL == "ROBOTRACE_BASE_URL"


@pytest.mark.parametrize(("func", "names"), SIGNATURES, ids=lambda v: getattr(v, "__qualname__", ""))
def test_official_keyword_arguments_are_accepted(func: Callable[..., Any], names: list[str]) -> None:
    params = inspect.signature(func).parameters
    missing = [n for n in names if n not in params]
    assert missing == []
    positional = [n for n in names if params[n].kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == []


def test_official_defaults() -> None:
    log = inspect.signature(rt.Client.log_episode).parameters
    start = inspect.signature(rt.Client.start_episode).parameters
    assert log["source"].default == "real"
    assert log["status"].default == "ready"
    assert tuple(start["artifacts"].default) == ("video", "sensors", "actions")


def test_episode_and_upload_url_fields() -> None:
    assert [f.name for f in dataclasses.fields(rt.Episode)][:4] == ["id", "status", "storage", "upload_urls"]
    assert [f.name for f in dataclasses.fields(rt.UploadUrl)] == ["kind", "url", "expires_at", "public_url"]
    assert list(inspect.signature(rt.Episode.upload).parameters) == ["self", "kind", "path"]


def test_official_module_paths_still_import() -> None:
    from robotrace._otel import capture_trace_context
    from robotrace.client import Client
    from robotrace.episode import Episode, kind_from_extension
    from robotrace.errors import AuthError

    assert (Client, Episode, AuthError) == (rt.Client, rt.Episode, rt.AuthError)
    assert kind_from_extension("run.MOV") == "video"
    assert capture_trace_context() is None
