"""Reads the credentials file (``~/.robotrace/credentials``, TOML, one table per profile).

Python 3.11+ parses it with ``tomllib``; 3.9/3.10 use the small parser below, which understands what the
CLI writes (tables, string values, comments) so the SDK needs no TOML dependency. A missing, unreadable or
malformed file reads as empty: configuration errors then name what is missing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

_TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.\"'-]+)\s*\]$")
_PAIR = re.compile(r"^([A-Za-z0-9_-]+)\s*=\s*(.+)$")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def read_profile(path: Path, profile: str) -> dict[str, str]:
    """The string values of one profile's table; {} when the file or the table is absent or unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    try:
        tables = _parse(text)
    except ValueError:
        return {}
    table = tables.get(profile)
    if not isinstance(table, dict):
        return {}
    return {k: v for k, v in table.items() if isinstance(v, str)}


def _parse(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - only exists on 3.11+

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(str(exc)) from exc
    return parse_minimal_toml(text)


def parse_minimal_toml(text: str) -> dict[str, Any]:
    """Tables of ``key = "string"`` / ``key = 'literal'`` pairs (other values skipped); raises ValueError."""
    result: dict[str, Any] = {}
    current = result
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        table = _TABLE.match(line)
        if table:
            name = table.group(1).strip("\"'")
            current = result.setdefault(name, {})
            continue
        pair = _PAIR.match(line)
        if not pair:
            raise ValueError(f"cannot parse line: {raw!r}")
        value = _string_value(pair.group(2).strip())
        if value is not None:
            current[pair.group(1)] = value
    return result


def _string_value(token: str) -> str | None:
    if token.startswith("'"):
        end = token.find("'", 1)
        if end < 0:
            raise ValueError("unterminated literal string")
        return token[1:end]
    if not token.startswith('"'):
        return None  # a number, boolean or date: not something the SDK reads
    out: list[str] = []
    i = 1
    while i < len(token):
        ch = token[i]
        if ch == '"':
            return "".join(out)
        if ch == "\\":
            i += 1
            esc = token[i : i + 1]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
            elif esc in ("u", "U"):
                width = 4 if esc == "u" else 8
                out.append(chr(int(token[i + 1 : i + 1 + width], 16)))
                i += width
            else:
                raise ValueError(f"bad escape \\{esc}")
        else:
            out.append(ch)
        i += 1
    raise ValueError("unterminated string")
