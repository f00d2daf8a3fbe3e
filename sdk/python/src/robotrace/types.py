"""Typed metadata: values with a shape the portal knows, passed straight into ``metadata=``.

::

    import robotrace as rt

    rt.log_episode(
        name="pick v3",
        metadata={
            "arm": rt.JointState(positions=[0.1, 0.2, 0.3], names=["shoulder", "elbow", "wrist"]),
            "outcome": rt.EpisodeOutcome(success=True, reward_total=12.5),
        },
    )

Each value is checked when it is built (``ValueError`` / ``TypeError``) and sent as a JSON object tagged
``"__type": "robotrace.<Name>"``; metadata on create and finalize is encoded automatically, ``encode`` is
there for other paths. Plain dicts keep working. Units: metres, radians, seconds; quaternions
``[x, y, z, w]``.
"""

from __future__ import annotations

from ._types import Battery, EpisodeOutcome, Imu, JointState, Pose3D, Twist, encode

__all__ = ["Battery", "EpisodeOutcome", "Imu", "JointState", "Pose3D", "Twist", "encode"]

# The classes are also top-level names (rt.JointState): they present themselves as robotrace's.
for _value in (Battery, EpisodeOutcome, Imu, JointState, Pose3D, Twist):
    _value.__module__ = "robotrace"
encode.__module__ = "robotrace.types"
del _value
