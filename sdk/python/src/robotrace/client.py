"""``Client``: one deployment, one connection pool; safe to share between threads."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx

from . import _otel
from ._http import HttpSession, dumps
from ._payload import (
    ARTIFACT_KINDS,
    ArtifactKind,
    EpisodeFinalStatus,
    EpisodeSource,
    check_files,
    create_body,
    finalize_body,
)
from ._progress import progress_for
from ._settings import env_flag, quiet, resolve_connection
from .episode import Episode, UploadUrl, upload_all
from .errors import ArgumentError, ServerError

_C = TypeVar("_C", bound="Client")


class Client:
    """An explicit handle on one RoboTrace deployment.

    ``api_key`` and ``base_url`` default to ``ROBOTRACE_API_KEY`` / ``ROBOTRACE_BASE_URL``, then to the
    credentials file. ``verbose`` (print the portal link after a create) defaults to "stdout is a terminal
    and ``ROBOTRACE_QUIET`` is not set". ``transport`` is any ``httpx`` transport (tests, proxies).
    ``otel_respect_sampled`` / ``link_span`` default to ``ROBOTRACE_OTEL_RESPECT_SAMPLED`` /
    ``ROBOTRACE_OTEL_LINK_SPAN``.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        verbose: bool | None = None,
        transport: httpx.BaseTransport | None = None,
        otel_respect_sampled: bool | None = None,
        link_span: bool | None = None,
    ) -> None:
        conn = resolve_connection(api_key, base_url)
        self._session = HttpSession(
            api_key=conn.api_key, base_url=conn.base_url, timeout=timeout, transport=transport
        )
        self._quiet = quiet()
        self._verbose = (not self._quiet and _isatty(sys.stdout)) if verbose is None else verbose
        self._respect_sampled = (
            env_flag(_otel.ENV_RESPECT_SAMPLED) if otel_respect_sampled is None else otel_respect_sampled
        )
        self._link_span = env_flag(_otel.ENV_LINK_SPAN) if link_span is None else link_span

    @property
    def base_url(self) -> str:
        return self._session.base_url

    def close(self) -> None:
        """Release the connection pool. Safe to call twice."""
        self._session.close()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self.close()
        return False

    def start_episode(
        self,
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
        """Create an episode (status ``recording``) with upload URLs for ``artifacts``.

        The otel block is the span active now; finalizing later, under another span, does not change it.
        """
        body = create_body(
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
        return self._create(body)

    def log_episode(
        self,
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
        """Create the episode, upload the given files, finalize it; returns the finalized ``Episode``.

        If an upload fails, the episode is finalized ``failed`` with the reason and the error is raised.
        """
        files = check_files({"video": video, "sensors": sensors, "actions": actions})
        final = finalize_body(status=status, duration_s=duration_s, failure_time_s=failure_time_s)
        body = create_body(
            name=name,
            source=source,
            robot=robot,
            policy_version=policy_version,
            env_version=env_version,
            git_sha=git_sha,
            seed=seed,
            fps=fps,
            metadata=metadata,
            artifacts=list(files),
        )
        episode = self._create(body)
        upload_all(episode, files)
        if episode._bytes_uploaded:
            final["bytes_total"] = episode._bytes_uploaded
        answer = self._finalize_episode(episode.id, final)
        answered = answer.get("status")
        episode.status = answered if isinstance(answered, str) else status
        episode._finalized = True
        return episode

    def get_episode(self, episode_id: str) -> dict[str, Any]:
        """The stored episode as JSON (``GET /api/episodes/{id}``)."""
        return self._session.request_json("GET", f"/api/episodes/{episode_id}")

    # Internals used by Episode.

    def _create(self, body: dict[str, Any]) -> Episode:
        span = self._attach_otel(body)
        try:
            payload = dumps(body)
        except (TypeError, ValueError) as exc:
            raise ArgumentError(f"metadata must be JSON-serializable: {exc}") from exc
        answer = self._session.request_json(
            "POST", "/api/ingest/episode", body=payload, idempotent_write=True
        )
        episode = self._episode_from(answer, body.get("otel"))
        if self._verbose:
            _print_link(self.base_url, episode.id)
        if span is not None:
            _otel.link_span(span, episode.id, episode.url)
        return episode

    def _attach_otel(self, body: dict[str, Any]) -> Any:
        """Put the otel block into ``body``; return the span to back-link, if linking is on."""
        metadata = body.get("metadata")
        explicit, value = _otel.explicit_block(metadata)
        if explicit:
            if value is None and metadata is not None:
                # metadata={"otel": None} means "no block": send no otel key at all.
                body["metadata"] = {k: v for k, v in metadata.items() if k != "otel"}
            return None
        block, span = _otel.capture_active(self._respect_sampled)
        if block is None:
            return None
        body["otel"] = block
        return span if self._link_span else None

    def _episode_from(self, answer: Mapping[str, Any], otel: Any) -> Episode:
        episode_id = answer.get("episode_id")
        if not isinstance(episode_id, str) or not episode_id:
            raise ServerError(
                "the create answer has no episode_id", status_code=201, response_body=dict(answer)
            )
        slots: dict[ArtifactKind, UploadUrl] = {}
        for raw in answer.get("upload_urls") or []:
            kind = raw.get("kind") if isinstance(raw, dict) else None
            if kind in ARTIFACT_KINDS and isinstance(raw.get("url"), str):
                public = raw.get("public_url")
                slots[kind] = UploadUrl(
                    kind=kind,
                    url=raw["url"],
                    expires_at=str(raw.get("expires_at", "")),
                    public_url=public if isinstance(public, str) else None,
                )
        portal_url = answer.get("portal_url")
        warnings = answer.get("warnings")
        return Episode(
            id=episode_id,
            status=str(answer.get("status", "recording")),
            storage=str(answer.get("storage", "unconfigured")),
            upload_urls=slots,
            url=portal_url
            if isinstance(portal_url, str) and portal_url
            else _portal_link(self.base_url, episode_id),
            otel=otel,
            warnings=[str(w) for w in warnings] if isinstance(warnings, list) else [],
            _client=self,
        )

    def _put_artifact(self, url: str, path: Path, size: int, content_type: str, *, label: str) -> None:
        self._session.put_file(
            url,
            path,
            size=size,
            content_type=content_type,
            on_progress=progress_for(label, size, self._quiet),
        )

    def _finalize_episode(self, episode_id: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            payload = dumps(body)
        except (TypeError, ValueError) as exc:
            raise ArgumentError(f"metadata must be JSON-serializable: {exc}") from exc
        return self._session.request_json(
            "POST", f"/api/ingest/episode/{episode_id}/finalize", body=payload, idempotent_write=True
        )


def _portal_link(base_url: str, episode_id: str) -> str:
    return f"{base_url}/portal/episodes/{episode_id}"


def _print_link(base_url: str, episode_id: str) -> None:
    try:
        sys.stdout.write(f"[robotrace] \u2192 {_portal_link(base_url, episode_id)}\n")
        sys.stdout.flush()
    except (OSError, ValueError):  # a closed stdout must not fail the run
        pass


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
