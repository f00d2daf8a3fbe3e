"""Surface parity with the official robotrace-dev 0.3.0: every public module, name and signature it has.

Both SDKs are introspected by the same script (tests/support/surface.py), each in its own venv, and compared
here. Code written for 0.3.0 must keep working, so for each official name ours must have the same kind, and
for each function, constructor and method every official parameter with the same name, kind and default
(positional ones at the same position). Our additions are allowed when they cannot break a call: a new
module, name or member, a new parameter with a default. Every other difference must be listed in
DIFFERENCES and in the README's "Differences from the official SDK" section; an entry that no longer matches
a difference fails too, so the list stays true.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import robotrace as rt

from ..support.adapters_official import OFFICIAL_PYTHON

SDK = Path(__file__).parents[2]
SCRIPT = SDK / "tests" / "support" / "surface.py"
README = SDK / "README.md"

# Each deliberate difference (the key names where it shows) and why; the README lists each key too.
DIFFERENCES: dict[str, str] = {
    "robotrace.__version__": "our own version number",
    "robotrace.UploadUrl(public_url)": "optional (None) here: a server need not send it",
    "robotrace.RateLimitError(status_code)": "defaults to 429, the only status it stands for",
    "robotrace.cli.DEFAULT_BASE_URL": "None: no hosted default, a self-hosted server has its own URL",
    # Names the official client.py / episode.py only import for their own use; ours export their __all__.
    "robotrace.client.ArtifactKind": "import it from robotrace or robotrace.episode",
    "robotrace.client.ConfigurationError": "import it from robotrace or robotrace.errors",
    "robotrace.client.ENV_API_KEY": "import it from robotrace",
    "robotrace.client.ENV_BASE_URL": "import it from robotrace",
    "robotrace.client.ENV_QUIET": "ROBOTRACE_QUIET is read, but no constant is exported",
    "robotrace.client.Episode": "import it from robotrace or robotrace.episode",
    "robotrace.client.EpisodeFinalStatus": "import it from robotrace or robotrace.episode",
    "robotrace.client.EpisodeSource": "import it from robotrace",
    "robotrace.client.HTTPClient": "the official SDK's private transport",
    "robotrace.client.UploadUrl": "import it from robotrace or robotrace.episode",
    "robotrace.client.capture_trace_context": "import it from robotrace",
    "robotrace.client.kind_from_extension": "import it from robotrace or robotrace.episode",
    "robotrace.client.read_credentials": "robotrace.cli.read_credentials",
    "robotrace.episode.ConfigurationError": "import it from robotrace or robotrace.errors",
}

_POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")


def _dump(python: Path | str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "", **env},
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    dump: dict[str, Any] = json.loads(done.stdout)
    return dump


@pytest.fixture(scope="module")
def dumps() -> tuple[dict[str, Any], dict[str, Any]]:
    # Ours: the robotrace this test imported (the checkout under test, whatever the venv links to).
    return _dump(OFFICIAL_PYTHON, {}), _dump(
        sys.executable, {"PYTHONPATH": str(Path(rt.__file__).parents[1])}
    )


def parameter_differences(
    where: str, theirs: list[list[str]] | None, ours: list[list[str]] | None
) -> list[str]:
    """``where(param)`` for each official parameter ours lacks or changed, ``where(+param)`` for an added
    parameter without a default; private (``_``) parameters are implementation."""
    if theirs is None or ours is None:
        return [] if theirs == ours else [f"{where}(signature)"]
    theirs = [p for p in theirs if not p[0].startswith("_")]
    ours = [p for p in ours if not p[0].startswith("_")]
    mine = {p[0]: p for p in ours}
    their_positional = [p[0] for p in theirs if p[1] in _POSITIONAL]
    our_positional = [p[0] for p in ours if p[1] in _POSITIONAL]
    found = []
    for name, kind, default in theirs:
        if mine.get(name) != [name, kind, default] or (
            kind in _POSITIONAL and our_positional.index(name) != their_positional.index(name)
        ):
            found.append(f"{where}({name})")
    found += [
        f"{where}(+{name})"
        for name, kind, default in ours
        if name not in {p[0] for p in theirs} and default == "<required>" and not kind.startswith("VAR_")
    ]
    return found


def differences(official: dict[str, Any], ours: dict[str, Any]) -> dict[str, str]:
    """Every difference that could break code written for the official SDK: {key: what}."""
    found: dict[str, str] = {}
    for module in official["modules"]:
        if module not in ours["modules"]:
            found[module] = "module missing"
    compared: set[str] = set()
    # Shorter module paths first: an object re-exported by several modules is reported where users meet it.
    for module in sorted(official["surface"], key=lambda m: (m.count("."), m)):
        mine = ours["surface"].get(module, {})
        for name, theirs in official["surface"][module].items():
            key = f"{module}.{name}"
            if name not in mine:
                found[key] = f"missing ({theirs['kind']})"
                continue
            if theirs.get("id") in compared:
                continue
            compared.add(theirs.get("id", key))
            found.update(dict.fromkeys(_described_differences(key, theirs, mine[name]), "changed"))
    return found


def _described_differences(key: str, theirs: dict[str, Any], mine: dict[str, Any]) -> list[str]:
    if theirs["kind"] != mine["kind"]:
        return [key]
    if theirs["kind"] in ("constant", "type alias", "module"):
        return [] if theirs == {**mine, "id": theirs.get("id")} or theirs == mine else [key]
    if theirs["kind"] in ("function", "callable"):
        return parameter_differences(key, theirs["parameters"], mine["parameters"])
    if theirs["kind"] == "class":
        found = parameter_differences(key, theirs["init"], mine["init"])
        for member, their_member in theirs["members"].items():
            our_member = mine["members"].get(member)
            where = f"{key}.{member}"
            if our_member is None or our_member["kind"] != their_member["kind"]:
                found.append(where)
            elif "parameters" in their_member:
                found += parameter_differences(where, their_member["parameters"], our_member["parameters"])
            elif their_member != our_member and their_member["kind"] == "attribute":
                found.append(where)
        return found
    return []


def test_every_official_module_name_and_signature(dumps: tuple[dict[str, Any], dict[str, Any]]) -> None:
    found = differences(*dumps)
    undocumented = {k: v for k, v in found.items() if k not in DIFFERENCES}
    assert undocumented == {}, "differences from robotrace-dev 0.3.0 not in DIFFERENCES (and the README)"
    stale = sorted(set(DIFFERENCES) - set(found))
    assert stale == [], f"DIFFERENCES entries that are no longer differences: {stale}"


def test_the_official_surface_was_read(dumps: tuple[dict[str, Any], dict[str, Any]]) -> None:
    official = dumps[0]
    assert {"robotrace", "robotrace.types", "robotrace.evals", "robotrace.verify", "robotrace.cli"} <= set(
        official["modules"]
    )
    assert {f"robotrace.adapters.{a}" for a in ("gymnasium", "hdf5", "lerobot", "ros2")} <= set(
        official["modules"]
    )
    assert official["surface"]["robotrace"]["__version__"] == {"kind": "constant", "value": "'0.3.0'"}
    members = official["surface"]["robotrace"]["Episode"]["members"]
    assert {"upload_video", "upload_sensors", "upload_actions"} <= set(members)  # the deprecated shims


def test_every_difference_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Differences from the official SDK\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "README.md has no '## Differences from the official SDK' section"
    section = match.group(1)
    assert [key for key in DIFFERENCES if f"`{key}`" not in section] == []


def _sig(*params: tuple[str, str, str]) -> list[list[str]]:
    return [list(p) for p in params]


KW, POS, REQ = "KEYWORD_ONLY", "POSITIONAL_OR_KEYWORD", "<required>"


@pytest.mark.parametrize(
    ("theirs", "ours", "expected"),
    [
        (_sig(("a", KW, "1")), _sig(("a", KW, "1"), ("b", KW, "None")), []),
        (_sig(("a", KW, "1")), _sig(("a", KW, "2")), ["f(a)"]),
        (_sig(("a", KW, "1")), _sig(("a", POS, "1")), ["f(a)"]),
        (_sig(("a", KW, "1")), _sig(), ["f(a)"]),
        (_sig(("a", KW, "1")), _sig(("a", KW, "1"), ("b", KW, REQ)), ["f(+b)"]),
        (_sig(("x", POS, REQ), ("y", POS, REQ)), _sig(("y", POS, REQ), ("x", POS, REQ)), ["f(x)", "f(y)"]),
        (_sig(("_c", POS, "None")), _sig(("_d", POS, "None")), []),
    ],
)
def test_the_comparison_catches_breaking_changes(
    theirs: list[list[str]], ours: list[list[str]], expected: list[str]
) -> None:
    assert parameter_differences("f", theirs, ours) == expected


def test_the_comparison_reports_missing_names_and_members() -> None:
    cls = {"kind": "class", "id": "m.C", "init": [], "members": {"go": {"kind": "method", "parameters": []}}}
    official = {
        "modules": ["m", "m.sub"],
        "surface": {"m": {"C": cls, "K": {"kind": "constant", "value": "1"}, "gone": {"kind": "function"}}},
    }
    ours = {
        "modules": ["m"],
        "surface": {"m": {"C": {**cls, "members": {}}, "K": {"kind": "constant", "value": "2"}}},
    }
    assert set(differences(official, ours)) == {"m.sub", "m.gone", "m.C.go", "m.K"}


def test_the_console_script_is_the_officials() -> None:
    """``robotrace`` runs ``robotrace.cli:main`` in both (the official wheel's entry_points.txt)."""
    import configparser
    import importlib

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    found = list(OFFICIAL_PYTHON.parents[1].glob("lib/python*/site-packages/robotrace_dev-0.3.0.dist-info"))
    assert len(found) == 1
    official = configparser.ConfigParser()
    official.read(found[0] / "entry_points.txt")
    ours = tomllib.loads((SDK / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert ours == dict(official["console_scripts"]) == {"robotrace": "robotrace.cli:main"}
    module, _, name = ours["robotrace"].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
