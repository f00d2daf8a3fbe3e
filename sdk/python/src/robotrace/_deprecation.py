"""``DeprecationWarning`` for public names on their way out, pointing at the user's line."""

from __future__ import annotations

import warnings

__all__ = ["warn_deprecated"]


def warn_deprecated(
    name: str,
    *,
    since: str,
    removed_in: str,
    replacement: str | None = None,
    hint: str | None = None,
    stacklevel: int = 2,
) -> None:
    """Warn that ``name`` is deprecated since ``since`` and goes in ``removed_in``; call it from inside the
    deprecated function (``stacklevel=2``: the warning names that function's caller, as in the stdlib)."""
    message = f"{name} is deprecated since {since} and will be removed in {removed_in}."
    if replacement:
        message += f" Use {replacement} instead."
    if hint:
        message += f" {hint}"
    warnings.warn(f"{message} (RoboTrace SDK)", DeprecationWarning, stacklevel=stacklevel + 1)
