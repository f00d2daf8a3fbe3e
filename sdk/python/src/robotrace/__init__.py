"""RoboTrace: log robot episodes, with the OpenTelemetry trace they ran in.

::

    import robotrace as rt

    rt.log_episode(name="pick v3", policy_version="pap-v3.2.1", seed=7, video="run.mp4")

    with rt.start_episode(name="pick v3", artifacts=["video"]) as ep:
        ep.upload_video("run.mp4")     # finalized ready on exit, failed (with the reason) on an exception

    with rt.Client(api_key="rt_...", base_url="http://localhost:3000") as client:
        client.log_episode(...)

The module-level functions use a default ``Client`` built on first use from ``rt.init(...)`` or the
environment (``ROBOTRACE_API_KEY``, ``ROBOTRACE_BASE_URL``) or ``~/.robotrace/credentials``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from ._otel import capture_trace_context, trace_block
from ._payload import (
    ARTIFACT_KINDS,
    ArtifactKind,
    EpisodeFinalStatus,
    EpisodeSource,
    kind_from_extension,
)
from ._settings import ENV_API_KEY, ENV_BASE_URL
from ._version import __version__
from .client import Client
from .episode import Episode, UploadUrl
from .errors import (
    APIError,
    ArgumentError,
    AuthError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RobotraceError,
    ServerError,
    TransportError,
    URLExpiredError,
    ValidationError,
)

if TYPE_CHECKING:
    from .aio import AsyncClient, AsyncEpisode

__all__ = [
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "APIError",
    "ArgumentError",
    "ArtifactKind",
    "AsyncClient",
    "AsyncEpisode",
    "AuthError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "Episode",
    "EpisodeFinalStatus",
    "EpisodeSource",
    "NotFoundError",
    "RateLimitError",
    "RobotraceError",
    "ServerError",
    "TransportError",
    "URLExpiredError",
    "UploadUrl",
    "ValidationError",
    "__version__",
    "capture_trace_context",
    "close",
    "init",
    "kind_from_extension",
    "log_episode",
    "start_episode",
    "trace_block",
]


def __getattr__(name: str) -> Any:
    # The asyncio client loads on first use, so sync users never pay for importing asyncio.
    if name in ("AsyncClient", "AsyncEpisode"):
        from . import aio  # noqa: PLC0415 - deliberately lazy

        return getattr(aio, name)
    raise AttributeError(f"module 'robotrace' has no attribute {name!r}")


_lock = threading.Lock()
_default: Client | None = None


def init(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float | httpx.Timeout | None = None,
    verbose: bool | None = None,
    otel_respect_sampled: bool | None = None,
    link_span: bool | None = None,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Configure the default client (closing the previous one). Arguments as for ``Client``."""
    global _default
    client = Client(
        api_key=api_key,
        base_url=base_url,
        timeout=timeout,
        verbose=verbose,
        transport=transport,
        otel_respect_sampled=otel_respect_sampled,
        link_span=link_span,
    )
    with _lock:
        previous, _default = _default, client
    if previous is not None:
        previous.close()


def close() -> None:
    """Close the default client. Safe to call twice."""
    global _default
    with _lock:
        previous, _default = _default, None
    if previous is not None:
        previous.close()


def _client() -> Client:
    global _default
    with _lock:
        if _default is None:
            _default = Client()
        return _default


def start_episode(
    *,
    name: str | None = None,
    source: EpisodeSource = "real",
    robot: str | None = None,
    policy_version: str | None = None,
    env_version: str | None = None,
    git_sha: str | None = None,
    seed: int | None = None,
    fps: float | None = None,
    metadata: Mapping[str, Any] | None = None,
    artifacts: Sequence[ArtifactKind] = ARTIFACT_KINDS,
) -> Episode:
    """See ``Client.start_episode``."""
    return _client().start_episode(
        name=name,
        source=source,
        robot=robot,
        policy_version=policy_version,
        env_version=env_version,
        git_sha=git_sha,
        seed=seed,
        fps=fps,
        metadata=metadata,
        artifacts=artifacts,
    )


def log_episode(
    *,
    name: str | None = None,
    source: EpisodeSource = "real",
    robot: str | None = None,
    policy_version: str | None = None,
    env_version: str | None = None,
    git_sha: str | None = None,
    seed: int | None = None,
    video: str | os.PathLike[str] | None = None,
    sensors: str | os.PathLike[str] | None = None,
    actions: str | os.PathLike[str] | None = None,
    duration_s: float | None = None,
    fps: float | None = None,
    metadata: Mapping[str, Any] | None = None,
    status: EpisodeFinalStatus = "ready",
    failure_time_s: float | None = None,
) -> Episode:
    """See ``Client.log_episode``."""
    return _client().log_episode(
        name=name,
        source=source,
        robot=robot,
        policy_version=policy_version,
        env_version=env_version,
        git_sha=git_sha,
        seed=seed,
        video=video,
        sensors=sensors,
        actions=actions,
        duration_s=duration_s,
        fps=fps,
        metadata=metadata,
        status=status,
        failure_time_s=failure_time_s,
    )
