"""The delivery spool on disk (spec/SPOOL.md): a directory of JSON records, each whole or absent.

A record appears by renaming its finished directory from ``tmp/`` into ``waiting/``; its state is replaced by
rename too, so a ``kill -9`` at any instant leaves the old or the new version. The calling thread writes and
renames without waiting for the disk (a ``log_episode`` returns in well under 2 ms); the worker fsyncs the
record right after (``make_durable``), so a power cut can only lose the last few milliseconds.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import os
import re
import shutil
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._payload import ArtifactKind

FORMAT = 1
ENV_SPOOL_DIR = "ROBOTRACE_SPOOL_DIR"
ENV_MAX_BYTES = "ROBOTRACE_SPOOL_MAX_BYTES"
ENV_MAX_AGE_S = "ROBOTRACE_SPOOL_MAX_AGE_S"
DEFAULT_MAX_BYTES = 10 * 1024**3
DEFAULT_MAX_AGE_S = 7 * 86400.0
# A claim on another host cannot be checked by pid; after this long it is taken over.
FOREIGN_CLAIM_STALE_S = 3600.0
TMP_STALE_S = 3600.0
HOST = socket.gethostname()
# A record id as spool names are made (anything else is no record: never a path).
RECORD_ID = re.compile(r"\d{13}-[0-9a-f]{16}")


class SpoolRefused(Exception):
    """The spool could not take a record (full, not writable); the message says why, for the user."""


class CorruptRecord(Exception):
    """A record.json that is not a record of this format."""


class FileGone(Exception):
    """A file the record needs is gone, or no longer the file that was logged."""


@dataclass(frozen=True)
class SpoolFile:
    kind: ArtifactKind
    name: str
    size: int
    source: str


@dataclass(frozen=True)
class Record:
    id: str
    created_at: str
    create_key: str
    create_body: str
    finalize_key: str
    finalize_body: str
    files: tuple[SpoolFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self, created_by: str) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "created_at": self.created_at,
            "created_by": created_by,
            "create": {"idempotency_key": self.create_key, "body": self.create_body},
            "finalize": {"idempotency_key": self.finalize_key, "body": self.finalize_body},
            "files": [
                {"kind": f.kind, "name": f.name, "size": f.size, "source": f.source} for f in self.files
            ],
        }


def record_from(raw: object) -> Record:
    """The record in a parsed record.json; CorruptRecord when it is not one."""
    try:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        create, final = raw["create"], raw["finalize"]
        files = tuple(
            SpoolFile(kind=f["kind"], name=str(f["name"]), size=int(f["size"]), source=str(f["source"]))
            for f in raw["files"]
        )
        if any(f.kind not in ("video", "sensors", "actions") or f.size < 0 for f in files):
            raise ValueError("a file of an unknown kind or a negative size")
        fields = [raw["id"], raw["created_at"], create["idempotency_key"], create["body"]]
        fields += [final["idempotency_key"], final["body"]]
        if not all(isinstance(v, str) and v for v in fields):
            raise ValueError("an id, date, key or body that is not a non-empty string")
        rid, created_at, create_key, create_body, finalize_key, finalize_body = fields
        return Record(rid, created_at, create_key, create_body, finalize_key, finalize_body, files)
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptRecord(f"not a format-{FORMAT} spool record ({type(exc).__name__}: {exc})") from exc


def spool_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``spool_dir=``, else ``$ROBOTRACE_SPOOL_DIR``, else ``$ROBOTRACE_HOME/spool``, else
    ``~/.robotrace/spool``."""
    if explicit is not None:
        return Path(explicit)
    if os.environ.get(ENV_SPOOL_DIR):
        return Path(os.environ[ENV_SPOOL_DIR])
    home = os.environ.get("ROBOTRACE_HOME")
    return (Path(home) if home else Path.home() / ".robotrace") / "spool"


def new_record_id() -> str:
    return f"{int(time.time() * 1000):013d}-{uuid.uuid4().hex[:16]}"


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"


