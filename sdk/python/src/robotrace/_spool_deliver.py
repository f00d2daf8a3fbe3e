"""Delivering one spooled record (spec/SPOOL.md): create, each upload, finalize, with a state write after
each step, so a new process resumes after the last acknowledged step; the Idempotency-Keys make a redone step
a no-op."""

from __future__ import annotations

import contextlib
import functools
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal

from ._episode import UploadUrl, UrlRenewal, upload_url_from
from ._errors import APIError, AuthError, NotFoundError, RobotraceError, URLExpiredError
from ._http import ApiCall
from ._multipart import upload_in_parts
from ._payload import UploadFile
from ._retry import is_retryable_status
from ._spool_store import CorruptRecord, FileGone, Record, SpoolStore, utc_now

if TYPE_CHECKING:
    from ._client import Client


@dataclass(frozen=True)
class Outcome:
    kind: Literal["delivered", "parked", "retry"]
    detail: str = ""
    receipt: dict[str, Any] | None = None


def permanent(exc: BaseException) -> bool:
    """An answer that resending the same record cannot change (a 4xx about the request itself)."""
    if not isinstance(exc, APIError) or isinstance(exc, (AuthError, URLExpiredError)):
        return False
    return not is_retryable_status(exc.status_code) and exc.status_code != 403


def deliver_one(client: Client, store: SpoolStore, rid: str) -> Outcome:
    """Deliver one claimed record; never raises (every failure is an outcome)."""
    try:
        record = store.load(rid)
    except CorruptRecord as exc:
        return _park(store, rid, f"corrupt record: {exc}")
    state = store.state(rid)
    try:
        return _deliver(client, store, record, state)
    except FileGone as exc:
        return _park(store, rid, str(exc))
    except Exception as exc:  # the run goes on; the record stays for the next try
        if permanent(exc):
            return _park(store, rid, f"{type(exc).__name__}: {exc}")
        reason = f"{type(exc).__name__}: {exc}"
        state.update(attempts=int(state.get("attempts", 0)) + 1, last_error=reason[:2000])
        with contextlib.suppress(OSError):  # a read-only spool: the attempt count is only advice
            store.save_state(rid, state)
        return Outcome("retry", reason)


def _deliver(client: Client, store: SpoolStore, record: Record, state: dict[str, Any]) -> Outcome:
    session = client._session
    if not state.get("episode_id"):
        answer = session.request_json(
            ApiCall(
                "POST",
                "/api/ingest/episode",
                record.create_body.encode(),
                idempotent_write=True,
                idempotency_key=record.create_key,
            )
        )
        fields = client._episode_fields(answer, None)
        state.update(
            episode_id=fields["id"],
            url=fields["url"],
            upload_urls=[asdict(slot) for slot in fields["upload_urls"].values()],
        )
        store.save_state(record.id, state)
    episode_id = str(state["episode_id"])
    uploaded: list[str] = list(state.get("uploaded") or [])
    for f in record.files:
        if f.kind in uploaded:
            continue
        path = store.file_path(record, f)
        file = UploadFile(f.kind, path, f.size)
        save = functools.partial(store.save_state, record.id, state)
        in_parts = f.size >= client._multipart_threshold
        if not (in_parts and _in_parts(client, episode_id, file, state, save)):
            _upload(client, state, episode_id, file)
        uploaded.append(f.kind)
        state["uploaded"] = uploaded
        store.save_state(record.id, state)
    if not state.get("finalized"):
        answer = session.request_json(
            ApiCall(
                "POST",
                f"/api/ingest/episode/{episode_id}/finalize",
                record.finalize_body.encode(),
                idempotent_write=True,
                idempotency_key=record.finalize_key,
            )
        )
        state.update(finalized=True, status=str(answer.get("status", "ready")))
        store.save_state(record.id, state)
    receipt = {
        "episode_id": episode_id,
        "url": str(state.get("url", "")),
        "status": str(state.get("status", "ready")),
        "delivered_at": utc_now(),
    }
    store.delivered(record.id, receipt, record.size)
    return Outcome("delivered", receipt=receipt)


def _in_parts(
    client: Client, episode_id: str, file: UploadFile, state: dict[str, Any], save: Callable[[], None]
) -> bool:
    """A resumable upload; False when the server has no multipart routes (then a single PUT does)."""
    progress = state.setdefault("multipart", {}).setdefault(file.kind, {})
    try:
        upload_in_parts(client, episode_id, file, progress, save)
    except NotFoundError:
        if progress.get("upload_id"):
            raise
        return False
    return True


def _upload(client: Client, state: dict[str, Any], episode_id: str, file: UploadFile) -> None:
    """One file to its slot, a fresh signed URL asked for once when it expired (as ``Episode.upload``)."""
    slots = {s.kind: s for s in (upload_url_from(raw) for raw in state.get("upload_urls") or []) if s}
    slot = slots.get(file.kind) or UploadUrl(file.kind, "", "1970-01-01T00:00:00Z")
    renewal = UrlRenewal(slot)
    while True:
        if renewal.ask_now() or not slot.url:
            fresh = upload_url_from({"kind": file.kind, **client._ask_upload_url(episode_id, file.kind)})
            if fresh is None:
                raise RobotraceError(f"the fresh {file.kind} upload URL answer has no url")
            slot = fresh
            slots[file.kind] = fresh
            state["upload_urls"] = [asdict(s) for s in slots.values()]
        try:
            client._session.put_file(slot.url, file, None)
        except URLExpiredError as exc:
            renewal.refused(exc)
        else:
            return


def _park(store: SpoolStore, rid: str, reason: str) -> Outcome:
    try:
        store.park(rid, reason)
    except OSError:
        return Outcome("retry", f"{reason} (and it could not be parked)")
    return Outcome("parked", reason)
