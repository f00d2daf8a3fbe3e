"""The credentials file the CLI writes and every SDK reads: ``$ROBOTRACE_HOME/credentials``, else
``~/.robotrace/credentials``. The same path and format as the TypeScript CLI
(packages/sdk-ts/src/credentials.ts): TOML, one table per profile, string values ``api_key``, ``base_url``,
``client_id``, ``user_email``, ``written_at``.

Writes are atomic (a temporary file in the same directory, fsync, rename): a crash never leaves half a key.
The directory is 0700 and the file 0600. Other profiles and unknown keys of the profile are kept. A file that
is not valid TOML is never overwritten (it may hold another profile's key): writing to it raises.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError
from .._settings import credentials_path as _settings_credentials_path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEFAULT_PROFILE = "default"
_KNOWN = ("api_key", "base_url", "client_id", "user_email", "written_at")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER = "# RoboTrace credentials (written by `robotrace login`). Keep this file private."


@dataclass
class StoredCredentials:
    """One profile of the credentials file."""

    api_key: str
    base_url: str
    client_id: str | None = None
    user_email: str | None = None
    written_at: str | None = None


def credentials_path() -> Path:
    """``$ROBOTRACE_HOME/credentials``, else ``~/.robotrace/credentials``."""
    return _settings_credentials_path()


def read_credentials(*, profile: str = DEFAULT_PROFILE) -> StoredCredentials | None:
    """The profile's credentials; None when the file, the profile, its ``api_key`` or ``base_url`` is absent,
    or the file cannot be read or parsed."""
    try:
        profiles = _load(credentials_path())
    except ConfigurationError:
        return None
    table = profiles.get(profile) or {}
    api_key, base_url = table.get("api_key"), table.get("base_url")
    if not api_key or not base_url:
        return None
    return StoredCredentials(
        api_key=api_key,
        base_url=base_url,
        client_id=table.get("client_id") or None,
        user_email=table.get("user_email") or None,
        written_at=table.get("written_at") or None,
    )


def write_credentials(creds: StoredCredentials, *, profile: str = DEFAULT_PROFILE) -> Path:
    """Store ``creds`` as ``profile`` (its known keys replaced, absent ones removed); returns the path."""
    path = credentials_path()
    profiles = _load(path)
    table = {k: v for k, v in profiles.get(profile, {}).items() if k not in _KNOWN}
    values = {
        "api_key": creds.api_key,
        "base_url": creds.base_url,
        "client_id": creds.client_id,
        "user_email": creds.user_email,
        "written_at": creds.written_at or _now_iso(),
    }
    profiles[profile] = {**{k: v for k, v in values.items() if v}, **table}
    _store(path, profiles)
    return path


def delete_credentials(*, profile: str = DEFAULT_PROFILE) -> bool:
    """Remove ``profile``; True when it was there. The file goes when no profile is left (and its folder
    when nothing else is in it)."""
    path = credentials_path()
    try:
        profiles = _load(path)
    except ConfigurationError:
        return False
    if profile not in profiles:
        return False
    del profiles[profile]
    if profiles:
        _store(path, profiles)
        return True
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(OSError):  # an empty folder goes too; one holding anything else stays
        path.parent.rmdir()
    return True


def _now_iso() -> str:
    return datetime.now(tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load(path: Path) -> dict[str, dict[str, str]]:
    """Every profile with its string values; {} when there is no file. Raises when it cannot be parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the credentials file {path}: {exc}") from exc
    try:
        parsed: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"the credentials file {path} is not valid TOML ({exc}); fix or delete it"
        ) from exc
    return {
        name: {k: v for k, v in table.items() if isinstance(v, str)}
        for name, table in parsed.items()
        if isinstance(table, dict)
    }


def _store(path: Path, profiles: dict[str, dict[str, str]]) -> None:
    lines = [_HEADER]
    for name, table in profiles.items():
        lines.extend(["", f"[{name if _BARE.match(name) else _basic(name)}]"])
        lines.extend(f"{key if _BARE.match(key) else _basic(key)} = {_basic(v)}" for key, v in table.items())
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _chmod(path.parent, 0o700)
    temp = path.parent / f".credentials.{secrets.token_hex(6)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _chmod(path, 0o600)


def _chmod(path: Path, mode: int) -> None:
    # Windows or an odd file system: the user's own directory is the backstop.
    with contextlib.suppress(OSError):
        os.chmod(path, mode)


def _basic(value: str) -> str:
    """A TOML basic string (the escapes the TypeScript writer uses)."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
