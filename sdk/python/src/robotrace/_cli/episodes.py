"""``robotrace episodes delete|export``: the same flags and per-episode lines as the TypeScript CLI
(packages/sdk-ts/src/cli/commands/episodes-*.ts), exit 1 when a delete or the export failed."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Callable

from .._client import Client
from .._errors import ConfigurationError, ConflictError, NotFoundError, RobotraceError
from .._lifecycle import deleted_line, referenced_line
from . import device, term

ClientFor = Callable[[str], Client]
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], client_for: ClientFor) -> None:
    episodes = sub.add_parser("episodes", help="Delete or export episodes.")
    verbs = episodes.add_subparsers(dest="episodes_command", metavar="<verb>", required=True)

    delete = verbs.add_parser(
        "delete", help="Delete episodes: their artifacts in storage, track index and insights go with them."
    )
    delete.add_argument("ids", nargs="+", metavar="ID", help="Episode ids.")
    delete.add_argument(
        "--unlink-references",
        action="store_true",
        help="Also remove the eval results and verification scenarios that use them.",
    )
    delete.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
    _profile(delete)
    delete.set_defaults(handler=lambda args: _cmd_delete(args, client_for))

    export = verbs.add_parser(
        "export", help="Write every matching episode as JSON Lines (all fields, artifact URLs)."
    )
    export.add_argument("--status", choices=("recording", "ready", "failed"))
    export.add_argument("--source", choices=("real", "sim", "replay"))
    export.add_argument("--q", metavar="TEXT", help="A fragment of name, robot, policy version or git sha.")
    export.add_argument("--policy-version", metavar="VERSION")
    export.add_argument("--robot", metavar="ROBOT")
    export.add_argument("--created-after", metavar="TIME", type=_iso_time, help="ISO 8601 time with offset.")
    export.add_argument("--created-before", metavar="TIME", type=_iso_time, help="ISO 8601 time with offset.")
    export.add_argument("--out", metavar="FILE", help="Write to this file instead of stdout.")
    export.add_argument(
        "--artifacts-dir", metavar="DIR", help="Download each artifact to DIR/<episode_id>/<kind><ext>."
    )
    _profile(export)
    export.set_defaults(handler=lambda args: _cmd_export(args, client_for))


def _profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="default", help="Credentials profile (default: 'default').")


def _iso_time(value: str) -> str:
    if not _ISO_TIME.match(value.strip()):
        raise argparse.ArgumentTypeError("expected an ISO 8601 time with offset, e.g. 2026-11-24T10:00:00Z")
    return value.strip()


def _cmd_delete(args: argparse.Namespace, client_for: ClientFor) -> int:
    ids: list[str] = args.ids
    try:
        client = client_for(args.profile)
    except (device.CliError, ConfigurationError) as exc:
        return term.err(str(exc))
    if not args.yes and _stdin_is_tty() and not _confirmed(ids):
        return term.err("nothing deleted")
    failed = 0
    with client:
        for episode_id in ids:
            try:
                line = deleted_line(
                    client.delete_episode(episode_id, unlink_references=args.unlink_references)
                )
            except NotFoundError:
                line = f"not found {episode_id}"
            except ConflictError as exc:
                if exc.code != "episode_referenced":
                    return term.err(str(exc))
                line = referenced_line(episode_id, exc.details)
            except RobotraceError as exc:  # auth, network, 5xx: every other id would fail the same way
                return term.err(str(exc))
            if not line.startswith("deleted"):
                failed += 1
            print(line, flush=True)
    if failed:
        return term.err(f"{failed} of {len(ids)} not deleted")
    return 0


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _confirmed(ids: list[str]) -> bool:
    what = f"episode {ids[0]} and its" if len(ids) == 1 else f"{len(ids)} episodes and their"
    try:
        answer = input(f"Delete {what} artifacts? This cannot be undone [y/N]: ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _cmd_export(args: argparse.Namespace, client_for: ClientFor) -> int:
    try:
        client = client_for(args.profile)
    except (device.CliError, ConfigurationError) as exc:
        return term.err(str(exc))
    with client:
        try:
            with _sink(args.out) as out:
                episodes, files = _write_export(client, args, out)
        except (RobotraceError, OSError) as exc:
            return term.err(str(exc))
    where = f" to {args.out}" if args.out else ""
    downloaded = f", {files} artifacts downloaded to {args.artifacts_dir}" if args.artifacts_dir else ""
    print(f"exported {episodes} episode{'' if episodes == 1 else 's'}{where}{downloaded}", file=sys.stderr)
    return 0


def _write_export(client: Client, args: argparse.Namespace, out: IO[str]) -> tuple[int, int]:
    """Each exported episode as one compact JSON line (its files downloaded first); (episodes, files)."""
    episodes = files = 0
    exported = client.export_episodes(
        status=args.status,
        source=args.source,
        q=args.q,
        policy_version=args.policy_version,
        robot=args.robot,
        created_after=args.created_after,
        created_before=args.created_before,
    )
    for episode in _read_first(exported) if args.artifacts_dir else exported:
        if args.artifacts_dir:
            for artifact in episode.get("artifacts") or []:
                path = client.download_artifact(episode.get("id", ""), artifact, args.artifacts_dir)
                artifact["local_path"] = str(path)
                files += 1
        out.write(json.dumps(episode, separators=(",", ":"), ensure_ascii=False) + "\n")
        episodes += 1
    return episodes, files


def _read_first(episodes: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The whole export read off the connection into a temp file first, then handed out: downloading between
    lines would otherwise hold the server's stream open (and a database read with it) for as long as every
    download takes."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for episode in episodes:
            spool.write(json.dumps(episode, separators=(",", ":"), ensure_ascii=False) + "\n")
        spool.seek(0)
        for line in spool:
            value: dict[str, Any] = json.loads(line)
            yield value


@contextlib.contextmanager
def _sink(out: str | None) -> Iterator[IO[str]]:
    """stdout, or ``out`` written beside itself and renamed when complete: a failed export leaves no
    half-written file behind (what reached stdout stays printed)."""
    if out is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as fh:
            yield fh
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
