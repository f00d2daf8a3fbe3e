"""Reads the credentials file (``~/.robotrace/credentials``, TOML, one table per profile).

Parsed with ``tomllib`` (Python 3.11+) or its backport ``tomli`` (3.9/3.10), so whatever a TOML editor or
the CLI writes (comments after a table header included) reads the same on every Python. A missing,
unreadable or malformed file reads as empty: configuration errors then name what is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def read_profile(path: Path, profile: str) -> dict[str, str]:
    """The string values of one profile's table; {} when the file or the table is absent or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    try:
        tables: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    table = tables.get(profile)
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(v, str)}
