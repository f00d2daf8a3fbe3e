"""Argument checks and request bodies. Everything is checked before the first request, so a bad argument
never leaves an orphaned "recording" episode on the server."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ._errors import ArgumentError
from ._types import encode_metadata

ArtifactKind = Literal["video", "sensors", "actions"]
EpisodeSource = Literal["real", "sim", "replay"]
EpisodeFinalStatus = Literal["ready", "failed"]

ARTIFACT_KINDS: tuple[ArtifactKind, ...] = ("video", "sensors", "actions")
# Longest accepted text per create field, in characters (code points); the same limits in the TypeScript SDK
# (spec/sdk-behaviour-vectors.json). name and robot are the official SDK's documented limits.
MAX_TEXT_LENGTH: Mapping[str, int] = {
    "name": 200,
    "robot": 120,
    "policy_version": 200,
    "env_version": 200,
    "git_sha": 100,
}
# Measured as the server measures it: compact JSON, UTF-8.
MAX_METADATA_BYTES = 1024 * 1024
SOURCES = ("real", "sim", "replay")
FINAL_STATUSES = ("ready", "failed")

# The content type follows the slot, not the file (WIRE_CONTRACT.md, Upload).
CONTENT_TYPES: Mapping[str, str] = {
    "video": "video/mp4",
    "sensors": "application/octet-stream",
    "actions": "application/octet-stream",
}

_EXTENSION_KIND: Mapping[str, ArtifactKind] = {
    **dict.fromkeys((".mp4", ".webm", ".mov", ".m4v"), "video"),
    **dict.fromkeys((".bin", ".npy", ".npz", ".h5", ".hdf5"), "sensors"),
    **dict.fromkeys((".parquet", ".feather", ".arrow"), "actions"),
}


def kind_from_extension(path: str | os.PathLike[str]) -> ArtifactKind | None:
    """The artifact kind a file's extension suggests, or None when it suggests none."""
    return _EXTENSION_KIND.get(os.path.splitext(os.fspath(path))[1].lower())


def check_kind(kind: object) -> ArtifactKind:
    if kind not in ARTIFACT_KINDS:
        raise ArgumentError(f"artifact kind must be one of {', '.join(ARTIFACT_KINDS)}; got {kind!r}")
    return kind


