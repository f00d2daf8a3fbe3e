"""The default client behind the module-level ``init``, ``close``, ``log_episode``, ``start_episode``,
``delete_episode`` and ``export_episodes``."""

from __future__ import annotations

import inspect
import os
import threading
from typing import TYPE_CHECKING, Callable, Literal, TypeVar

import httpx

from ._client import Client

if TYPE_CHECKING:
    # typing_extensions only for type checkers (it ships with them): no runtime dependency, any Python.
    from typing_extensions import Concatenate, ParamSpec

    _P = ParamSpec("_P")
_R = TypeVar("_R")

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
    max_retries: int | None = None,
    upload_timeout: float | None = None,
    delivery: Literal["blocking", "background"] | None = None,
    spool_dir: str | os.PathLike[str] | None = None,
    flush_timeout: float | None = None,
    multipart_threshold: int | None = None,
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
            max_retries=max_retries,
            upload_timeout=upload_timeout,
            delivery=delivery,
            spool_dir=spool_dir,
            flush_timeout=flush_timeout,
            multipart_threshold=multipart_threshold,
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
flush = _on_default_client(Client.flush)
log_episode = _on_default_client(Client.log_episode)
delete_episode = _on_default_client(Client.delete_episode)
export_episodes = _on_default_client(Client.export_episodes)
