"""The whole public surface of the installed ``robotrace`` package as JSON, for comparing two SDKs.

Run by both SDKs' Pythons (stdlib only, each in its own venv)::

    python surface.py            # every public module the package has
    python surface.py robotrace.evals robotrace.cli

A module is public when no part of its dotted name starts with ``_``. Its public names are ``__all__`` plus
every other name without a leading ``_`` that its own top-level statements bind (definitions, assignments,
imports from inside the package), leaving out what it imports from elsewhere (stdlib, ``typing``, httpx).
For a function: its parameters as ``[name, kind, default]``. For a class: its constructor's parameters
and each public attribute (methods with their parameters, properties, class attributes), inherited ones
included. For a constant or a type alias: its repr.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import sys
import types
from typing import Any

CONSTANT_TYPES = (str, int, float, bool, tuple, frozenset, type(None))


def parameters(func: Any) -> list[list[str]] | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    return [
        [name, str(p.kind), "<required>" if p.default is inspect.Parameter.empty else _default(p.default)]
        for name, p in signature.parameters.items()
    ]


def _default(value: Any) -> str:
    # A dataclass field with default_factory shows as <factory>; a list and a tuple of the same items are
    # different defaults (the official artifacts=("video", ...) is a tuple).
    return repr(value)


def _member(cls: type, name: str) -> dict[str, Any]:
    raw = None
    for klass in cls.__mro__:
        if name in vars(klass):
            raw = vars(klass)[name]
            break
    if isinstance(raw, property):
        return {"kind": "property"}
    if isinstance(raw, staticmethod):
        return {"kind": "staticmethod", "parameters": parameters(raw.__func__)}
    if isinstance(raw, classmethod):
        return {"kind": "classmethod", "parameters": parameters(getattr(cls, name))}
    if inspect.isfunction(raw):
        return {"kind": "method", "parameters": parameters(raw)}
    if inspect.isclass(raw):
        return {"kind": "class"}
    return {
        "kind": "attribute",
        "value": repr(raw) if isinstance(raw, CONSTANT_TYPES) else type(raw).__name__,
    }


def describe(value: Any) -> dict[str, Any]:
    if inspect.isclass(value):
        members = {
            name: _member(value, name)
            for name in dir(value)
            if not name.startswith("_") and not (issubclass(value, BaseException) and name in _EXC_BUILTINS)
        }
        return {"kind": "class", "id": _id(value), "init": parameters(value), "members": members}
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return {"kind": "function", "id": _id(value), "parameters": parameters(value)}
    if inspect.ismodule(value):
        return {"kind": "module", "name": value.__name__}
    if isinstance(value, CONSTANT_TYPES):
        return {"kind": "constant", "value": repr(value)}
    if isinstance(value, types.GenericAlias) or type(value).__module__ == "typing":
        return {"kind": "type alias", "value": repr(value)}
    if callable(value):
        return {"kind": "callable", "parameters": parameters(value)}
    return {"kind": type(value).__name__}


_EXC_BUILTINS = frozenset(dir(BaseException))


def _id(value: Any) -> str:
    """Where the object is defined: one object re-exported by several modules is compared once."""
    return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"


def _own_names(module: Any) -> set[str]:
    """Names the module's own top-level statements bind: ``def``, ``class``, assignments, and imports from
    inside the package (``from ._x import y``, ``from robotrace.x import y``); not imports from elsewhere,
    not names under ``if TYPE_CHECKING:``."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return set()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("robotrace")):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def surface(module_name: str) -> dict[str, Any]:
    module = importlib.import_module(module_name)
    names = list(getattr(module, "__all__", []))
    own = _own_names(module)
    for name in vars(module):
        if not name.startswith("_") and name not in names and name in own:
            names.append(name)
    return {name: describe(getattr(module, name)) for name in names if hasattr(module, name)}


def public_modules() -> list[str]:
    package = importlib.import_module("robotrace")
    found = ["robotrace"]
    for info in pkgutil.walk_packages(package.__path__, "robotrace."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return sorted(found)


if __name__ == "__main__":
    every = public_modules()
    for name in every:
        importlib.import_module(name)
    modules = sys.argv[1:] or every
    print(json.dumps({"modules": every, "surface": {name: surface(name) for name in modules}}))
