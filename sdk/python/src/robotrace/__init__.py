"""RoboTrace: log robot episodes, with the OpenTelemetry trace they ran in.

::

    import robotrace as rt

    rt.log_episode(name="pick v3", policy_version="pap-v3.2.1", seed=7, video="run.mp4")

    with rt.start_episode(name="pick v3", artifacts=["video"]) as ep:
        ep.upload("video", "run.mp4")  # finalized ready on exit, failed (with the reason) on an exception

    with rt.Client(api_key="rt_...", base_url="http://localhost:3000") as client:
        client.log_episode(...)

The module-level functions use a default ``Client`` built on first use from ``rt.init(...)`` or the
environment (``ROBOTRACE_API_KEY``, ``ROBOTRACE_BASE_URL``) or ``~/.robotrace/credentials``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

# The public submodules stay attributes of the package, as when they held the code (``robotrace.errors.X``).
from . import client, episode, errors, evals, types, verify  # noqa: F401
from ._client import Client
from ._default import close, delete_episode, export_episodes, flush, init, log_episode, start_episode
from ._episode import Episode, UploadUrl
from ._errors import (
    APIError,
    ArgumentError,
    AuthError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RobotraceError,
    ServerError,
    TimeoutError,
    TransportError,
    URLExpiredError,
    ValidationError,
)
from ._otel import capture_trace_context, trace_block
from ._payload import (
    ArtifactKind,
    EpisodeFinalStatus,
    EpisodeSource,
    kind_from_extension,
)
from ._settings import ENV_API_KEY, ENV_BASE_URL
from ._types import Battery, EpisodeOutcome, Imu, JointState, Pose3D, Twist
from ._version import __version__

if TYPE_CHECKING:
    from ._aio import AsyncClient, AsyncEpisode

__all__ = [
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "APIError",
    "ArgumentError",
    "ArtifactKind",
    "AsyncClient",
    "AsyncEpisode",
    "AuthError",
    "Battery",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "Episode",
    "EpisodeFinalStatus",
    "EpisodeOutcome",
    "EpisodeSource",
    "Imu",
    "JointState",
    "NotFoundError",
    "Pose3D",
    "RateLimitError",
    "RobotraceError",
    "ServerError",
    "TimeoutError",
    "TransportError",
    "Twist",
    "URLExpiredError",
    "UploadUrl",
    "ValidationError",
    "__version__",
    "capture_trace_context",
    "close",
    "delete_episode",
    "evals",
    "export_episodes",
    "flush",
    "init",
    "kind_from_extension",
    "log_episode",
    "start_episode",
    "trace_block",
    "types",
    "verify",
]


def __getattr__(name: str) -> Any:
    # The asyncio client loads on first use, so sync users never pay for importing asyncio.
    if name in ("AsyncClient", "AsyncEpisode"):
        from . import _aio  # noqa: PLC0415 - deliberately lazy

        value = getattr(_aio, name)
        value.__module__ = __name__
        return value
    raise AttributeError(f"module 'robotrace' has no attribute {name!r}")


# Like httpx: tracebacks and reprs say robotrace.Episode, not robotrace._episode.Episode.
for __name in __all__:
    __value = globals().get(__name)
    if inspect.isclass(__value) or inspect.isfunction(__value):
        __value.__module__ = __name__
del __name, __value
