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

import inspect
import threading
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import httpx

from . import types
from ._otel import capture_trace_context, trace_block
from ._payload import (
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
from .types import Battery, EpisodeOutcome, Imu, JointState, Pose3D, Twist

if TYPE_CHECKING:
    # typing_extensions only for type checkers (it ships with them): no runtime dependency, any Python.
    from typing_extensions import Concatenate, ParamSpec

    from .aio import AsyncClient, AsyncEpisode

    _P = ParamSpec("_P")
_R = TypeVar("_R")

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
    "TransportError",
    "Twist",
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
    "types",
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
    _replace_default(
        Client(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            verbose=verbose,
            transport=transport,
            otel_respect_sampled=otel_respect_sampled,
            link_span=link_span,
        )
    )


def close() -> None:
    """Close the default client. Safe to call twice."""
    _replace_default(None)


def _replace_default(client: Client | None) -> None:
    global _default
    with _lock:
        previous, _default = _default, client
    if previous is not None:
        previous.close()


def _client() -> Client:
    global _default
    with _lock:
        if _default is None:
            _default = Client()
        return _default


def _on_default_client(method: Callable[Concatenate[Client, _P], _R]) -> Callable[_P, _R]:
    """The module-level twin of a ``Client`` method: the same keyword arguments, docstring and signature
    (``help()``, ``inspect.signature``, type checkers), called on the default client."""

    def on_default(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return method(_client(), *args, **kwargs)

    signature = inspect.signature(method)
    on_default.__name__ = on_default.__qualname__ = method.__name__
    on_default.__doc__ = method.__doc__
    on_default.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:]  # without self
    )
    return on_default


start_episode = _on_default_client(Client.start_episode)
log_episode = _on_default_client(Client.log_episode)
