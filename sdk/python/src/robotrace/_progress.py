"""A one-line upload progress bar, drawn only for large files on an interactive terminal."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

# Small files finish before a bar would be readable; it would only flicker.
MIN_BYTES_FOR_BAR = 8 * 1024 * 1024
_WIDTH = 24
_MIB = 1024 * 1024


class ProgressBar:
    def __init__(self, label: str, total: int, stream: TextIO) -> None:
        self._label = label
        self._total = max(total, 1)
        self._stream = stream
        self._last_draw = 0.0

    def __call__(self, sent: int) -> None:
        now = time.monotonic()
        if sent < self._total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        frac = min(sent / self._total, 1.0)
        filled = int(frac * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        end = "\n" if sent >= self._total else ""
        try:
            self._stream.write(
                f"\r[robotrace] {self._label} [{bar}] {frac:4.0%} "
                f"{sent / _MIB:.1f}/{self._total / _MIB:.1f} MiB{end}"
            )
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken terminal must not fail the upload
            pass


def progress_for(label: str, total: int, quiet: bool) -> Callable[[int], None] | None:
    stream = sys.stderr
    if quiet or total < MIN_BYTES_FOR_BAR:
        return None
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    return ProgressBar(label, total, stream) if interactive else None
