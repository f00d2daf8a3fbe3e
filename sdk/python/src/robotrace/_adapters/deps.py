"""Optional dependencies: each adapter imports its libraries only when it runs, so ``import robotrace`` and
``from robotrace.adapters import ros2`` work on the bare install, and a missing library names its extra."""

from __future__ import annotations

import importlib
from typing import Any

from .._errors import ConfigurationError


class MissingExtraError(ConfigurationError, ImportError):
    """A library an adapter needs is not installed. Both a ``ConfigurationError`` (what the official SDK
    raises) and an ``ImportError`` (what the failure is)."""


def require(module: str, *, extra: str, purpose: str) -> Any:
    """The imported ``module``, or ``MissingExtraError`` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.partition(".")[0]
        raise MissingExtraError(
            f"{purpose} needs the '{package}' package: pip install 'robotrace-dev[{extra}]'"
        ) from exc


def numpy(extra: str) -> Any:
    return require("numpy", extra=extra, purpose=f"The {extra} adapter")
