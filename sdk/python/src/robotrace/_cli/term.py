"""Terminal output: light styling and clickable links on a capable terminal, plain text everywhere else
(pipes, CI logs, ``NO_COLOR``, ``TERM=dumb``)."""

from __future__ import annotations

import os
import sys


def _tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def ansi() -> bool:
    """SGR styling: a terminal, not ``TERM=dumb``, no ``NO_COLOR``."""
    if os.environ.get("NO_COLOR", "").strip() or not _tty():
        return False
    return os.environ.get("TERM", "").lower() not in ("", "dumb")


def _osc8() -> bool:
    if not _tty():
        return False
    term = os.environ.get("TERM", "").lower()
    if term in ("", "dumb"):
        return False
    return any(t in term for t in ("xterm", "screen", "tmux")) or bool(os.environ.get("TERM_PROGRAM"))


def link(url: str) -> str:
    """The URL, clickable (OSC 8) where the terminal is known to render it."""
    return f"\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\" if _osc8() else url


def _sgr(code: str, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if ansi() else text


def bold(text: str) -> str:
    return _sgr("1", text)


def dim(text: str) -> str:
    return _sgr("2", text)


def green(text: str) -> str:
    return _sgr("32", text)


def status_line(text: str) -> None:
    """Rewrite the current terminal line (a waiting indicator); nothing when stdout is not a terminal."""
    if _tty():
        sys.stdout.write(f"\r\033[K{text}")
        sys.stdout.flush()


def err(message: str) -> int:
    """Print ``Error: <message>`` on stderr; the exit code 1."""
    print(f"\nError: {message}", file=sys.stderr)
    return 1
