"""What the server made of an adapter's upload: the replay tracks it indexed, a video that decodes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import numpy as np

from .api import Api


def npz_tracks(path: Path) -> dict[str, tuple[int, bool]]:
    """`<topic>/<field>` → sample count of every numeric member of an NPZ (`_t_ns` is time, not a track)."""
    out: dict[str, tuple[int, bool]] = {}
    with np.load(path, allow_pickle=False) as archive:
        for name in archive.files:
            field = name.rsplit("/", 1)[-1]
            if field.startswith("_"):
                continue
            array = archive[name]
            if array.dtype.kind in "biuf":
                finite = array.dtype.kind != "f" or bool(np.isfinite(array).all())
                out[name] = (int(array.shape[0]), finite)
    return out


def assert_tracks_served(api: Api, episode_id: str, folder: Path, *, absolute: bool) -> None:
    """Every numeric member of the written sensors/actions NPZ is listed by the server with its sample count
    and time base; the only notes are for values that are not finite."""
    listed = api.tracks(episode_id)
    assert listed["warnings"] == [], listed["warnings"]
    tracks: dict[str, Any] = {}
    for track in listed["tracks"]:
        # A name in both files is listed as `actions:<name>` for the actions one.
        tracks[track["name"].removeprefix("actions:")] = track
    expected = {**npz_tracks(folder / "sensors.npz"), **npz_tracks(folder / "actions.npz")}
    assert expected, "the adapter wrote no numeric member"
    assert set(tracks) == set(expected), (sorted(tracks), sorted(expected))
    for name, (samples, finite) in expected.items():
        assert tracks[name]["samples"] == samples, name
        assert tracks[name]["absolute_time"] is absolute, name
        # A NaN in the file (ROS leaves BatteryState.capacity NaN when unknown) is drawn as gaps, with a note.
        notes = tracks[name]["warnings"]
        assert notes == [] if finite else any("NaN" in n for n in notes), (name, notes)
    assert (listed["origin_ns"] is not None) is absolute


def assert_video_plays(data: bytes) -> int:
    """The served video decodes: at least one frame comes out of its first video stream; the frame count."""
    frames = 0
    with av.open(io.BytesIO(data)) as container:
        for _ in container.decode(video=0):
            frames += 1
    assert frames > 0, "no frame decoded"
    return frames
