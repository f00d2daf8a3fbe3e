"""HDF5 demonstrations (robomimic, ALOHA / ACT) become episodes, one per trajectory.

::

    from robotrace.adapters import hdf5

    print(hdf5.scan_file("low_dim.hdf5", fps=20).report())       # layout, trajectories, cameras
    hdf5.encode_episode("low_dim.hdf5", "out/", episode_index=0)  # video.mp4, sensors.npz, actions.npz
    hdf5.upload_episode("episode_0.hdf5", fps=50, policy_version="act-v1")
    hdf5.upload_dataset("low_dim.hdf5", policy_version="bc-v3")   # every data/demo_N

A robomimic file holds many trajectories (``data/demo_N``: ``actions``, ``obs/*``, ``rewards``, ``dones``);
an ALOHA file is one (``/action``, ``/observations/{qpos,qvel,effort,images/<camera>}``). Datasets are routed
by ``classify_dataset``. These files keep no clock: pass ``fps`` (ALOHA 50, robomimic 20), else the file's
``control_freq`` / ``fps`` attribute is used, else 30 with ``metadata["fps_assumed"]``. The robot type and
env are recorded (``hdf5_robot_type``, ``hdf5_env``). Install with
``pip install 'robotrace-dev[hdf5,video]'``.
"""

from __future__ import annotations

from .._adapters.hdf5_episode import (
    EncodedEpisode,
    ImageColor,
    encode_episode,
    upload_dataset,
    upload_episode,
)
from .._adapters.hdf5_episode import Hdf5Artifact as EncodedArtifact
from .._adapters.hdf5_layout import DatasetClass, EpisodeRef, FileSummary, Slot, classify_dataset, scan_file

__all__ = [
    "DatasetClass",
    "EncodedArtifact",
    "EncodedEpisode",
    "EpisodeRef",
    "FileSummary",
    "ImageColor",
    "Slot",
    "classify_dataset",
    "encode_episode",
    "scan_file",
    "upload_dataset",
    "upload_episode",
]

for _name in ("DatasetClass", "EncodedArtifact", "EncodedEpisode", "EpisodeRef", "FileSummary"):
    globals()[_name].__module__ = __name__
for _name in ("classify_dataset", "encode_episode", "scan_file", "upload_dataset", "upload_episode"):
    globals()[_name].__module__ = __name__
# The private class is this module's EncodedArtifact: named so in reprs and findable by pickle.
EncodedArtifact.__name__ = EncodedArtifact.__qualname__ = "EncodedArtifact"
del _name
