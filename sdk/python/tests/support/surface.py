"""The whole public surface of the installed ``robotrace`` package as JSON, for comparing two SDKs.

Run by both SDKs' Pythons (stdlib only, each in its own venv)::

    python surface.py            # every public module the package has
    python surface.py robotrace.evals robotrace.cli

A module is public when no part of its dotted name starts with ``_``. Its public names are ``__all__`` plus
every other attribute without a leading ``_`` that the package itself defines (classes, functions, constants),
leaving out what it merely imported (modules, ``typing`` helpers, stdlib functions). For a function: its
parameters as ``[name, kind, default]``. For a class: its constructor's parameters and each public
attribute (methods with their parameters, properties, class attributes), inherited ones included.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
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
    return {"kind": "attribute", "value": repr(raw) if isinstance(raw, CONSTANT_TYPES) else type(raw).__name__}


def describe(value: Any) -> dict[str, Any]:
    if inspect.isclass(value):
        members = {
            name: _member(value, name)
            for name in dir(value)
            if not name.startswith("_") and not (issubclass(value, BaseException) and name in _EXC_BUILTINS)
        }
        return {"kind": "class", "init": parameters(value), "members": members}
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return {"kind": "function", "parameters": parameters(value)}
    if inspect.ismodule(value):
        return {"kind": "module", "name": value.__name__}
    if isinstance(value, CONSTANT_TYPES):
        return {"kind": "constant", "value": repr(value)}
    if callable(value):
        return {"kind": "callable", "parameters": parameters(value)}
    return {"kind": type(value).__name__}


_EXC_BUILTINS = frozenset(dir(BaseException))


def _own(module: Any, name: str, value: Any) -> bool:
    """Whether a name without ``__all__`` is the package's own (not an import from elsewhere)."""
    if inspect.ismodule(value):
        return value.__name__.startswith("robotrace.")
    owner = getattr(value, "__module__", None)
    if inspect.isclass(value) or inspect.isfunction(value):
        return isinstance(owner, str) and owner.split(".")[0] == "robotrace"
    # Constants (DEFAULT_BASE_URL = "..."): only when the module's source assigns them.
    return isinstance(value, CONSTANT_TYPES) and f"\n{name} =" in "\n" + _source(module)


def _source(module: Any) -> str:
    try:
        return inspect.getsource(module)
    except (OSError, TypeError):
        return ""


def surface(module_name: str) -> dict[str, Any]:
    module = importlib.import_module(module_name)
    names = list(getattr(module, "__all__", []))
    for name, value in vars(module).items():
        if not name.startswith("_") and name not in names and _own(module, name, value):
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
    modules = sys.argv[1:] or public_modules()
    print(json.dumps({"modules": public_modules(), "surface": {name: surface(name) for name in modules}}))
