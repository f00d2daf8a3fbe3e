"""``delivery="background"``: the settings, and turning a checked ``log_episode`` call into a spool record."""

from __future__ import annotations

import os
import threading
import uuid
from typing import TYPE_CHECKING, Any

from ._core import encode
from ._episode import Episode
from ._errors import ConfigurationError
from ._payload import UploadFile
from ._spool_store import Record, SpoolFile, SpoolStore, new_record_id, spool_root, utc_now
from ._spool_worker import SpoolWorker
from ._version import __version__

if TYPE_CHECKING:
    from ._client import Client

ENV_DELIVERY = "ROBOTRACE_DELIVERY"
DELIVERY_MODES = ("blocking", "background")
DEFAULT_FLUSH_TIMEOUT_S = 5.0
CREATED_BY = f"robotrace-python/{__version__}"


def delivery_mode(value: object) -> str:
    """``delivery=``, else ``$ROBOTRACE_DELIVERY``, else ``blocking`` (the official SDK's behaviour)."""
    chosen = value if value is not None else (os.environ.get(ENV_DELIVERY, "").strip().lower() or "blocking")
    if chosen not in DELIVERY_MODES:
        raise ConfigurationError(f"delivery must be 'blocking' or 'background'; got {chosen!r}")
    return str(chosen)


def checked_flush_timeout(value: object) -> float:
    if value is None:
        return DEFAULT_FLUSH_TIMEOUT_S
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigurationError(f"flush_timeout must be a number of seconds >= 0; got {value!r}")
    return float(value)


def start_worker(
    client: Client, spool_dir: str | os.PathLike[str] | None, flush_timeout: object
) -> SpoolWorker:
    """The worker resumes what an earlier process left in the spool at once."""
    return SpoolWorker(client, SpoolStore(spool_root(spool_dir)), checked_flush_timeout(flush_timeout))


def spool_episode(
    client: Client,
    worker: SpoolWorker,
    files: list[UploadFile],
    final: dict[str, Any],
    body: dict[str, Any],
) -> Episode:
    """Spool a checked call and return its Episode at once: ``id`` and ``url`` fill in once delivered.

    The trace block is the span active now (captured into the create body); no span back-link is set, as the
    span has usually ended by the time the episode reaches the server.
    """
    call, otel, _span = client._create_call(body)
    if files:
        final = {**final, "bytes_total": sum(f.size for f in files)}
    assert call.body is not None
    record = Record(
        id=new_record_id(),
        created_at=utc_now(),
        create_key=str(uuid.uuid4()),
        create_body=call.body.decode(),
        finalize_key=str(uuid.uuid4()),
        finalize_body=encode(final).decode(),
        files=tuple(SpoolFile(f.kind, f.path.name, f.size, str(f.path.resolve())) for f in files),
    )
    episode = Episode(
        id="",
        status="spooled",
        storage="spool",
        otel=otel,
        spool_id=record.id,
        _client=client,
        _delivered=threading.Event(),
    )
    worker.submit(record, episode, CREATED_BY)
    return episode
