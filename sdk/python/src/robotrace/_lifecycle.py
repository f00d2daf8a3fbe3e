"""Deleting and exporting episodes (issue 20): the API calls both clients send, the export's JSON Lines, and
where a downloaded artifact goes. The same rules as the TypeScript SDK (packages/sdk-ts/src/export.ts)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlencode

from ._errors import ArgumentError, RobotraceError
from ._http import ApiCall

NDJSON = "application/x-ndjson"
ARTIFACT_KINDS = ("video", "sensors", "actions")
# The export's filters: those of GET /api/episodes, without paging.
EXPORT_FILTERS = (
    "status",
    "source",
    "q",
    "policy_version",
    "robot",
    "trace_id",
    "span_id",
    "created_after",
    "created_before",
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_EXTENSION_BY_TYPE = {
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
}


def delete_call(episode_id: str, unlink_references: bool) -> ApiCall:
    """``DELETE /api/episodes/{id}``: one Idempotency-Key for all its tries, so a retried delete whose first
    answer was lost answers as the first did instead of 404."""
    if not isinstance(episode_id, str) or not episode_id.strip():
        raise ArgumentError("episode_id must be a non-empty string")
    query = "?unlink_references=true" if unlink_references else ""
    path = f"/api/episodes/{quote(episode_id.strip(), safe='')}{query}"
    return ApiCall("DELETE", path, idempotent_write=True)


def export_call(filters: Mapping[str, str | datetime | None]) -> ApiCall:
    """``GET /api/episodes/export`` with the given filters; a time may be an aware ``datetime``."""
    unknown = sorted(set(filters) - set(EXPORT_FILTERS))
    if unknown:
        raise ArgumentError(f"unknown export filter(s): {', '.join(unknown)}")
    query = urlencode({k: _query_value(k, v) for k, v in filters.items() if v is not None and v != ""})
    return ApiCall("GET", "/api/episodes/export" + (f"?{query}" if query else ""))


def _query_value(name: str, value: str | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ArgumentError(f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc))")
        return value.isoformat()
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be a string; got {type(value).__name__}")
    return value


def parse_lines(lines: Iterable[str], what: str) -> Iterable[dict[str, Any]]:
    """Each non-blank line as a JSON object, as it arrives."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise RobotraceError(f"{what}: line {number} of the answer is not JSON") from exc
        if not isinstance(value, dict):
            raise RobotraceError(f"{what}: line {number} of the answer is not a JSON object")
        yield value


def artifact_base(directory: str | Path, episode_id: object, kind: object) -> Path:
    """``<directory>/<episode_id>/<kind>`` (the extension follows from the file); both parts come from the
    server's answer, so neither may climb out of ``directory``."""
    if not isinstance(episode_id, str) or not _SAFE_NAME.match(episode_id) or kind not in ARTIFACT_KINDS:
        raise RobotraceError(f"export: refusing to write artifact {kind} of episode {episode_id}")
    folder = Path(directory) / episode_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder / str(kind)


class ArtifactDownload:
    """One exported artifact on its way to ``<directory>/<episode_id>/<kind><ext>``: written as
    ``<kind>.partial`` and renamed when complete (``finish``), removed on any failure (``abandon``), so a
    failed download leaves no truncated file. Both clients fetch the bytes; this decides where they go."""

    def __init__(self, artifact: Mapping[str, Any], episode_id: object, directory: str | Path) -> None:
        self._base = artifact_base(directory, episode_id, artifact.get("kind"))
        url = artifact.get("url")
        if not isinstance(url, str) or not url:
            kind = artifact.get("kind")
            raise RobotraceError(f"export: artifact {kind} of episode {episode_id} has no url")
        self.url = url
        self.partial = self._base.with_name(self._base.name + ".partial")
        self._content_type = artifact.get("content_type")

    def finish(self) -> Path:
        final = self._base.with_name(self._base.name + artifact_extension(self.partial, self._content_type))
        self.partial.replace(final)
        return final

    def abandon(self) -> None:
        self.partial.unlink(missing_ok=True)


def save_artifact(
    fetch: Callable[[str, Path], object],
    artifact: Mapping[str, Any],
    episode_id: object,
    directory: str | Path,
) -> Path:
    """Download one exported artifact through ``fetch(url, path)`` (see ``ArtifactDownload``)."""
    download = ArtifactDownload(artifact, episode_id, directory)
    try:
        fetch(download.url, download.partial)
        return download.finish()
    except BaseException:
        download.abandon()
        raise


def artifact_extension(path: Path, content_type: object) -> str:
    """From the content type when it says (video is video/mp4), else from the first bytes, read as the
    server's track indexer reads them; ``.bin`` when neither tells."""
    if isinstance(content_type, str):
        known = _EXTENSION_BY_TYPE.get(content_type.split(";")[0].strip().lower())
        if known:
            return known
    with path.open("rb") as fh:
        return extension_of_head(fh.read(8))


def extension_of_head(head: bytes) -> str:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ".npz"
    if head.startswith(b"\x93NUMPY"):
        return ".npy"
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.startswith((b"ARROW1", b"\xff\xff\xff\xff")):
        return ".arrow"
    if head.startswith(b"\x89MCAP"):
        return ".mcap"
    return ".bin"


# ── the CLI's lines (the TypeScript CLI prints the same) ──────────────────


def format_bytes(n: int) -> str:
    """As the TypeScript CLI's formatBytes (JavaScript's toFixed rounds half up: so does this)."""

    def fixed(value: Decimal, places: int) -> str:
        return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))

    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{fixed(Decimal(n) / 1024, 1)} KB"
    if n < 1024**3:
        return f"{fixed(Decimal(n) / 1024**2, 1)} MB"
    return f"{fixed(Decimal(n) / 1024**3, 2)} GB"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def deleted_line(result: Mapping[str, Any]) -> str:
    files = _plural(int(result.get("artifacts_deleted") or 0), "artifact")
    freed = format_bytes(int(result.get("bytes_freed") or 0))
    line = f"deleted {result.get('episode_id')} ({files}, {freed} freed"
    removed = result.get("references_removed") or {}
    results, scenarios = int(removed.get("eval_results") or 0), int(removed.get("scenarios") or 0)
    if results + scenarios > 0:
        line += f"; unlinked {_plural(results, 'eval result')}, {_plural(scenarios, 'scenario')}"
    line += ")"
    if result.get("pending_storage"):
        line += " - storage still deleting the files, retried by the server"
    return line


def referenced_line(episode_id: str, details: object) -> str:
    refs: list[str] = []
    if isinstance(details, dict):
        for key, label in (("eval_runs", "eval run"), ("scenarios", "scenario")):
            for ref in details.get(key) or []:
                if isinstance(ref, dict):
                    name = ref.get("name")
                    refs.append(f'{label} "{name}" ({ref.get("id")})' if name else f"{label} {ref.get('id')}")
    return (
        f"referenced {episode_id} by {', '.join(refs) or 'other records'} "
        "(pass --unlink-references to remove those links)"
    )
