"""On the bare install (httpx alone) every adapter module imports, and using one raises an ImportError that
names the extra to install. Run in a fresh interpreter where the adapters' libraries cannot be imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_BLOCK = """
import importlib.abc, sys

class Blocked(importlib.abc.MetaPathFinder):
    # What an environment without the optional libraries looks like to import.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "gymnasium", "h5py", "pyarrow", "rosbags", "av", "rclpy"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocked())
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _BLOCK + textwrap.dedent(code)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_adapter_imports_without_its_libraries() -> None:
    out = _run(
        """
        import robotrace as rt
        from robotrace.adapters import gymnasium, hdf5, lerobot, ros2
        assert "numpy" not in sys.modules
        print(ros2.classify_topic("/imu", "sensor_msgs/msg/Imu").slot, hdf5.classify_dataset("actions").slot)
        """
    )
    assert out.split() == ["sensors", "actions"]


@pytest.mark.parametrize(
    ("call", "extra"),
    [
        ("gymnasium.scan_env(object())", "gymnasium"),
        ("hdf5.scan_file('demo.hdf5')", "hdf5"),
        ("lerobot.scan_dataset('.')", "lerobot"),
        ("ros2.scan_bag('.')", "ros2"),
        ("ros2.upload_bag('/no/such/bag')", "ros2"),
        ("hdf5.encode_episode('/no/such.hdf5', 'out')", "hdf5"),
    ],
)
def test_using_an_adapter_names_its_extra(call: str, extra: str) -> None:
    out = _run(
        f"""
        import os, tempfile
        from robotrace.adapters import gymnasium, hdf5, lerobot, ros2
        import robotrace as rt
        folder = tempfile.mkdtemp()
        os.chdir(folder)
        open("demo.hdf5", "wb").close()
        os.makedirs("meta"); open("meta/info.json", "w").write('{{"codebase_version": "v3.0"}}')
        try:
            {call}
        except ImportError as exc:
            assert isinstance(exc, rt.ConfigurationError)
            print(exc)
        """
    )
    assert f"pip install 'robotrace-dev[{extra}]'" in out
