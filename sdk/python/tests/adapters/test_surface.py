"""robotrace.types and robotrace.adapters.* have every public name of the official 0.3.0, with the same
parameters (names, kinds, defaults). Both are introspected by the same script, each in its own venv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..support.adapters_official import OFFICIAL_PYTHON

SCRIPT = Path(__file__).parents[1] / "support" / "adapters_surface.py"
MODULES = [
    "robotrace.types",
    "robotrace.adapters.gymnasium",
    "robotrace.adapters.hdf5",
    "robotrace.adapters.lerobot",
    "robotrace.adapters.ros2",
]
# Where ours deliberately differs; each entry says why.
DIFFERENCES: dict[str, str] = {}


def _public(parameters: list[list[str]] | None) -> list[list[str]] | None:
    """Without the private ``_name`` fields a dataclass's __init__ shows (implementation, not surface)."""
    return None if parameters is None else [p for p in parameters if not p[0].startswith("_")]


def _surface(python: Path | str) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(SCRIPT), *MODULES], capture_output=True, text=True, check=False, env={"PATH": ""}
    )
    assert done.returncode == 0, done.stderr
    surface: dict[str, Any] = json.loads(done.stdout)
    return surface


@pytest.fixture(scope="module")
def surfaces() -> tuple[dict[str, Any], dict[str, Any]]:
    return _surface(OFFICIAL_PYTHON), _surface(sys.executable)


@pytest.mark.parametrize("module", MODULES)
def test_every_official_name_with_the_same_parameters(
    module: str, surfaces: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    official, ours = surfaces[0][module], surfaces[1][module]
    missing = sorted(set(official) - set(ours))
    assert missing == [], f"{module} lacks {missing}"
    for name, theirs in official.items():
        if f"{module}.{name}" in DIFFERENCES:
            continue
        mine = ours[name]
        assert mine["kind"] == theirs["kind"], f"{module}.{name}"
        if theirs["kind"] == "function":
            assert mine["parameters"] == theirs["parameters"], f"{module}.{name}"
        elif theirs["kind"] == "class":
            assert _public(mine["init"]) == _public(theirs["init"]), f"{module}.{name}()"
            for method, parameters in theirs["methods"].items():
                assert mine["methods"].get(method) == parameters, f"{module}.{name}.{method}"


@pytest.mark.parametrize("module", MODULES[1:])
def test_public_classes_belong_to_their_public_module(module: str) -> None:
    import importlib
    import pickle

    public = importlib.import_module(module)
    artifact = public.EncodedArtifact(slot="sensors", path=Path("sensors.npz"), bytes_size=3)
    assert type(artifact).__module__ == module
    assert repr(artifact).startswith("EncodedArtifact(slot='sensors'")
    assert pickle.loads(pickle.dumps(artifact)) == artifact
