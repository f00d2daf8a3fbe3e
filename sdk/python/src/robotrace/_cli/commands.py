"""``robotrace`` subcommands: ``login`` (device flow), ``whoami``, ``logout``, ``version``, ``replay run``,
``verify check`` (and ``episodes delete|export`` from ``episodes.py``). Output and exit codes follow the
official 0.3.0 CLI: 0 on success, 1 when the command failed (``Error: <one line>`` on stderr), 2 for a usage
error (argparse)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import webbrowser
from collections.abc import Sequence
from typing import Any, Callable, NoReturn, cast

from .. import _spool_cli as spool_commands
from .._client import Client
from .._errors import ConfigurationError, RobotraceError
from .._evals import runner as evals
from .._evals.model import EvalResult, PolicyCallable
from .._settings import ENV_API_KEY, ENV_BASE_URL
from .._verify import check_gate, run_check
from .._version import __version__
from . import device, term
from . import episodes as episode_commands
from .credentials import (
    DEFAULT_PROFILE,
    StoredCredentials,
    credentials_path,
    delete_credentials,
    read_credentials,
    write_credentials,
)

# No hosted default: a self-hosted server has its own URL (--base-url or ROBOTRACE_BASE_URL).
DEFAULT_BASE_URL: str | None = None
_SUMMARY_METRICS = ("success_rate", "reward_mean", "collision_rate", "time_to_goal_s", "ood_action_share")


def cli_main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: the process's arguments); returns the exit code."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def main() -> NoReturn:
    """The ``robotrace`` console script."""
    sys.exit(cli_main())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="robotrace", description="RoboTrace command-line interface - log in, check who you are, log out."
    )
    parser.add_argument("--version", action="version", version=f"robotrace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    login = sub.add_parser("login", help="Authorize this machine via the browser and save credentials.")
    login.add_argument(
        "--base-url",
        default=None,
        help="RoboTrace server URL. Defaults to $ROBOTRACE_BASE_URL, else the profile's.",
    )
    _profile(login, "Profile name to write credentials under (default: 'default').")
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="Print the URL but don't try to open a browser automatically.",
    )
    login.add_argument(
        "--force",
        action="store_true",
        help="Start a new browser login even if this profile is already saved.",
    )
    login.set_defaults(handler=_cmd_login)

    whoami = sub.add_parser("whoami", help="Print the email and base URL of the currently saved login.")
    _profile(whoami)
    whoami.add_argument(
        "--json", action="store_true", help="Emit the credentials profile as JSON (no plaintext key)."
    )
    whoami.set_defaults(handler=_cmd_whoami)

    logout = sub.add_parser("logout", help="Forget the saved credentials on this machine.")
    _profile(logout)
    logout.add_argument(
        "--revoke",
        action="store_true",
        help="Also revoke the API key on the server before deleting the local credentials.",
    )
    logout.set_defaults(handler=_cmd_logout)

    version = sub.add_parser("version", help="Print the SDK version and exit.")
    version.set_defaults(handler=_cmd_version)

    replay = sub.add_parser(
        "replay", help="Replay regression harness - re-roll a candidate policy against history."
    )
    replay_sub = replay.add_subparsers(dest="replay_command", metavar="<verb>", required=True)
    run = replay_sub.add_parser("run", help="Re-roll a candidate policy against a set of baseline episodes.")
    _policy(run, required=True, help="Import path of the policy callable (observation dict -> action dict).")
    run.add_argument(
        "--candidate-version", required=True, metavar="VERSION", help="The candidate policy's version."
    )
    run.add_argument(
        "--baseline-episodes",
        required=True,
        nargs="+",
        metavar="ID",
        help="Baseline episode ids, inline or @file (one id a line, # comments).",
    )
    run.add_argument(
        "--baseline-version", default=None, metavar="VERSION", help="The baselines' policy version."
    )
    run.add_argument("--name", default=None, metavar="LABEL", help="Label for the eval run.")
    run.add_argument(
        "--dry-run", action="store_true", help="Run the policy and print metrics; upload nothing."
    )
    _profile(run, "Credentials profile to authenticate with (default: 'default').")
    run.set_defaults(handler=_cmd_replay_run)

    verify = sub.add_parser("verify", help="Regression verification scenarios - mandatory replay gates.")
    verify_sub = verify.add_subparsers(dest="verify_command", metavar="<verb>", required=True)
    check = verify_sub.add_parser(
        "check", help="Replay critical scenarios for a candidate and evaluate the gate."
    )
    check.add_argument(
        "--candidate",
        required=True,
        dest="candidate_version",
        metavar="VERSION",
        help="Candidate policy version.",
    )
    _policy(check, required=False, help="Policy callable to replay scenarios that have not passed yet.")
    check.add_argument("--dry-run", action="store_true", help="Replay locally without uploading results.")
    _profile(check, "Credentials profile to authenticate with (default: 'default').")
    check.set_defaults(handler=_cmd_verify_check)
    spool_commands.register(sub)  # `sync`, `spool status` (background delivery, spec/SPOOL.md)
    episode_commands.register(sub, _client_for)  # `episodes delete|export` (data lifecycle)
    return parser


def _profile(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument("--profile", default=DEFAULT_PROFILE, help=help)


def _policy(parser: argparse.ArgumentParser, *, required: bool, help: str) -> None:
    parser.add_argument("--policy", required=required, default=None, metavar="MODULE:FN", help=help)


def _cmd_version(args: argparse.Namespace) -> int:
    print(f"robotrace {__version__}")
    return 0


# ── login / whoami / logout ───────────────────────────────────────────────


def _normalize(url: str) -> str:
    return url.strip().rstrip("/")


def _login_base_url(explicit: str | None, profile: str) -> str:
    saved = read_credentials(profile=profile)
    raw = explicit or os.environ.get(ENV_BASE_URL) or (saved.base_url if saved else None) or DEFAULT_BASE_URL
    if not raw or not raw.strip():
        raise device.CliError(f"No RoboTrace server URL: pass --base-url <url> or set {ENV_BASE_URL}.")
    url = _normalize(raw)
    if not url.startswith(("http://", "https://")):
        raise device.CliError(f"The server URL must start with http:// or https://, got {url!r}.")
    return url


def _cmd_login(args: argparse.Namespace) -> int:
    profile: str = args.profile
    try:
        base_url = _login_base_url(args.base_url, profile)
    except device.CliError as exc:
        return term.err(str(exc))
    if not args.force:
        existing = read_credentials(profile=profile)
        if existing is not None:
            if _normalize(existing.base_url).lower() == base_url.lower():
                return _already_signed_in(existing, profile)
            print(
                f"Profile '{profile}' is logged in to {existing.base_url!r} "
                f"({existing.user_email or 'unknown user'}).\n"
                f"You asked to sign in to {base_url!r} - continuing will replace those credentials.",
                file=sys.stderr,
            )
    print()
    print(term.bold("Welcome to RoboTrace!"))
    print(f"{term.bold('RoboTrace')} {term.dim('- sign in via your browser')}")
    print(f"{term.dim(base_url)}\n")
    try:
        started = device.start_session(base_url)
    except device.CliError as exc:
        return term.err(str(exc))
    verification = started.get("verification_uri_complete") or started["verification_uri"]
    print(term.dim("Verification link (already includes your user code):"))
    print(f"  {term.link(str(verification))}\n")
    if args.no_browser:
        print(term.dim("Open the link above in a trusted browser (--no-browser mode)."))
    else:
        print(term.dim("Opening your default browser…"))
    print(term.dim("If nothing opens, copy the verification link above.\n"))
    print(term.dim("Confirm this matches the page before Authorize"))
    print(f"  {term.bold(str(started['user_code']))}\n")
    sys.stdout.flush()
    if not args.no_browser:
        # A headless machine has no browser: the link is printed above.
        with contextlib.suppress(Exception):
            webbrowser.open(str(verification))
    try:
        approved = device.poll_until_resolved(
            base_url,
            str(started["device_code"]),
            device.poll_interval(started.get("interval"), device.DEFAULT_POLL_INTERVAL_S),
        )
    except device.CliError as exc:
        return term.err(str(exc))
    answered_url = approved.get("base_url")
    creds = StoredCredentials(
        api_key=str(approved["api_key"]),
        base_url=_normalize(answered_url)
        if isinstance(answered_url, str) and answered_url.strip().startswith(("http://", "https://"))
        else base_url,
        client_id=_text(approved.get("client_id")),
        user_email=_text(approved.get("user_email")),
    )
    try:
        saved = write_credentials(creds, profile=profile)
    except (OSError, ConfigurationError) as exc:
        return term.err(f"Could not save the credentials: {exc}")
    print()
    print(f"{term.green('✓ Signed in')} as {term.bold(creds.user_email or 'your account')}.")
    print(term.dim(f"  Credentials · {saved}"))
    print(term.dim(f"  Profile · {profile}"))
    portal = _text(approved.get("portal_url")) or f"{creds.base_url}/portal"
    print(f"{term.dim('  Portal · ')}{term.link(portal)}")
    return 0


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _already_signed_in(creds: StoredCredentials, profile: str) -> int:
    print()
    print(f"{term.green('✓ Already signed in')} as {term.bold(creds.user_email or 'your account')}.")
    print(term.dim(f"  Base URL · {creds.base_url}"))
    print(term.dim(f"  Profile · {profile}"))
    print(term.dim(f"  Credentials · {credentials_path()}"))
    print(f"{term.dim('  Portal · ')}{term.link(_normalize(creds.base_url) + '/portal')}")
    print()
    print(term.dim("Run `robotrace login --force` to authorize again (mints a new key)."))
    print(term.dim("Run `robotrace logout` first if you want to drop this machine's credentials."))
    return 0


def _cmd_whoami(args: argparse.Namespace) -> int:
    creds = read_credentials(profile=args.profile)
    if creds is None:
        print(
            f"Not logged in (profile: {args.profile}).\nRun `robotrace login` to authorize this machine.",
            file=sys.stderr,
        )
        return 1
    if args.json:  # never the key itself
        print(
            json.dumps(
                {
                    "profile": args.profile,
                    "base_url": creds.base_url,
                    "user_email": creds.user_email,
                    "client_id": creds.client_id,
                    "written_at": creds.written_at,
                    "credentials_path": str(credentials_path()),
                },
                indent=2,
            )
        )
        return 0
    print(f"Profile:    {args.profile}")
    print(f"User:       {creds.user_email or 'unknown'}")
    print(f"Client ID:  {creds.client_id or 'unknown'}")
    print(f"Base URL:   {creds.base_url}")
    if creds.written_at:
        print(f"Saved at:   {creds.written_at}")
    print(f"File:       {credentials_path()}")
    return 0


def _cmd_logout(args: argparse.Namespace) -> int:
    """Local only without ``--revoke``; with it, revoke on the server first, then delete locally whatever
    the server said (exit 1 when the revocation failed: the key may still work)."""
    revoke_failed = False
    if args.revoke:
        creds = read_credentials(profile=args.profile)
        if creds is None:
            print(
                f"No saved credentials for profile '{args.profile}' - nothing to revoke on the server. "
                "Removing local file if present…",
                file=sys.stderr,
            )
        else:
            ok, prefix, note = device.revoke_key(creds.api_key, _normalize(creds.base_url))
            label = prefix or "the saved key"
            if ok:
                print(f"✓ {label}: {note}." if note else f"✓ Revoked {label} server-side.")
            else:
                revoke_failed = True
                print(f"⚠ Could not revoke the key server-side: {note}", file=sys.stderr)
                print(
                    "  Local credentials will still be removed. If you suspect the key has leaked, revoke it "
                    "manually from Portal → API keys.",
                    file=sys.stderr,
                )
    try:
        removed = delete_credentials(profile=args.profile)
    except OSError as exc:
        return term.err(f"Could not update {credentials_path()}: {exc}")
    if not removed:
        print(f"No saved credentials found for profile '{args.profile}'.", file=sys.stderr)
        return 1
    print(f"✓ Removed profile '{args.profile}' from {credentials_path()}.")
    if not args.revoke:
        print(
            "Note: the API key minted for that login is still valid until you revoke it from the portal → "
            "API keys, or run `robotrace logout --revoke` next time."
        )
    return 1 if revoke_failed else 0


# ── replay run / verify check ─────────────────────────────────────────────


def _client_for(profile: str) -> Client:
    """The profile's credentials; without them (the default profile) the environment's key and URL."""
    creds = read_credentials(profile=profile)
    if creds is not None:
        return Client(api_key=creds.api_key, base_url=creds.base_url, verbose=False, delivery="blocking")
    if profile == DEFAULT_PROFILE and os.environ.get(ENV_API_KEY) and os.environ.get(ENV_BASE_URL):
        return Client(verbose=False, delivery="blocking")
    raise device.CliError(f"Not logged in (profile: {profile}).\nRun `robotrace login` first.")


def import_callable(spec: str) -> Callable[..., Any]:
    """``module.path:attr.path`` → the callable it names (the current directory is importable)."""
    module_path, sep, attr_path = spec.partition(":")
    if not sep:
        raise device.CliError(f"--policy must be of the form 'module:fn', got {spec!r}.")
    if not module_path or not attr_path:
        raise device.CliError(f"--policy must be 'module:fn'; both halves required, got {spec!r}.")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: object = importlib.import_module(module_path)
    except ImportError as exc:
        raise device.CliError(
            f"Could not import module {module_path!r}: {exc}. Is it on PYTHONPATH for this shell?"
        ) from exc
    except Exception as exc:
        raise device.CliError(f"Importing {module_path!r} failed: {type(exc).__name__}: {exc}") from exc
    for piece in attr_path.split("."):
        try:
            target = getattr(target, piece)
        except AttributeError as exc:
            raise device.CliError(
                f"Module {module_path!r} has no attribute path {attr_path!r}: {exc}"
            ) from exc
    if not callable(target):
        raise device.CliError(f"Policy {spec!r} resolved to a non-callable ({type(target).__name__}).")
    return cast(Callable[..., Any], target)


def resolve_baseline_ids(raw: Sequence[str]) -> list[str]:
    """Inline ids, and ``@file`` arguments expanded to their lines (without blanks and ``#`` comments)."""
    ids: list[str] = []
    for token in raw:
        if not token.startswith("@"):
            if token.strip():
                ids.append(token.strip())
            continue
        path = token[1:]
        try:
            with open(path, encoding="utf-8") as fh:
                ids.extend(s for s in (line.strip() for line in fh) if s and not s.startswith("#"))
        except OSError as exc:
            raise device.CliError(f"--baseline-episodes {token}: could not read {path!r}: {exc}") from exc
    return ids


def _cmd_replay_run(args: argparse.Namespace) -> int:
    try:
        policy = cast(PolicyCallable, import_callable(args.policy))
        baseline_ids = resolve_baseline_ids(args.baseline_episodes)
        if not baseline_ids:
            raise device.CliError("--baseline-episodes resolved to an empty list.")
        evals.numpy()  # before anything is opened on the server
        client = _client_for(args.profile)
    except (device.CliError, ConfigurationError) as exc:
        return term.err(str(exc))
    print(
        f"Replay run: candidate={args.candidate_version} baseline={args.baseline_version or 'mixed'} "
        f"episodes={len(baseline_ids)}"
    )
    if args.dry_run:
        print("Dry-run mode: per-episode results will NOT be uploaded.")
    with client:
        try:
            run = evals.create_run(
                candidate_policy_version=args.candidate_version,
                baseline_policy_version=args.baseline_version,
                baseline_episode_ids=baseline_ids,
                name=args.name,
                client=client,
            )
        except RobotraceError as exc:
            return term.err(f"Failed to open eval run: {exc}")
        portal = f"{client.base_url}/portal/evals/{run.id}"
        print(f"✓ Eval run created: {run.id}")
        print(f"  Portal: {term.link(portal)}\n")

        def on_episode(result: EvalResult) -> None:
            done = run.episodes_completed + run.episodes_failed
            tag = "✓" if result.status == "complete" else "✗"
            candidate = f"→ {result.candidate_episode_id[:8]}" if result.candidate_episode_id else ""
            line = f"  {tag} [{done}/{len(baseline_ids)}] {result.baseline_episode_id[:8]} {candidate} "
            print((line + (result.error or "")).rstrip())
            sys.stdout.flush()

        try:
            results = evals.run_against(
                run, policy_callable=policy, on_episode=on_episode, dry_run=args.dry_run
            )
        except RobotraceError as exc:
            return term.err(f"Replay loop failed: {exc}")
        if args.dry_run:
            print(f"\nDry-run complete: {run.episodes_completed} complete, {run.episodes_failed} failed.")
            return 0 if run.episodes_failed == 0 else 1
        try:
            answer = evals.complete_run(run, client=client)
        except RobotraceError as exc:
            return term.err(f"Finalize failed: {exc}")
        print_summary(answer.get("summary"))
        print(f"\nView in portal: {term.link(portal)}")
        return 0 if all(r.status == "complete" for r in results) else 1


def _cmd_verify_check(args: argparse.Namespace) -> int:
    try:
        policy = cast(PolicyCallable, import_callable(args.policy)) if args.policy else None
        client = _client_for(args.profile)
    except (device.CliError, ConfigurationError) as exc:
        return term.err(str(exc))
    with client:
        try:
            if policy is not None:
                print(f"Verify check: candidate={args.candidate_version} policy={args.policy}")
                if args.dry_run:
                    print("Dry-run mode: verification results will NOT be uploaded.")
                code, gate = run_check(
                    candidate_policy_version=args.candidate_version,
                    policy_callable=policy,
                    dry_run=args.dry_run,
                    client=client,
                )
            else:
                print(f"Verify gate: candidate={args.candidate_version}")
                gate = check_gate(candidate_policy_version=args.candidate_version, client=client)
                code = 0 if gate.get("passed") else 1
        except RobotraceError as exc:
            return term.err(str(exc))
        tag = "✓ PASS" if gate.get("passed") else "✗ BLOCKED"
        print(
            f"\n{tag}: {gate.get('critical_passed', 0)}/{gate.get('critical_total', 0)} "
            "critical scenarios pass "
            f"({gate.get('critical_failed', 0)} failed, {gate.get('critical_pending', 0)} pending)"
        )
        for blocker in gate.get("blockers") or []:
            print(f"  · {blocker}")
        print(f"\nView scenarios: {term.link(client.base_url + '/portal/verify')}")
        return code


def print_summary(summary: object) -> None:
    """The finalize answer's summary as a small table, then ``Recommend: ship (b/t metrics better)``."""
    if not isinstance(summary, dict):
        print("\n(no summary returned)")
        return
    print("\nSummary:")
    for key in _SUMMARY_METRICS:
        metric = summary.get(key)
        if not isinstance(metric, dict):
            continue
        better = metric.get("delta_is_better")
        sign = " " if better is None else ("✓" if better else "✗")
        print(
            f"  {sign} {key:<20} baseline={_fmt(metric.get('baseline')):>10}  "
            f"candidate={_fmt(metric.get('candidate')):>10}  Δ={_fmt(metric.get('delta'), signed=True):>10}"
        )
    if summary.get("recommend"):
        print(
            f"\nRecommend: {summary['recommend']}  "
            f"({summary.get('better_count')}/{summary.get('metric_total')} metrics better)"
        )


def _fmt(value: object, *, signed: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{float(value):+.3f}" if signed else f"{float(value):.3f}"
    return str(value)
