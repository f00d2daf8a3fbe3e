"""Resumable uploads of large files (issue 18): a file above the threshold goes in parts (S3 multipart with
presigned part URLs, or the local store's equivalent), each acknowledged part recorded in the spool state, so
an interrupted upload - a lost connection or a ``kill -9`` - resumes after the last acknowledged part. The
whole file's SHA-256 is announced at start and checked by the server at complete."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any, Callable

from ._errors import NotFoundError
from ._http import ApiCall, dumps
from ._payload import UploadFile

if TYPE_CHECKING:
    from ._client import Client

ENV_THRESHOLD = "ROBOTRACE_MULTIPART_THRESHOLD_BYTES"
DEFAULT_THRESHOLD = 128 * 1024 * 1024
# Signed part URLs asked for at once (the server signs at most 1000 per call).
URL_BATCH = 100


def multipart_threshold(explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    raw = os.environ.get(ENV_THRESHOLD, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_THRESHOLD


def sha256_of(path: os.PathLike[str] | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def upload_in_parts(
    client: Client,
    episode_id: str,
    file: UploadFile,
    progress: dict[str, Any],
    save: Callable[[], None],
) -> None:
    """Upload ``file`` in parts, resuming the upload recorded in ``progress`` (this kind's entry of the
    spool state: ``upload_id``, ``sha256``, ``parts``) when the server still has it; ``save`` persists it."""
    session = client._session
    base = f"/api/ingest/episode/{episode_id}/uploads"
    upload: dict[str, Any] | None = None
    if progress.get("upload_id"):
        try:
            upload = session.request_json(ApiCall("GET", f"{base}/{progress['upload_id']}"))
        except NotFoundError:
            upload = None  # completed, aborted or expired: start again
    if upload is None:
        if not progress.get("sha256"):
            progress["sha256"] = sha256_of(file.path)
        body = {"kind": file.kind, "size_bytes": file.size, "sha256": progress["sha256"]}
        upload = session.request_json(ApiCall("POST", base, _json(body)))
        progress.update(upload_id=upload["upload_id"], parts={})
        save()
    upload_id, part_size, count = (
        str(upload["upload_id"]),
        int(upload["part_size_bytes"]),
        int(upload["part_count"]),
    )
    # The server's word on what is acknowledged wins over our notes (a part may have landed after a crash).
    etags: dict[int, str] = {int(p["part_number"]): str(p["etag"]) for p in upload.get("parts") or []}
    progress["parts"] = {str(n): e for n, e in etags.items()}
    todo = [n for n in range(1, count + 1) if n not in etags]
    for start in range(0, len(todo), URL_BATCH):
        batch = todo[start : start + URL_BATCH]
        signed = session.request_json(
            ApiCall("POST", f"{base}/{upload_id}/parts", _json({"part_numbers": batch}))
        )
        for entry in signed["urls"]:
            n = int(entry["part_number"])
            offset = (n - 1) * part_size
            etags[n] = session.put_part(
                str(entry["url"]), file.path, offset, min(part_size, file.size - offset)
            )
            progress["parts"][str(n)] = etags[n]
            save()
    parts = [{"part_number": n, "etag": etags[n]} for n in range(1, count + 1)]
    session.request_json(ApiCall("POST", f"{base}/{upload_id}/complete", _json({"parts": parts})))


def _json(body: dict[str, Any]) -> bytes:
    return dumps(body)
