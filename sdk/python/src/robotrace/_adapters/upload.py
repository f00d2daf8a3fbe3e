"""Uploading what an adapter wrote, through the SDK's own client: one episode, its files, its finalize."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .._client import Client
from .._episode import Episode
from .._payload import EpisodeFinalStatus, EpisodeSource
from .artifacts import EncodedArtifact


@dataclass(frozen=True)
class RunFacts:
    """The repro facts every adapter takes from its caller and passes to the episode unchanged."""

    source: EpisodeSource
    robot: str | None
    policy_version: str | None
    env_version: str | None
    git_sha: str | None
    seed: int | None
    metadata: Mapping[str, Any] | None


class EncodedEpisode(Protocol):
    """What an adapter's encode step knows of the episode it wrote (its files are passed alongside)."""

    @property
    def fps(self) -> float | None: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...


@contextmanager
def work_dir(output_dir: str | Path | None, *, keep_artifacts: bool, prefix: str) -> Iterator[Path]:
    """Where an adapter writes the files it uploads: ``output_dir`` (kept), else a temporary folder removed
    afterwards unless ``keep_artifacts``."""
    work = Path(output_dir) if output_dir is not None else Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if output_dir is None and not keep_artifacts:
            shutil.rmtree(work, ignore_errors=True)


def upload_encoded(
    *,
    client: Client | None,
    name: str,
    facts: RunFacts,
    encoded: EncodedEpisode,
    files: Sequence[EncodedArtifact | None],
    status: EpisodeFinalStatus,
) -> Episode:
    """``upload_artifacts`` for an encoded episode: the caller's facts, the adapter's metadata under the
    caller's, the encoded fps and duration."""
    return upload_artifacts(
        client=client,
        create={
            "name": name,
            "source": facts.source,
            "robot": facts.robot,
            "policy_version": facts.policy_version,
            "env_version": facts.env_version,
            "git_sha": facts.git_sha,
            "seed": facts.seed,
            "fps": encoded.fps,
            "metadata": merged_metadata(encoded.metadata, facts.metadata),
        },
        files=files,
        status=status,
        duration_s=encoded.duration_s,
        fps=encoded.fps,
    )


def merged_metadata(adapter_metadata: Mapping[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
    """The adapter's keys, then the caller's (which win on a clash)."""
    merged = dict(adapter_metadata)
    if user:
        merged.update(user)
    return merged


def upload_artifacts(
    *,
    client: Client | None,
    create: Mapping[str, Any],
    files: Sequence[EncodedArtifact | None],
    status: EpisodeFinalStatus,
    duration_s: float | None,
    fps: float | None,
    final_metadata: Mapping[str, Any] | None = None,
) -> Episode:
    """Create the episode with a slot per file, upload each, finalize with ``status`` (and
    ``final_metadata``, e.g. a failure reason).

    An upload that fails finalizes the episode ``failed`` with the reason (the episode's context manager,
    as log_episode does) and the error propagates: no episode is left ``recording``.
    """
    present = [file for file in files if file is not None]
    if client is None:
        import robotrace  # noqa: PLC0415 - the default client lives at the top level, loaded by now

        start = robotrace.start_episode
    else:
        start = client.start_episode
    episode: Episode = start(**create, artifacts=[file.slot for file in present])
    with episode:
        for file in present:
            episode.upload(file.slot, file.path)
        episode.finalize(status=status, duration_s=duration_s, fps=fps, metadata=final_metadata)
    return episode


def upload_each(
    indices: Sequence[int],
    upload_one: Callable[[int], Episode],
    *,
    on_progress: Callable[[int, int, Episode | None, BaseException | None], object] | None,
    stop_on_error: bool,
) -> list[Episode]:
    """``upload_one`` for each index in turn (``upload_dataset``), ``on_progress(done, total, episode,
    error)`` after each; a failure is reported there and the walk goes on, unless ``stop_on_error``."""
    episodes: list[Episode] = []
    for done, index in enumerate(indices, start=1):
        try:
            episode = upload_one(index)
        except Exception as exc:
            if on_progress is not None:
                on_progress(done, len(indices), None, exc)
            if stop_on_error:
                raise
            continue
        episodes.append(episode)
        if on_progress is not None:
            on_progress(done, len(indices), episode, None)
    return episodes
