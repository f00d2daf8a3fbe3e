"""The ``Episode`` handle returned by ``start_episode`` / ``log_episode``, and the state and upload-URL
renewal it shares with ``AsyncEpisode``."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from ._deprecation import warn_deprecated
from ._errors import ConfigurationError, ServerError, URLExpiredError, url_expired_again
from ._payload import (
    ARTIFACT_KINDS,
    ArtifactKind,
    EpisodeFinalStatus,
    UploadFile,
    check_kind,
    check_upload,
    finalize_body,
)
from ._retry import url_expiring

if TYPE_CHECKING:
    from ._client import Client


logger = logging.getLogger("robotrace")

# Long enough to read in the portal, short enough to stay a reason rather than a log.
MAX_REASON_CHARS = 2000


@dataclass
class UploadUrl:
    """One signed PUT URL from the create response (or a fresh one asked for when it expired)."""

    kind: ArtifactKind
    url: str
    expires_at: str
    public_url: str | None = None


def upload_url_from(raw: object) -> UploadUrl | None:
    """The ``UploadUrl`` in one answered slot; None when it names no known kind or has no URL."""
    if not isinstance(raw, Mapping):
        return None
    kind, url, public = raw.get("kind"), raw.get("url"), raw.get("public_url")
    if kind not in ARTIFACT_KINDS or not isinstance(url, str):
        return None
    return UploadUrl(
        kind=kind,
        url=url,
        expires_at=str(raw.get("expires_at", "")),
        public_url=public if isinstance(public, str) else None,
    )


class UrlRenewal:
    """One upload's single fresh signed URL (``POST /api/ingest/episode/{id}/upload-url``): asked for before
    sending when the slot's ``expires_at`` has passed by our clock, else after the server refuses the URL as
    expired (the whole file is then sent again). The decisions only; the episode's upload asks and sends."""

    def __init__(self, slot: UploadUrl) -> None:
        self._ask = url_expiring(slot.expires_at)
        self._asked = False

    def ask_now(self) -> bool:
        """Whether to ask for a fresh URL before the next send."""
        ask, self._ask = self._ask, False
        self._asked = self._asked or ask
        return ask

    def refused(self, exc: URLExpiredError) -> None:
        """The server refused the URL as expired: ask next, or give up when this upload already asked."""
        if self._asked:
            raise url_expired_again(exc) from exc
        self._ask = True


@dataclass(eq=False)
class EpisodeState:
    """What the server said about an episode; shared by ``Episode`` and ``AsyncEpisode``.

    ``id``, ``status``, ``storage`` and ``upload_urls`` are what the official SDK exposes; ``url`` (the portal
    page), ``otel`` (the trace block that was sent, if any) and ``warnings`` (e.g. a rejected otel block) are
    ours.
    """

    id: str
    status: str
    storage: str
    upload_urls: dict[ArtifactKind, UploadUrl] = field(default_factory=dict)
    url: str = ""
    otel: dict[str, str] | None = None
    warnings: list[str] = field(default_factory=list)

    _finalized: bool = field(default=False, repr=False)
    _bytes_uploaded: int = field(default=0, repr=False)

    @property
    def finalized(self) -> bool:
        return self._finalized

    def _upload_plan(self, kind: object, path: object) -> tuple[UploadUrl, UploadFile]:
        """(slot, file) for an upload, checked before any byte is sent."""
        checked = check_kind(kind)
        slot = self.upload_urls.get(checked)
        if slot is None:
            raise ConfigurationError(
                f"episode {self.id} has no upload URL for {checked!r}: list it in "
                f"start_episode(artifacts=[...]) (storage: {self.storage})"
            )
        return slot, check_upload(checked, path)

    def _renewed(self, slot: UploadUrl, answer: Mapping[str, Any]) -> UploadUrl:
        """Keep the fresh URL answered for ``slot`` (its ``public_url`` stays when the answer has none)."""
        fresh = upload_url_from({"kind": slot.kind, **answer})
        if fresh is None or fresh.kind != slot.kind:
            raise ServerError(
                f"the fresh {slot.kind} upload URL answer has no url",
                status_code=200,
                response_body=dict(answer),
            )
        if fresh.public_url is None:
            fresh = replace(fresh, public_url=slot.public_url)
        self.upload_urls[slot.kind] = fresh
        return fresh

    def _uploaded(self, file: UploadFile) -> int:
        self._bytes_uploaded += file.size
        return file.size

    def _finalize_body(
        self,
        *,
        status: object,
        duration_s: object,
        fps: object,
        bytes_total: object,
        failure_time_s: object,
        metadata: object,
    ) -> dict[str, Any]:
        return finalize_body(
            status=status,
            duration_s=duration_s,
            fps=fps,
            bytes_total=bytes_total if bytes_total is not None else (self._bytes_uploaded or None),
            failure_time_s=failure_time_s,
            metadata=metadata,
        )

    def _log_final(self, final: dict[str, Any]) -> dict[str, Any]:
        """log_episode's finalize body: the one checked up front, plus the bytes uploaded if any were."""
        if self._bytes_uploaded:
            final["bytes_total"] = self._bytes_uploaded
        return final

    def _settle(self, answer: Mapping[str, Any], status: str) -> None:
        answered = answer.get("status")
        self.status = answered if isinstance(answered, str) else status
        self._finalized = True


