"""What an adapter's NPZ files hold, as JSON-friendly summaries that two SDKs' outputs can be compared by."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np


def npz_summary(path: Path) -> dict[str, Any]:
    """``{member: {"shape", "dtype", "sha256"}}``; loading refuses pickled (object) members."""
    with np.load(path, allow_pickle=False) as archive:
        return {
            name: {
                "shape": list(archive[name].shape),
                "dtype": str(archive[name].dtype),
                "sha256": hashlib.sha256(np.ascontiguousarray(archive[name]).tobytes()).hexdigest(),
            }
            for name in archive.files
        }


def load_npz(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
