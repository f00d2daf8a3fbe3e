"""The files an adapter writes (``video.mp4``, ``sensors.npz``, ``actions.npz``) and the NPZ layout of
OFFICIAL_PILLARS.md §5: ``"<topic>/<field>"`` arrays with the step on axis 0, plus ``"<topic>/_t_ns"``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._payload import ArtifactKind

NS_PER_S = 1_000_000_000


@dataclass
class EncodedArtifact:
    """One written file, ready to upload into ``slot``."""

    slot: ArtifactKind
    path: Path
    bytes_size: int


def artifact(slot: ArtifactKind, path: Path) -> EncodedArtifact:
    return EncodedArtifact(slot=slot, path=path, bytes_size=path.stat().st_size)


def write_npz(np: Any, slot: ArtifactKind, path: Path, arrays: Mapping[str, Any]) -> EncodedArtifact | None:
    """``arrays`` as an uncompressed NPZ (what the official adapters write), or None when there are none.

    Object arrays are refused: reading them back needs pickle, which no reader of ours will do.
    """
    if not arrays:
        return None
    for key, value in arrays.items():
        if value.dtype == object:
            raise ValueError(f"{key}: object arrays cannot be written (they would need pickle to read)")
    np.savez(path, **arrays)
    return artifact(slot, path)


def steady_times_ns(np: Any, steps: int, fps: float) -> Any:
    """int64 times of ``steps`` evenly spaced steps from 0, ``1/fps`` apart (the relative time base)."""
    return np.arange(steps, dtype=np.int64) * np.int64(int(NS_PER_S / fps))


def prepare_dir(output_dir: str | Path) -> Path:
    out = Path(output_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    return out
