"""``Client``: one deployment, one connection pool; safe to share between threads."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx

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
from ._http import HttpSession
from ._payload import ARTIFACT_KINDS, ArtifactKind, EpisodeFinalStatus, EpisodeSource, UploadFile, create_body
from ._progress import progress_for

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
    ) -> None:
        super().__init__(api_key, base_url, verbose, otel_respect_sampled, link_span)
        self._session = HttpSession(
            api_key=self._conn.api_key,
            base_url=self._conn.base_url,
            timeout=timeout,
            transport=transport,
            policy=retry_policy(max_retries),
            upload_timeout=checked_upload_timeout(upload_timeout),
        )

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

    # Internals used by Episode.

    def _create(self, body: dict[str, Any]) -> Episode:
        call, otel, span = self._create_call(body)
        answer = self._session.request_json(call)
        episode = Episode(**self._episode_fields(answer, otel), _client=self)
        self._announce(episode, span)
        return episode

    def _put_artifact(self, url: str, file: UploadFile) -> None:
        self._session.put_file(url, file, progress_for(file.label, file.size, self._quiet))

    def _finalize_episode(self, episode_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._session.request_json(finalize_call(episode_id, body))

    def _ask_upload_url(self, episode_id: str, kind: ArtifactKind) -> dict[str, Any]:
        """A fresh signed URL for one slot of a recording episode."""
        return self._session.request_json(upload_url_call(episode_id, kind))
