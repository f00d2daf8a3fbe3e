"""LeRobot datasets in a local folder become episodes, one per trajectory.

::

    from robotrace.adapters import lerobot

    print(lerobot.scan_dataset("datasets/aloha_cups").report())          # format, fps, episodes, cameras
    lerobot.encode_episode("datasets/aloha_cups", 3, "out/")             # video.mp4, sensors.npz, actions.npz
    lerobot.upload_episode("datasets/aloha_cups", 3, policy_version="act-v1")
    lerobot.upload_dataset("datasets/aloha_cups", episode_indices=range(10))

Formats v2.x (one parquet and one mp4 per camera for each episode) and v3.x (episodes sharing parquet and mp4
files, located through ``meta/episodes``) are read from disk with pyarrow; nothing is fetched from the
Hugging Face hub (download a dataset first). ``observation.*`` columns go to sensors, ``action*`` to actions,
``next.success`` / ``next.reward`` / ``next.done`` to ``metadata["lerobot_episode_outcome"]``, and the
``observation.images.*`` cameras to the video (cut to the episode, side by side when several). Install with
``pip install 'robotrace-dev[lerobot,video]'``.
"""

from __future__ import annotations

from .._adapters.lerobot_episode import EncodedEpisode, encode_episode, upload_dataset, upload_episode
from .._adapters.lerobot_files import LerobotArtifact as EncodedArtifact
from .._adapters.lerobot_meta import (
    ColumnClass,
    DatasetSummary,
    EpisodeMeta,
    Slot,
    classify_column,
    scan_dataset,
)

__all__ = [
    "ColumnClass",
    "DatasetSummary",
    "EncodedArtifact",
    "EncodedEpisode",
    "EpisodeMeta",
    "Slot",
    "classify_column",
    "encode_episode",
    "scan_dataset",
    "upload_dataset",
    "upload_episode",
]

for _name in __all__:
    if _name != "Slot":
        globals()[_name].__module__ = __name__
# The private class is this module's EncodedArtifact: named so in reprs and findable by pickle.
EncodedArtifact.__name__ = EncodedArtifact.__qualname__ = "EncodedArtifact"
del _name