def failure_reason(exc_type: type[BaseException], exc: BaseException | None) -> str:
    text = str(exc) if exc is not None else ""
    return (f"{exc_type.__name__}: {text}" if text else exc_type.__name__)[:MAX_REASON_CHARS]


def failure_metadata(reason: str) -> dict[str, str]:
    return {"failure_reason": reason[:MAX_REASON_CHARS]}


def log_not_failed(episode_id: str) -> None:
    """A failed finalize while another error propagates: logged, never raised over the caller's error."""
    logger.warning("robotrace: could not mark episode %s failed", episode_id, exc_info=True)


@dataclass(eq=False)
class Episode(EpisodeState):
    """A run opened on the server.

    As a context manager it finalizes ``ready`` on a normal exit and ``failed`` with
    ``metadata.failure_reason`` when the block raises (the exception keeps propagating).
    """

    _client: Client | None = field(default=None, repr=False)
    # Background delivery (spec/SPOOL.md): set once the spooled episode was delivered or could not be.
    spool_id: str | None = field(default=None, repr=False)
    delivery_error: str | None = field(default=None, repr=False)
    _delivered: threading.Event | None = field(default=None, repr=False)

    def wait(self, timeout: float | None = None) -> bool:
        """Background delivery: wait up to ``timeout`` s until the episode is on the server (then ``id``,
        ``url`` and ``status`` are the server's); False on timeout or when it could not be delivered
        (``delivery_error`` says why). A blocking ``log_episode``'s episode is delivered already: True."""
        if self._delivered is None:
            return True
        return self._delivered.wait(timeout) and self.delivery_error is None

    def _delivery_done(self, *, receipt: Mapping[str, Any] | None = None, error: str | None = None) -> None:
        if receipt is not None:
            self.id = str(receipt["episode_id"])
            self.url = str(receipt.get("url") or self.url)
            self.status = str(receipt.get("status") or "ready")
            self._finalized = True
        self.delivery_error = error
        if self._delivered is not None:
            self._delivered.set()

    def upload(self, kind: ArtifactKind, path: str | os.PathLike[str]) -> int:
        """Stream one file to its signed URL; returns the bytes uploaded.

        An expired URL is replaced once: before sending when its ``expires_at`` has passed, or after the
        server refuses it as expired. ``URLExpiredError`` when the fresh URL is refused too.
        """
        slot, file = self._upload_plan(kind, path)
        client = self._require_client()
        if client._upload_in_parts(self.id, file):  # from the multipart threshold on, resumable parts
            return self._uploaded(file)
        renewal = UrlRenewal(slot)
        while True:
            if renewal.ask_now():
                slot = self._renewed(slot, client._ask_upload_url(self.id, slot.kind))
            try:
                client._put_artifact(slot.url, file)
            except URLExpiredError as exc:
                renewal.refused(exc)
            else:
                return self._uploaded(file)

    # Deprecated shortcuts, as in the official 0.3.0: the same DeprecationWarning (pointing at the caller's
    # line), then the same upload as upload(kind, path).

    def upload_video(self, path: str | os.PathLike[str]) -> int:
        _shortcut_deprecated("video")
        return self.upload("video", path)

    def upload_sensors(self, path: str | os.PathLike[str]) -> int:
        _shortcut_deprecated("sensors")
        return self.upload("sensors", path)

    def upload_actions(self, path: str | os.PathLike[str]) -> int:
        _shortcut_deprecated("actions")
        return self.upload("actions", path)

    def finalize(
        self,
        *,
        status: EpisodeFinalStatus = "ready",
        duration_s: float | None = None,
        fps: float | None = None,
        bytes_total: int | None = None,
        failure_time_s: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Mark the episode ready or failed. A second call does nothing (the first one decided)."""
        if self._finalized:
            return
        body = self._finalize_body(
            status=status,
            duration_s=duration_s,
            fps=fps,
            bytes_total=bytes_total,
            failure_time_s=failure_time_s,
            metadata=metadata,
        )
        self._settle(self._require_client()._finalize_episode(self.id, body), status)

    def fail(self, reason: str, **kwargs: Any) -> None:
        """Finalize ``failed`` with ``metadata.failure_reason``."""
        self.finalize(status="failed", metadata=failure_metadata(reason), **kwargs)

    def __enter__(self) -> Episode:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if self._finalized:
            return False
        if exc_type is None:
            self.finalize(status="ready")
        else:
            self._fail_quietly(failure_reason(exc_type, exc))
        return False

    def _fail_quietly(self, reason: str) -> None:
        """Finalize failed while an error propagates, never hiding that error (it explains the run)."""
        try:
            self.fail(reason)
        except Exception:
            log_not_failed(self.id)

    def _require_client(self) -> Client:
        if self._client is None:
            raise ConfigurationError(f"episode {self.id} is not attached to a Client")
        return self._client


def _shortcut_deprecated(kind: ArtifactKind) -> None:
    """The official SDK's warning for ``Episode.upload_<kind>``, aimed at the caller of that method."""
    warn_deprecated(
        f"Episode.upload_{kind}",
        since="0.1.0a13",
        removed_in="0.3.0",
        replacement=f'Episode.upload("{kind}", path)',
        stacklevel=3,
    )