def write_json_atomic(path: Path, value: object, *, durable: bool = True) -> None:
    """Write to a temp file beside ``path``, fsync it (when ``durable``), rename over ``path``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, json.dumps(value, separators=(",", ":")).encode())
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SpoolStore:
    """One spool directory. Safe to share between threads and processes (claims, atomic renames)."""

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int | None = None,
        max_age_s: float | None = None,
    ) -> None:
        self.root = root
        self.v1 = root / "v1"
        self.max_bytes = max_bytes if max_bytes is not None else _env_number(ENV_MAX_BYTES, DEFAULT_MAX_BYTES)
        self.max_age_s = max_age_s if max_age_s is not None else _env_number(ENV_MAX_AGE_S, DEFAULT_MAX_AGE_S)
        self._used: int | None = None
        self._added = 0  # bytes added by this process, so a recount on another thread misses none
        self._ensured = False

    def dir(self, area: str) -> Path:
        return self.v1 / area

    def ensure(self) -> None:
        if self._ensured:
            return
        for area in ("tmp", "waiting", "parked", "delivered", "claims"):
            (self.v1 / area).mkdir(mode=0o700, parents=True, exist_ok=True)
        self._ensured = True

    # Writing a record.

    def add(self, record: Record, created_by: str) -> None:
        """Store a record (files hard-linked when possible). SpoolRefused when it cannot."""
        try:
            self.ensure()
            used = self.used_bytes()
            if used + record.size > self.max_bytes:
                raise SpoolRefused(
                    f"the spool at {self.root} is full ({used} of {self.max_bytes} bytes in use; "
                    f"this episode needs {record.size}); raise {ENV_MAX_BYTES} or run `robotrace sync`"
                )
            tmp = self.dir("tmp") / record.id
            tmp.mkdir(mode=0o700)
            for f in record.files:
                # Another filesystem, or links not allowed: the worker copies it (spec/SPOOL.md).
                with contextlib.suppress(OSError):
                    os.link(f.source, tmp / f.kind)
            write_json_atomic(tmp / "record.json", record.to_json(created_by), durable=False)
            os.rename(tmp, self.dir("waiting") / record.id)
        except SpoolRefused:
            raise
        except OSError as exc:
            self._ensured = False  # the directory may have been removed: make it again next time
            raise SpoolRefused(f"the spool at {self.root} cannot be written ({exc})") from exc
        self._added += record.size
        self._used = (self._used if self._used is not None else used) + record.size

    def make_durable(self, rids: list[str]) -> None:
        """fsync records the calling thread wrote without waiting for the disk: each record.json and
        directory, then waiting/ once. Hard-linked files are the user's own bytes, as durable as the user's
        file (fsyncing a just-written 100 MB video would stall the disk for everyone); copies are fsynced
        when made."""
        for rid in rids:
            with contextlib.suppress(FileNotFoundError):  # delivered or parked meanwhile
                fsync_path(self.dir("waiting") / rid / "record.json")
                fsync_path(self.dir("waiting") / rid)
        fsync_path(self.dir("waiting"))

    def used_bytes(self) -> int:
        if self._used is None:
            self._used = self._scan_used()
        return self._used

    def _scan_used(self) -> int:
        total = 0
        for area in ("waiting", "parked"):
            for rid in self.ids(area):
                with contextlib.suppress(CorruptRecord, OSError):
                    total += self.load(rid, area).size
        return total

    def recount(self) -> None:
        """Recount the bytes in use, on the worker's thread: the caller's ``add`` then never reads every
        record (a spool of thousands of records would make that call take a second). An ``add`` during
        the count is kept (counted twice at worst: the bound is advice, an acknowledged record is never
        dropped)."""
        before = self._added
        total = self._scan_used()
        self._used = total + (self._added - before)

    # Reading.

    def ids(self, area: str) -> list[str]:
        try:
            names = os.listdir(self.dir(area))
        except OSError:
            return []
        return sorted(n for n in names if not n.startswith("."))

    def load(self, rid: str, area: str = "waiting") -> Record:
        try:
            raw = json.loads((self.dir(area) / rid / "record.json").read_bytes())
        except FileNotFoundError as exc:
            raise CorruptRecord("record.json is missing") from exc
        except ValueError as exc:
            raise CorruptRecord(f"record.json is not JSON ({exc})") from exc
        return record_from(raw)

    def state(self, rid: str, area: str = "waiting") -> dict[str, Any]:
        try:
            raw = json.loads((self.dir(area) / rid / "state.json").read_bytes())
        except (OSError, ValueError):
            return {}
        return raw if isinstance(raw, dict) else {}

    def save_state(self, rid: str, state: dict[str, Any]) -> None:
        # Not fsynced: a state lost to a power cut only redoes a step (the Idempotency-Keys make it a no-op).
        write_json_atomic(self.dir("waiting") / rid / "state.json", state, durable=False)

    def file_path(self, record: Record, f: SpoolFile) -> Path:
        """The spool's own copy of a file, copied from its source first when it is not there yet."""
        own = self.dir("waiting") / record.id / f.kind
        if own.exists():
            if own.stat().st_size != f.size:
                raise FileGone(f"{f.kind} file {f.name} changed size since it was logged")
            return own
        part = own.with_name(f"{f.kind}.part")
        try:
            with open(f.source, "rb") as src, open(part, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
                dst.flush()
                os.fsync(dst.fileno())
        except FileNotFoundError as exc:
            raise FileGone(f"file deleted before delivery: {f.kind} {f.source}") from exc
        if part.stat().st_size != f.size:
            part.unlink()
            raise FileGone(f"{f.kind} file {f.source} changed size since it was logged")
        os.replace(part, own)
        return own

    # Leaving waiting/.

    def park(self, rid: str, reason: str) -> None:
        state = self.state(rid)
        state.update(parked_reason=reason[:2000], parked_at=utc_now())
        src = self.dir("waiting") / rid
        if src.is_dir():
            self.save_state(rid, state)
        os.rename(src, self.dir("parked") / rid)

    def retry(self, rid: str) -> bool:
        """``robotrace spool retry``: a parked record back to waiting/, its failure forgotten (attempts,
        reason) and its progress kept (a created episode is not created again). False when there is no such
        parked record."""
        src = self.dir("parked") / rid
        if not RECORD_ID.fullmatch(rid) or not src.is_dir():
            return False
        state = self.state(rid, "parked")
        for key in ("parked_reason", "parked_at", "attempts", "last_error"):
            state.pop(key, None)
        state["retried_at"] = utc_now()
        write_json_atomic(src / "state.json", state, durable=False)
        try:
            os.rename(src, self.dir("waiting") / rid)
        except FileNotFoundError:
            return False  # purged or retried meanwhile
        return True

    def purge(self, rid: str) -> bool:
        """``robotrace spool purge``: delete a parked record and its files. False when there is none."""
        src = self.dir("parked") / rid
        if not RECORD_ID.fullmatch(rid) or not src.is_dir():
            return False
        # Renamed away first (as a delivered record), so a crash mid-removal leaves nothing half-deleted.
        gone = self.dir("tmp") / f"{rid}.done"
        try:
            os.rename(src, gone)
        except FileNotFoundError:
            return False
        shutil.rmtree(gone, ignore_errors=True)
        self._used = None
        return True

    def delivered(self, rid: str, receipt: dict[str, Any], size: int) -> None:
        write_json_atomic(self.dir("delivered") / f"{rid}.json", {"id": rid, **receipt}, durable=False)
        # Renamed away first, so a crash mid-removal never leaves a half-deleted record in waiting/.
        gone = self.dir("tmp") / f"{rid}.done"
        os.rename(self.dir("waiting") / rid, gone)
        shutil.rmtree(gone, ignore_errors=True)
        if self._used is not None:
            self._used = max(0, self._used - size)

    def _retried_s(self, rid: str) -> float:
        """When ``robotrace spool retry`` put this waiting record back (0: never): its age counts from it."""
        return _parse_utc(self.state(rid).get("retried_at", ""))

    # Claims.

    def claim(self, rid: str) -> bool:
        path = self.dir("claims") / rid
        for _ in range(2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                if not self._claim_stale(path):
                    return False
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            except OSError:
                return False
            try:
                os.write(fd, json.dumps({"pid": os.getpid(), "host": HOST, "at": time.time()}).encode())
            finally:
                os.close(fd)
            # Listed before another process delivered (or parked) it and released its claim: nothing to do.
            if not (self.dir("waiting") / rid).is_dir():
                self.release(rid)
                return False
            return True
        return False

    def release(self, rid: str) -> None:
        with contextlib.suppress(OSError):
            (self.dir("claims") / rid).unlink()

    def _claim_stale(self, path: Path) -> bool:
        try:
            raw = json.loads(path.read_bytes())
            pid, host, at = int(raw["pid"]), str(raw["host"]), float(raw["at"])
        except (OSError, ValueError, KeyError, TypeError):
            # Unreadable: a writer killed between create and write; stale once it is old.
            try:
                return time.time() - path.stat().st_mtime > 60
            except OSError:
                return True
        if host == HOST:
            return pid != os.getpid() and not pid_running(pid)
        return time.time() - at > FOREIGN_CLAIM_STALE_S

    # Bounds.

    def sweep(self) -> list[str]:
        """Park waiting records past the max age; delete old parked records, receipts and tmp left-overs.
        Returns the ids parked as expired."""
        now = time.time()
        expired = []
        for rid in self.ids("waiting"):
            old = now - _created_s(rid) > self.max_age_s
            if old and now - self._retried_s(rid) > self.max_age_s and self.claim(rid):
                try:
                    self.park(rid, f"expired: not delivered within {self.max_age_s:.0f} s")
                    expired.append(rid)
                except OSError:
                    pass
                finally:
                    self.release(rid)
        for rid in self.ids("parked"):
            if now - _mtime(self.dir("parked") / rid) > self.max_age_s:
                shutil.rmtree(self.dir("parked") / rid, ignore_errors=True)
        for name in self.ids("delivered"):
            if now - _mtime(self.dir("delivered") / name) > self.max_age_s:
                with contextlib.suppress(OSError):
                    (self.dir("delivered") / name).unlink()
        for name in self.ids("tmp"):
            if now - _mtime(self.dir("tmp") / name) > TMP_STALE_S or name.endswith(".done"):
                shutil.rmtree(self.dir("tmp") / name, ignore_errors=True)
        self.recount()
        return expired


def _parse_utc(text: object) -> float:
    try:
        return calendar.timegm(time.strptime(str(text)[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0.0


def _created_s(rid: str) -> float:
    try:
        return int(rid.split("-", 1)[0]) / 1000
    except ValueError:
        return 0.0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()


def _env_number(name: str, default: Any) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = type(default)(float(raw))
    except ValueError:
        return default
    return value if value > 0 else default
