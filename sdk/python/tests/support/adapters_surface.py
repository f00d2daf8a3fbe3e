"""The public surface of a module tree as JSON: names in ``__all__`` and, for each function, class
(its ``__init__`` and public methods) and dataclass, the parameters' names, kinds and defaults.

Run by both SDKs' Pythons (stdlib only), so the official 0.3.0 and ours are compared on the same terms::

    python adapters_surface.py robotrace.types robotrace.adapters.ros2 ...
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from typing import Any


def _parameters(func: Any) -> list[list[str]] | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    return [
        [name, str(p.kind), "<required>" if p.default is inspect.Parameter.empty else repr(p.default)]
        for name, p in signature.parameters.items()
    ]


def describe(value: Any) -> dict[str, Any]:
    if inspect.isclass(value):
        methods = {
            name: _parameters(member)
            for name, member in vars(value).items()
            if not name.startswith("_") and callable(member)
        }
        return {"kind": "class", "init": _parameters(value), "methods": methods}
    if callable(value):
        return {"kind": "function", "parameters": _parameters(value)}
    return {"kind": type(value).__name__}


def surface(module_name: str) -> dict[str, Any]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    return {name: describe(getattr(module, name)) for name in names}


if __name__ == "__main__":
    print(json.dumps({name: surface(name) for name in sys.argv[1:]}))
