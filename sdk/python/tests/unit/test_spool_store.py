"""The spool on disk (spec/SPOOL.md), with real files and real processes: records, claims, bounds."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from robotrace._spool_store import (
    CorruptRecord,
    Record,
    SpoolFile,
    SpoolRefused,
    SpoolStore,
    new_record_id,
    record_from,
)


def record(tmp_path: Path, rid: str | None = None, size: int = 10) -> Record:
    source = tmp_path / f"{rid or 'f'}.mp4"
    source.write_bytes(b"x" * size)
    return Record(
        id=rid or new_record_id(),
        created_at="2026-12-01T09:00:00.000Z",
        create_key="k1",
        create_body='{"source":"sim"}',
        finalize_key="k2",
        finalize_body='{"status":"ready"}',
        files=(SpoolFile("video", source.name, size, str(source)),),
    )


def test_a_record_round_trips_and_its_file_is_hard_linked(tmp_path: Path) -> None:
    store = SpoolStore(tmp_path / "spool")
    rec = record(tmp_path)
    store.add(rec, "test")
    assert store.load(rec.id) == rec
    linked = tmp_path / "spool" / "v1" / "waiting" / rec.id / "video"
    assert linked.stat().st_ino == Path(rec.files[0].source).stat().st_ino
    assert store.used_bytes() == 10


@pytest.mark.parametrize(
    "raw",
    [
        "[]",
        '{"format": 2}',
        '{"format": 1, "id": "", "created_at": "x", "create": {}, "finalize": {}, "files": []}',
        json.dumps(
            {
                "format": 1,
                "id": "a",
                "created_at": "x",
                "create": {"idempotency_key": "k", "body": "{}"},
                "finalize": {"idempotency_key": "k", "body": "{}"},
                "files": [{"kind": "audio", "name": "a", "size": 1, "source": "/a"}],
            }
        ),
    ],
)
def test_anything_but_a_record_is_corrupt(raw: str) -> None:
    with pytest.raises(CorruptRecord):
        record_from(json.loads(raw))


def test_a_claim_of_a_killed_process_is_taken_over_and_a_live_one_is_not(tmp_path: Path) -> None:
    store = SpoolStore(tmp_path / "spool")
    a, b = record(tmp_path, new_record_id()), record(tmp_path, new_record_id())
    store.add(a, "test")
    store.add(b, "test")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = socket.gethostname()
        for rid, pid in ((a.id, dead.pid), (b.id, live.pid)):
            claim = {"pid": pid, "host": host, "at": 0}
            (tmp_path / "spool" / "v1" / "claims" / rid).write_text(json.dumps(claim))
        assert store.claim(a.id) is True
        assert store.claim(b.id) is False
    finally:
        live.kill()
        live.wait()


def test_a_full_spool_refuses_and_an_expired_record_is_parked(tmp_path: Path) -> None:
    store = SpoolStore(tmp_path / "spool", max_bytes=15, max_age_s=60)
    store.add(record(tmp_path, "0000000000001-00000000000000aa"), "test")  # created in 1970: expired
    with pytest.raises(SpoolRefused, match="full"):
        store.add(record(tmp_path, new_record_id()), "test")
    assert store.sweep() == ["0000000000001-00000000000000aa"]
    assert store.ids("waiting") == []
    state = store.state("0000000000001-00000000000000aa", "parked")
    assert state["parked_reason"].startswith("expired")
