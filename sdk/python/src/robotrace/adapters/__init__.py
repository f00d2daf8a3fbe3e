"""Adapters: robotics recordings and rollouts into RoboTrace episodes.

Each is imported on its own (``from robotrace.adapters import ros2``) and loads its libraries only when used;
a missing one raises an ``ImportError`` naming the extra to install:

* ``gymnasium`` - one env rollout with a policy (``[gymnasium]``, video with ``[video]``)
* ``ros2`` - rosbag2 recordings, sqlite3 and mcap (``[ros2]``)
* ``hdf5`` - robomimic and ALOHA demonstration files (``[hdf5]``)
* ``lerobot`` - LeRobot datasets in a local folder, v2.x and v3 (``[lerobot]``)

Every adapter has a scan step (describe, write nothing), an encode step (write ``video.mp4``,
``sensors.npz``, ``actions.npz`` into a folder, upload nothing) and an upload step (one episode per
rollout, bag or trajectory, through the SDK's client).
"""
