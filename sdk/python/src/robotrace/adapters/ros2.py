"""ROS 2: a rosbag2 recording (sqlite3 or mcap storage) becomes an episode.

::

    from robotrace.adapters import ros2

    print(ros2.scan_bag("run_2026-05-08/").report())            # topics, counts, slots; writes nothing
    ros2.encode_bag("run_2026-05-08/", "out/")                   # video.mp4, sensors.npz, actions.npz
    ros2.upload_bag("run_2026-05-08/", policy_version="pap-v3.2.1")

Camera topics (``sensor_msgs/Image``, ``CompressedImage``) become the video, side by side when there are
several (``canonical_video_topic`` picks one); JointState, Imu, BatteryState, Pose / PoseStamped, Odometry
go to ``sensors.npz``; Twist / Wrench and ``cmd_*`` / ``command`` topics to ``actions.npz``. Pass
``video_topics=`` / ``sensor_topics=`` / ``action_topics=`` to choose (``[]`` leaves a slot out). Topics keep
their names (``/joint_states/position``) and the bag's absolute timestamps (``/joint_states/_t_ns``); a topic
of another type is skipped and listed in ``metadata["skipped_topics"]``. Install with
``pip install 'robotrace-dev[ros2,video]'``.

Live capture, with rclpy from a sourced ROS 2 installation: the topics are written to a bag while the
block runs, and the bag is uploaded as one episode when it ends::

    with ros2.record(topics=["/camera/image_raw", "/joint_states", "/cmd_vel"], name="warmup") as rec:
        drive_the_robot()
    print(rec.episode.url)
"""

from __future__ import annotations

from .._adapters.ros2_bag import BagArtifact as EncodedArtifact
from .._adapters.ros2_bag import EncodedBag, encode_bag, upload_bag
from .._adapters.ros2_record import LiveRecording, record
from .._adapters.ros2_topics import BagSummary, TopicClass, TopicInfo, classify_topic, scan_bag

__all__ = [
    "BagSummary",
    "EncodedArtifact",
    "EncodedBag",
    "LiveRecording",
    "TopicClass",
    "TopicInfo",
    "classify_topic",
    "encode_bag",
    "record",
    "scan_bag",
    "upload_bag",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
# The private class is this module's EncodedArtifact: named so in reprs and findable by pickle.
EncodedArtifact.__name__ = EncodedArtifact.__qualname__ = "EncodedArtifact"
del _name
