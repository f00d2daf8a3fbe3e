"""The ``Episode`` handle and its upload slots (implemented in ``robotrace._episode``)."""

from ._episode import Episode, UploadUrl
from ._payload import ArtifactKind, EpisodeFinalStatus, kind_from_extension

__all__ = ["ArtifactKind", "Episode", "EpisodeFinalStatus", "UploadUrl", "kind_from_extension"]
