"""Runs in .cache/venv-official (the official robotrace-dev 0.3.0 from PyPI), never with our SDK installed.

The server launcher is shared with our SDK's integration tests; it is stdlib-only, so it is loaded by path.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_LAUNCHER = Path(__file__).resolve().parents[2] / "sdk/python/tests/support/robotrace_server.py"


def _load_launcher() -> Any:
    spec = importlib.util.spec_from_file_location("robotrace_server_launcher", _LAUNCHER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


launcher = _load_launcher()


@pytest.fixture(scope="session")
def robotrace_server() -> Iterator[Any]:
    server = launcher.start_server()
    try:
        yield server
    finally:
        server.stop()
