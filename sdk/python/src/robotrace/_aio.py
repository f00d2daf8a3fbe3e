"""``AsyncClient`` and ``AsyncEpisode``: the same API for asyncio code, on ``httpx.AsyncClient``.

::

    async with rt.AsyncClient() as client:
        ep = await client.log_episode(name="sim sweep", video="run.mp4")
        async with await client.start_episode(artifacts=["video"]) as ep:
            await ep.upload_video("run.mp4")

Trace capture works the same: OpenTelemetry's context follows asyncio tasks, so the span active in the
coroutine that starts the episode is the one attached.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
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
from ._episode import EpisodeState, UrlRenewal, failure_metadata, failure_reason, log_not_failed
from ._errors import ConfigurationError, URLExpiredError
from ._http_async import AsyncHttpSession
from ._lifecycle import NDJSON, ArtifactDownload, delete_call, export_call, parse_lines
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

_C = TypeVar("_C", bound="AsyncClient")


@dataclass(eq=False)
class AsyncEpisode(EpisodeState):
    """``Episode`` with awaitable methods; ``async with`` finalizes it like ``with`` does an ``Episode``."""

    _client: AsyncClient | None = field(default=None, repr=False)

    async def upload(self, kind: ArtifactKind, path: str | os.PathLike[str]) -> int:
        slot, file = self._upload_plan(kind, path)
        client = self._require_client()
        renewal = UrlRenewal(slot)
        while True:
            if renewal.ask_now():
                slot = self._renewed(slot, await client._ask_upload_url(self.id, slot.kind))
            try:
                await client._put_artifact(slot.url, file)
            except URLExpiredError as exc:
                renewal.refused(exc)
            else:
                return self._uploaded(file)

    async def upload_video(self, path: str | os.PathLike[str]) -> int:
        return await self.upload("video", path)

    async def upload_sensors(self, path: str | os.PathLike[str]) -> int:
        return await self.upload("sensors", path)

    async def upload_actions(self, path: str | os.PathLike[str]) -> int:
        return await self.upload("actions", path)

    async def finalize(
        self,
        *,
        status: EpisodeFinalStatus = "ready",
        duration_s: float | None = None,
        fps: float | None = None,
        bytes_total: int | None = None,
        failure_time_s: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
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
        self._settle(await self._require_client()._finalize_episode(self.id, body), status)

    async def fail(self, reason: str, **kwargs: Any) -> None:
        await self.finalize(status="failed", metadata=failure_metadata(reason), **kwargs)

    async def __aenter__(self) -> AsyncEpisode:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if self._finalized:
            return False
        if exc_type is None:
            await self.finalize(status="ready")
        else:
            await self._fail_quietly(failure_reason(exc_type, exc))
        return False

    async def _fail_quietly(self, reason: str) -> None:
        try:
            await self.fail(reason)
        except Exception:
            log_not_failed(self.id)

    def _require_client(self) -> AsyncClient:
        if self._client is None:
            raise ConfigurationError(f"episode {self.id} is not attached to an AsyncClient")
        return self._client


class AsyncClient(ClientCore):
    """The asyncio twin of ``Client`` (same arguments; ``transport`` is an ``httpx.AsyncBaseTransport``)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        verbose: bool | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        otel_respect_sampled: bool | None = None,
        link_span: bool | None = None,
        max_retries: int | None = None,
        upload_timeout: float | None = None,
    ) -> None:
        super().__init__(api_key, base_url, verbose, otel_respect_sampled, link_span)
        self._session = AsyncHttpSession(
            api_key=self._conn.api_key,
            base_url=self._conn.base_url,
            timeout=timeout,
            transport=transport,
            policy=retry_policy(max_retries),
            upload_timeout=checked_upload_timeout(upload_timeout),
        )

    async def aclose(self) -> None:
        await self._session.aclose()

    async def __aenter__(self: _C) -> _C:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        await self.aclose()
        return False

    async def start_episode(
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
    ) -> AsyncEpisode:
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
        return await self._create(body)

    async def log_episode(
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
    ) -> AsyncEpisode:
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
        episode = await self._create(body)
        for file in files:
            try:
                await episode.upload(file.kind, file.path)
            except BaseException as exc:
                await episode._fail_quietly(upload_failure(file.kind, exc))
                raise
        episode._settle(await self._finalize_episode(episode.id, episode._log_final(final)), status)
        return episode

    async def get_episode(self, episode_id: str) -> dict[str, Any]:
        return await self._session.request_json(get_call(episode_id))

    async def delete_episode(self, episode_id: str, *, unlink_references: bool = False) -> dict[str, Any]:
        """``Client.delete_episode``, awaited."""
        return await self._session.request_json(delete_call(episode_id, unlink_references))

    async def export_episodes(
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
    ) -> AsyncIterator[dict[str, Any]]:
        """``Client.export_episodes`` as an async iterator (``async for ep in client.export_episodes()``); a
        bad filter raises at the first iteration, before any request."""
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
        async for line in self._session.stream_lines(call, NDJSON):
            for episode in parse_lines([line], call.what):
                yield episode

    async def download_artifact(
        self, episode_id: str, artifact: Mapping[str, Any], directory: str | os.PathLike[str]
    ) -> Path:
        """``Client.download_artifact``, awaited."""
        download = ArtifactDownload(artifact, episode_id, Path(directory))
        try:
            await self._session.download(download.url, download.partial)
            return download.finish()
        except BaseException:
            download.abandon()
            raise

    async def _create(self, body: dict[str, Any]) -> AsyncEpisode:
        call, otel, span = self._create_call(body)
        answer = await self._session.request_json(call)
        episode = AsyncEpisode(**self._episode_fields(answer, otel), _client=self)
        self._announce(episode, span)
        return episode

    async def _put_artifact(self, url: str, file: UploadFile) -> None:
        await self._session.put_file(url, file, progress_for(file.label, file.size, self._quiet))

    async def _finalize_episode(self, episode_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._session.request_json(finalize_call(episode_id, body))

    async def _ask_upload_url(self, episode_id: str, kind: ArtifactKind) -> dict[str, Any]:
        return await self._session.request_json(upload_url_call(episode_id, kind))
