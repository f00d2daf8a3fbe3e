"""``Client``: one deployment, one connection pool; safe to share between threads."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx

from ._background import delivery_mode, spool_episode, start_worker
from ._core import (
    ClientCore,
    checked_upload_timeout,
    finalize_call,
    get_call,
    log_episode_plan,
    retry_policy,
    upload_failure,
    upload_url_call,
)
from ._episode import Episode
from ._errors import NotFoundError
from ._http import HttpSession
from ._lifecycle import NDJSON, delete_call, export_call, parse_lines, save_artifact
from ._multipart import multipart_threshold as multipart_threshold_of
from ._multipart import upload_in_parts
from ._payload import (
    ARTIFACT_KINDS,
    ArtifactKind,
    EpisodeFinalStatus,
    EpisodeSource,
    UploadFile,
    create_body,
    started_now_ns,
)
from ._progress import progress_for
from ._spool_worker import SpoolWorker

_C = TypeVar("_C", bound="Client")


class Client(ClientCore):
    """An explicit handle on one RoboTrace deployment.

    ``api_key`` and ``base_url`` default to ``ROBOTRACE_API_KEY`` / ``ROBOTRACE_BASE_URL``, then to the
    credentials file. ``verbose`` (print the portal link after a create) defaults to "stdout is a terminal
    and ``ROBOTRACE_QUIET`` is not set". ``transport`` is any ``httpx`` transport (tests, proxies).
    ``otel_respect_sampled`` / ``link_span`` default to ``ROBOTRACE_OTEL_RESPECT_SAMPLED`` /
    ``ROBOTRACE_OTEL_LINK_SPAN``. ``max_retries`` (default 3) is how often each call is retried after its
    first attempt (0: never). ``upload_timeout`` (seconds, default 120) is an idle timeout: an upload fails
    when no bytes moved for that long, however long the whole transfer takes.

    ``delivery="background"`` (default ``ROBOTRACE_DELIVERY``, else ``"blocking"``): ``log_episode`` writes
    the episode to a durable spool (``spool_dir``, default ``ROBOTRACE_SPOOL_DIR`` or
    ``~/.robotrace/spool``) and returns at once; a worker thread delivers it (``Episode.wait``, ``flush``).
    At exit and on ``close`` it flushes for at most ``flush_timeout`` seconds (default 5); the rest is
    delivered by the next process.
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
        max_retries: int | None = None,
        upload_timeout: float | None = None,
        delivery: Literal["blocking", "background"] | None = None,
        spool_dir: str | os.PathLike[str] | None = None,
        flush_timeout: float | None = None,
        multipart_threshold: int | None = None,
    ) -> None:
        super().__init__(api_key, base_url, verbose, otel_respect_sampled, link_span)
        background = delivery_mode(delivery) == "background"
        # Background delivery sends files from this size on in resumable parts (default 128 MiB).
        self._multipart_threshold = multipart_threshold_of(multipart_threshold)
        self._session = HttpSession(
            api_key=self._conn.api_key,
            base_url=self._conn.base_url,
            timeout=timeout,
            transport=transport,
            policy=retry_policy(max_retries),
            upload_timeout=checked_upload_timeout(upload_timeout),
        )
        self._worker: SpoolWorker | None = (
            start_worker(self, spool_dir, flush_timeout) if background else None
        )

    def close(self) -> None:
        """Release the connection pool (background delivery: after flushing for at most ``flush_timeout``
        seconds). Safe to call twice."""
        if self._worker is not None:
            self._worker.close(self._worker.flush_timeout)
        self._session.close()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Background delivery: deliver what is spooled now, waiting at most ``timeout`` seconds (None: until
        done). True when nothing is left waiting. Never raises for a delivery problem. Blocking: True."""
        return True if self._worker is None else self._worker.flush(timeout)

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
            started_at_unix_ns=started_now_ns(),
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
        With ``delivery="background"`` it returns once the episode is spooled (its ``id`` and ``url`` fill
        in when delivered: ``Episode.wait``) and never raises for a delivery problem; arguments are still
        checked.
        """
        files, final, body = log_episode_plan(
            {"video": video, "sensors": sensors, "actions": actions},
            status,
            duration_s,
            failure_time_s,
            {
                "name": name,
                "source": source,
                "robot": robot,
                "policy_version": policy_version,
                "env_version": env_version,
                "git_sha": git_sha,
                "seed": seed,
                "fps": fps,
                "metadata": metadata,
            },
        )
        if self._worker is not None:
            return spool_episode(self, self._worker, files, final, body)
        episode = self._create(body)
        for file in files:
            try:
                episode.upload(file.kind, file.path)
            except BaseException as exc:
                episode._fail_quietly(upload_failure(file.kind, exc))
                raise
        episode._settle(self._finalize_episode(episode.id, episode._log_final(final)), status)
        return episode

    def get_episode(self, episode_id: str) -> dict[str, Any]:
        """The stored episode as JSON (``GET /api/episodes/{id}``)."""
        return self._session.request_json(get_call(episode_id))

    def delete_episode(self, episode_id: str, *, unlink_references: bool = False) -> dict[str, Any]:
        """Delete an episode with its artifacts in storage, track index and insights
        (``DELETE /api/episodes/{id}``); returns what went (``artifacts_deleted``, ``bytes_freed``, ...).

        An episode an eval run or a verification scenario references raises ``ConflictError`` (code
        ``episode_referenced``, ``details`` = ``{"eval_runs": [...], "scenarios": [...]}``) unless
        ``unlink_references`` removes those links too. An unknown or already deleted id: ``NotFoundError``.
        """
        return self._session.request_json(delete_call(episode_id, unlink_references))

    def export_episodes(
        self,
        *,
        status: str | None = None,
        source: str | None = None,
        q: str | None = None,
        policy_version: str | None = None,
        robot: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
        created_after: str | datetime | None = None,
        created_before: str | datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching episode (the filters of the list, without paging), streamed from
        ``GET /api/episodes/export`` one at a time: every field, and ``artifacts`` with each file's absolute
        download URL (``download_artifact`` fetches one)."""
        call = export_call(
            {
                "status": status,
                "source": source,
                "q": q,
                "policy_version": policy_version,
                "robot": robot,
                "trace_id": trace_id,
                "span_id": span_id,
                "created_after": created_after,
                "created_before": created_before,
            }
        )
        return iter(parse_lines(self._session.stream_lines(call, NDJSON), call.what))

    def download_artifact(
        self, episode_id: str, artifact: Mapping[str, Any], directory: str | os.PathLike[str]
    ) -> Path:
        """Download one artifact of an exported episode to ``<directory>/<episode_id>/<kind><ext>`` (the
        extension from its content type or first bytes); returns the path. The API key goes to this server's
        origin only."""
        return save_artifact(self._session.download, artifact, episode_id, Path(directory))

    # Internals used by Episode.

    def _create(self, body: dict[str, Any]) -> Episode:
        call, otel, span = self._create_call(body)
        answer = self._session.request_json(call)
        episode = Episode(**self._episode_fields(answer, otel), _client=self)
        self._announce(episode, span)
        return episode

    def _upload_in_parts(self, episode_id: str, file: UploadFile) -> bool:
        """Blocking delivery of a file from the multipart threshold on, in resumable parts (the progress
        lives for this call: a failed part is sent again, not the whole file). False when it is smaller or the
        server has no multipart routes (then the slot's single PUT)."""
        if file.size < self._multipart_threshold:
            return False
        progress: dict[str, Any] = {}
        try:
            upload_in_parts(self, episode_id, file, progress, lambda: None)
        except NotFoundError:
            if progress.get("upload_id"):
                raise
            return False
        return True

    def _put_artifact(self, url: str, file: UploadFile) -> None:
        self._session.put_file(url, file, progress_for(file.label, file.size, self._quiet))

    def _finalize_episode(self, episode_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._session.request_json(finalize_call(episode_id, body))

    def _ask_upload_url(self, episode_id: str, kind: ArtifactKind) -> dict[str, Any]:
        """A fresh signed URL for one slot of a recording episode."""
        return self._session.request_json(upload_url_call(episode_id, kind))
