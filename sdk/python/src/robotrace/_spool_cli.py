"""``robotrace sync`` (deliver a spool now, with a progress bar), ``robotrace spool status`` (what is
waiting, parked and why, delivered) and ``robotrace spool retry|purge <id>|--all`` (a parked record back to
waiting, or deleted). The same commands and output as the TypeScript CLI."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from ._spool_deliver import deliver_one
from ._spool_store import CorruptRecord, SpoolStore, spool_root

_WIDTH = 24


def register(sub: Any) -> None:
    """Add ``sync`` and ``spool status`` to the ``robotrace`` parser's subcommands."""
    sync = sub.add_parser("sync", help="Deliver the episodes waiting in the spool now (background delivery).")
    sync.add_argument(
        "--spool-dir", default=None, help="Default: $ROBOTRACE_SPOOL_DIR or ~/.robotrace/spool."
    )
    sync.set_defaults(handler=cmd_sync)
    spool = sub.add_parser("spool", help="Inspect the background delivery spool.")
    spool_sub = spool.add_subparsers(dest="spool_command", metavar="<verb>", required=True)
    status = spool_sub.add_parser("status", help="Show what is waiting, parked (and why), delivered.")
    status.add_argument(
        "--spool-dir", default=None, help="Default: $ROBOTRACE_SPOOL_DIR or ~/.robotrace/spool."
    )
    status.add_argument("--json", action="store_true", help="Print the status as JSON.")
    status.set_defaults(handler=cmd_status)
    for verb, text in (
        ("retry", "Put a parked record (or --all) back to waiting, to be delivered again."),
        ("purge", "Delete a parked record (or --all) and its files."),
    ):
        cmd = spool_sub.add_parser(verb, help=text)
        cmd.add_argument("id", nargs="?", default=None, help="A parked record's id (robotrace spool status).")
        cmd.add_argument("--all", action="store_true", help="Every parked record.")
        cmd.add_argument(
            "--spool-dir", default=None, help="Default: $ROBOTRACE_SPOOL_DIR or ~/.robotrace/spool."
        )
        cmd.set_defaults(handler=cmd_on_parked, verb=verb)


def cmd_sync(args: argparse.Namespace) -> int:
    from ._client import Client  # noqa: PLC0415 - the status command must not need a key

    store = SpoolStore(spool_root(args.spool_dir))
    store.sweep()
    ids = store.ids("waiting")
    delivered = parked = 0
    bar = _Bar(len(ids), sys.stderr)
    with Client(verbose=False, delivery="blocking") as client:
        for n, rid in enumerate(ids, 1):
            if not store.claim(rid):
                continue  # another process is delivering it
            try:
                outcome = deliver_one(client, store, rid)
            finally:
                store.release(rid)
            if outcome.kind == "retry":
                bar.end()
                print(
                    f"Error: delivery failed, {len(ids) - n + 1} left waiting: {outcome.detail}",
                    file=sys.stderr,
                )
                return 1
            delivered += outcome.kind == "delivered"
            parked += outcome.kind == "parked"
            bar.draw(n)
    bar.end()
    print(f"delivered {delivered}, parked {parked}, waiting {len(store.ids('waiting'))}")
    return 0


def status_of(store: SpoolStore) -> dict[str, Any]:
    """The status both CLIs print: waiting (attempts, last error), parked (reason), delivered."""
    waiting: list[dict[str, Any]] = []
    parked: list[dict[str, Any]] = []
    for area, out in (("waiting", waiting), ("parked", parked)):
        for rid in store.ids(area):
            state = store.state(rid, area)
            entry: dict[str, Any] = {"id": rid}
            try:
                record = store.load(rid, area)
                entry.update(name=_name(record.create_body), size=record.size, created_at=record.created_at)
            except CorruptRecord as exc:
                entry["corrupt"] = str(exc)
            if area == "waiting":
                entry.update(attempts=int(state.get("attempts", 0)), last_error=state.get("last_error"))
            else:
                entry["reason"] = state.get("parked_reason", "")
            out.append(entry)
    receipts = store.ids("delivered")
    return {
        "root": str(store.root),
        "waiting": waiting,
        "parked": parked,
        "delivered": len(receipts),
        "last_delivered": [_receipt(store, name) for name in receipts[-5:]],
    }


def cmd_status(args: argparse.Namespace) -> int:
    status = status_of(SpoolStore(spool_root(args.spool_dir)))
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"spool {status['root']}")
    print(f"waiting   {len(status['waiting'])}")
    for e in status["waiting"]:
        why = f"  last error: {e['last_error']}" if e.get("last_error") else ""
        print(f"  {e['id']}  {e.get('name') or ''}  attempts {e.get('attempts', 0)}{why}")
    print(f"parked    {len(status['parked'])}")
    for e in status["parked"]:
        print(f"  {e['id']}  {e.get('name') or ''}  {e.get('reason') or e.get('corrupt')}")
    print(f"delivered {status['delivered']}")
    for r in status["last_delivered"]:
        print(f"  {r.get('id')}  {r.get('url')}")
    return 0


def cmd_on_parked(args: argparse.Namespace) -> int:
    """``spool retry|purge``: one parked record or all of them; the summary line both CLIs print."""
    verb: str = args.verb
    if (args.id is None) == (not args.all):
        print(f"Error: spool {verb}: give a parked record id or --all", file=sys.stderr)
        return 1
    store = SpoolStore(spool_root(args.spool_dir))
    ids = store.ids("parked") if args.all else [args.id]
    act = store.retry if verb == "retry" else store.purge
    done = sum(1 for rid in ids if act(rid))
    if not args.all and done == 0:
        print(f"Error: spool {verb}: no parked record {args.id}", file=sys.stderr)
        return 1
    print(f"{'retried' if verb == 'retry' else 'purged'} {done}")
    return 0


def _name(create_body: str) -> str | None:
    try:
        name = json.loads(create_body).get("name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def _receipt(store: SpoolStore, name: str) -> dict[str, Any]:
    try:
        raw = json.loads((store.dir("delivered") / name).read_bytes())
    except (OSError, ValueError):
        return {"id": name[: -len(".json")] if name.endswith(".json") else name}
    return raw if isinstance(raw, dict) else {}


class _Bar:
    """``[####----] 3/10`` on a terminal; nothing in a pipe (the summary line says it all)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        try:
            self.tty = stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.drawn = False

    def draw(self, done: int) -> None:
        if not self.tty or self.total == 0:
            return
        filled = round(done / self.total * _WIDTH)
        self.stream.write(f"\r[robotrace] sync [{'#' * filled}{'-' * (_WIDTH - filled)}] {done}/{self.total}")
        self.stream.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.drawn = False