def check_file(kind: str, path: object) -> tuple[Path, int]:
    """(path, size) of an existing regular file; the size is what Content-Length will say."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentError(f"{kind} must be a file path (str or Path); got {type(path).__name__}")
    file = Path(path)
    try:
        stat = file.stat()
    except OSError as exc:
        raise ArgumentError(f"{kind} file not found or unreadable: {file} ({exc.strerror})") from exc
    if not file.is_file():
        raise ArgumentError(f"{kind} must be a regular file: {file}")
    if not os.access(file, os.R_OK):
        raise ArgumentError(f"{kind} file is not readable: {file}")
    return file, stat.st_size


@dataclass(frozen=True)
class UploadFile:
    """A file checked for upload to one slot: what ``Content-Length`` and ``Content-Type`` will say."""

    kind: ArtifactKind
    path: Path
    size: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    @property
    def label(self) -> str:
        """What the progress bar shows."""
        return f"{self.kind} {self.path.name}"


def check_upload(kind: ArtifactKind, path: object) -> UploadFile:
    file, size = check_file(kind, path)
    return UploadFile(kind, file, size)


def check_files(files: Mapping[ArtifactKind, object]) -> list[UploadFile]:
    """The files passed to log_episode (None: not passed), each checked against its keyword."""
    checked: list[UploadFile] = []
    for kind, path in files.items():
        if path is None:
            continue
        guessed = kind_from_extension(path) if isinstance(path, (str, os.PathLike)) else None
        if guessed is not None and guessed != kind:
            raise ArgumentError(
                f"{path!s} looks like a {guessed} file but was passed as {kind}=; pass it as {guessed}= "
                f"or upload it with start_episode(...) and ep.upload({kind!r}, path)"
            )
        checked.append(check_upload(kind, path))
    return checked


def _optional_str(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be a string; got {type(value).__name__}")
    limit = MAX_TEXT_LENGTH[name]
    if len(value) > limit:
        raise ArgumentError(f"{name} is longer than {limit} characters ({len(value)})")


def _optional_number(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ArgumentError(f"{name} must be a finite number; got {value!r}")
    if value < 0:
        raise ArgumentError(f"{name} must be 0 or more; got {value!r}")


def _metadata(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ArgumentError(f"metadata must be a mapping (dict); got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise ArgumentError(f"metadata keys must be strings; got {key!r}")
    encoded = encode_metadata(value)  # typed values (robotrace.types) become tagged objects
    try:
        size = len(json.dumps(encoded, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"metadata must be JSON-serializable: {exc}") from exc
    if size > MAX_METADATA_BYTES:
        raise ArgumentError(
            f"metadata is {size} bytes once serialized; the limit is {MAX_METADATA_BYTES} (1 MiB)"
        )
    return encoded


def create_body(
    *,
    name: object,
    source: object,
    robot: object,
    policy_version: object,
    env_version: object,
    git_sha: object,
    seed: object,
    fps: object,
    metadata: object,
    artifacts: object,
    started_at_unix_ns: int | None = None,
) -> dict[str, Any]:
    """The create-episode body, absent fields omitted; ArgumentError for what the server would reject.

    ``started_at_unix_ns`` (ours, optional): the episode's start on this machine's clock, sent as a decimal
    string so the span lane can align the episode's trace on the robot's clock (the server's ``created_at`` is
    on its own). A value the server would refuse (not a positive int64) is left out rather than raised.
    """
    if source not in SOURCES:
        raise ArgumentError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    for field_name, text in (
        ("name", name),
        ("robot", robot),
        ("policy_version", policy_version),
        ("env_version", env_version),
        ("git_sha", git_sha),
    ):
        _optional_str(field_name, text)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ArgumentError(f"seed must be an integer; got {seed!r}")
    _optional_number("fps", fps)
    if isinstance(artifacts, (str, bytes)) or not isinstance(artifacts, Sequence):
        raise ArgumentError(f"artifacts must be a list of kinds; got {artifacts!r}")
    uploads = [check_kind(kind) for kind in artifacts]
    if len(set(uploads)) != len(uploads):
        raise ArgumentError(f"artifacts lists a kind twice: {uploads!r}")

    body = _with_present(
        {"source": source, "request_uploads": uploads},
        (
            ("name", name),
            ("robot", robot),
            ("policy_version", policy_version),
            ("env_version", env_version),
            ("git_sha", git_sha),
            ("seed", seed),
            ("fps", fps),
        ),
        metadata,
    )
    if started_at_unix_ns is not None and 0 < started_at_unix_ns <= _MAX_INT64:
        body["started_at_unix_ns"] = str(started_at_unix_ns)
    return body


_MAX_INT64 = 2**63 - 1


def started_now_ns() -> int:
    """``start_episode``'s start: now, Unix nanoseconds on this machine's clock."""
    return time.time_ns()


def started_before_ns(duration_s: object) -> int | None:
    """``log_episode``'s start: now - ``duration_s`` (already checked finite and >= 0); None without one."""
    if duration_s is None or isinstance(duration_s, bool) or not isinstance(duration_s, (int, float)):
        return None
    ns = duration_s * 1e9
    if not math.isfinite(ns):  # inf, nan, or a duration too long to be in nanoseconds
        return None
    return time.time_ns() - round(ns)


def finalize_body(
    *,
    status: object,
    duration_s: object = None,
    fps: object = None,
    bytes_total: object = None,
    failure_time_s: object = None,
    metadata: object = None,
) -> dict[str, Any]:
    if status not in FINAL_STATUSES:
        raise ArgumentError(f"status must be 'ready' or 'failed'; got {status!r}")
    _optional_number("duration_s", duration_s)
    _optional_number("fps", fps)
    _optional_number("failure_time_s", failure_time_s)
    if failure_time_s is not None and status != "failed":
        raise ArgumentError("failure_time_s is only valid with status='failed'")
    if bytes_total is not None and (
        isinstance(bytes_total, bool) or not isinstance(bytes_total, int) or bytes_total < 0
    ):
        raise ArgumentError(f"bytes_total must be a non-negative integer; got {bytes_total!r}")
    return _with_present(
        {"status": status},
        (
            ("duration_s", duration_s),
            ("fps", fps),
            ("bytes_total", bytes_total),
            ("failure_time_s", failure_time_s),
        ),
        metadata,
    )


def _with_present(
    body: dict[str, Any], fields: Iterable[tuple[str, object]], metadata: object
) -> dict[str, Any]:
    """``body`` plus the fields that are not None, then the checked metadata (absent fields are omitted)."""
    for key, value in fields:
        if value is not None:
            body[key] = value
    meta = _metadata(metadata)
    if meta is not None:
        body["metadata"] = meta
    return body
