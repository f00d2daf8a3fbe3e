"""What ``Client`` and ``AsyncClient`` share: settings, every API call they make (``ApiCall``), the create
body with its trace block, and what the answers mean. The two clients only send the calls and await or not."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from . import _otel
from ._episode import EpisodeState, UploadUrl, upload_url_from
from ._errors import ArgumentError, ConfigurationError, ServerError
from ._http import ApiCall, dumps
from ._payload import ArtifactKind, UploadFile, check_files, create_body, finalize_body, started_before_ns
from ._retry import RetryPolicy
from ._settings import Connection, env_flag, quiet, resolve_connection


class ClientCore:
    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        verbose: bool | None,
        otel_respect_sampled: bool | None,
        link_span: bool | None,
    ) -> None:
        self._conn: Connection = resolve_connection(api_key, base_url)
        self._quiet = quiet()
        self._verbose = (not self._quiet and _isatty(sys.stdout)) if verbose is None else verbose
        self._respect_sampled = (
            env_flag(_otel.ENV_RESPECT_SAMPLED) if otel_respect_sampled is None else otel_respect_sampled
        )
        self._link_span = env_flag(_otel.ENV_LINK_SPAN) if link_span is None else link_span

    @property
    def base_url(self) -> str:
        return self._conn.base_url

    def _create_call(self, body: dict[str, Any]) -> tuple[ApiCall, dict[str, str] | None, Any]:
        """(the create call, otel block sent, span to back-link); captures the span active now."""
        span = self._attach_otel(body)
        call = ApiCall("POST", "/api/ingest/episode", encode(body), idempotent_write=True)
        return call, body.get("otel"), span

    def _attach_otel(self, body: dict[str, Any]) -> Any:
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

    def _episode_fields(self, answer: Mapping[str, Any], otel: dict[str, str] | None) -> dict[str, Any]:
        episode_id = answer.get("episode_id")
        if not isinstance(episode_id, str) or not episode_id:
            raise ServerError(
                "the create answer has no episode_id", status_code=201, response_body=dict(answer)
            )
        slots: dict[ArtifactKind, UploadUrl] = {}
        for raw in answer.get("upload_urls") or []:
            slot = upload_url_from(raw)
            if slot is not None:
                slots[slot.kind] = slot
        portal_url = answer.get("portal_url")
        warnings = answer.get("warnings")
        return {
            "id": episode_id,
            "status": str(answer.get("status", "recording")),
            "storage": str(answer.get("storage", "unconfigured")),
            "upload_urls": slots,
            # One source of truth for the link (printed and Episode.url): the server's answer, its public URL
            # may differ from our base URL (a proxy); our own guess only for a server that sends none.
            "url": urljoin(self.base_url + "/", portal_url)
            if isinstance(portal_url, str) and portal_url
            else self._link(episode_id),
            "otel": otel,
            "warnings": [str(w) for w in warnings] if isinstance(warnings, list) else [],
        }

    def _announce(self, episode: EpisodeState, span: Any) -> None:
        """After a create: the portal link (once, on a terminal) and the opt-in span back-link."""
        if self._verbose:
            try:
                sys.stdout.write(f"[robotrace] \u2192 {episode.url}\n")
                sys.stdout.flush()
            except (OSError, ValueError):  # a closed stdout must not fail the run
                pass
        if span is not None:
            _otel.link_span(span, episode.id, episode.url)

    def _link(self, episode_id: str) -> str:
        return f"{self.base_url}/portal/episodes/{episode_id}"


def retry_policy(max_retries: object) -> RetryPolicy:
    """The retry policy for ``max_retries=`` (None: the default 3 retries)."""
    if max_retries is not None and (
        isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
    ):
        raise ConfigurationError(f"max_retries must be a whole number >= 0; got {max_retries!r}")
    return RetryPolicy.with_retries(max_retries)


def checked_upload_timeout(seconds: object) -> float | None:
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0
    ):
        raise ConfigurationError(f"upload_timeout must be a positive number of seconds; got {seconds!r}")
    return None if seconds is None else float(seconds)


def log_episode_plan(
    files: Mapping[ArtifactKind, str | os.PathLike[str] | None],
    status: object,
    duration_s: object,
    failure_time_s: object,
    create: Mapping[str, Any],
) -> tuple[list[UploadFile], dict[str, Any], dict[str, Any]]:
    """(files, finalize body, create body) for log_episode, every argument checked before any request."""
    checked = check_files(files)
    final = finalize_body(status=status, duration_s=duration_s, failure_time_s=failure_time_s)
    # The start on this machine's clock: now - duration_s (the run has just ended), only with a duration.
    body = create_body(
        **create,
        artifacts=[file.kind for file in checked],
        started_at_unix_ns=started_before_ns(duration_s),
    )
    return checked, final, body


def finalize_call(episode_id: str, body: Mapping[str, Any]) -> ApiCall:
    return ApiCall("POST", f"/api/ingest/episode/{episode_id}/finalize", encode(body), idempotent_write=True)


def upload_url_call(episode_id: str, kind: ArtifactKind) -> ApiCall:
    # Not an Idempotency-Key'd write: asking twice only signs twice.
    return ApiCall("POST", f"/api/ingest/episode/{episode_id}/upload-url", encode({"kind": kind}))


def get_call(episode_id: str) -> ApiCall:
    return ApiCall("GET", f"/api/episodes/{episode_id}")


def encode(body: Mapping[str, Any]) -> bytes:
    try:
        return dumps(body)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"metadata must be JSON-serializable: {exc}") from exc


def upload_failure(kind: str, exc: BaseException) -> str:
    return f"upload of {kind} failed: {exc}"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
