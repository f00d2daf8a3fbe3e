"""The package layout, like httpx's: implementation in private modules, public modules only re-export, and
public names say ``robotrace.X`` in reprs and tracebacks."""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path

import pytest

import robotrace as rt

PACKAGE = Path(rt.__file__).parent
PUBLIC_MODULES = sorted(p for p in PACKAGE.glob("*.py") if not p.name.startswith("_"))
# Every module below a private name (``_http.py``, ``_adapters/**``); the package's ``__init__`` is public.
PRIVATE_MODULES = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if (p.relative_to(PACKAGE).parts[0].startswith("_") and p.parent != PACKAGE)
    or (p.parent == PACKAGE and p.name.startswith("_") and p.name != "__init__.py")
)
PUBLIC_NAMES = {p.stem for p in PUBLIC_MODULES} | {
    p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("_")
}


def _imported_modules(path: Path) -> list[str]:
    """Every module of the package a file imports, relative to it (``"errors"``, ``"_adapters.deps"``)."""
    parts = ["robotrace", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = ".".join(parts if parts[-1] == "__init__" else parts[:-1]).removesuffix(".__init__")
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            if node.module is None:  # from . import a, b: the names are modules
                found.extend(f"{module}.{alias.name}" for alias in node.names)
            else:
                found.append(module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [m.removeprefix("robotrace.") for m in found if m.startswith("robotrace.")]


def test_there_are_modules_to_check() -> None:
    assert {"client", "episode", "errors", "aio"} <= {p.stem for p in PUBLIC_MODULES}
    assert len(PRIVATE_MODULES) > 5


@pytest.mark.parametrize("path", PRIVATE_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_module_imports_a_public_one(path: Path) -> None:
    public = [m for m in _imported_modules(path) if m.split(".")[0] in PUBLIC_NAMES]
    assert public == [], f"{path.name} imports public modules {public}: import the private module instead"


@pytest.mark.parametrize("path", PUBLIC_MODULES, ids=lambda p: p.name)
def test_public_modules_only_re_export(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom) and (
            node.module == "__future__" or (node.level == 1 and (node.module or "").startswith("_"))
        ):
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            continue
        if _only_names_modules(node):
            continue
        pytest.fail(
            f"{path.name} line {node.lineno}: only a docstring, private imports and __all__ belong here"
        )


def _only_names_modules(node: ast.stmt) -> bool:
    """A statement that only sets ``__module__`` of re-exported names (a loop over them, then ``del``)."""
    if isinstance(node, ast.Delete):
        return True
    if isinstance(node, ast.For):
        return all(_only_names_modules(child) for child in node.body)
    return isinstance(node, ast.Assign) and all(
        isinstance(t, ast.Attribute) and t.attr == "__module__" for t in node.targets
    )


@pytest.mark.parametrize("name", [n for n in rt.__all__ if not n.startswith("__")])
def test_public_classes_and_functions_live_in_robotrace(name: str) -> None:
    value = getattr(rt, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__ == "robotrace"


def test_reprs_and_tracebacks_name_robotrace() -> None:
    assert repr(rt.Episode) == "<class 'robotrace.Episode'>"
    assert repr(rt.AsyncClient) == "<class 'robotrace.AsyncClient'>"
    assert rt.errors.AuthError is rt.AuthError
    assert rt.episode.Episode is rt.Episode
    assert rt.client.Client is rt.Client
    with pytest.raises(rt.ConfigurationError) as caught:
        rt.Client(base_url="http://x")
    assert caught.typename == "ConfigurationError"
    assert type(caught.value).__module__ == "robotrace"
