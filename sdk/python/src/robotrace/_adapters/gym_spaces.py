"""Gymnasium observations and actions as flat float32 rows, one per field.

A Box, Discrete, MultiDiscrete or MultiBinary value is one field, named by its prefix (``observation``); a
Dict adds ``.<key>`` per entry and a Tuple ``.<index>``, recursively (``observation.arm.0``). The NPZ then has
``<field>/value`` (steps x width) and ``<field>/_t_ns`` for each field, like the official adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import AdapterError


def flatten(value: Any, space: Any, prefix: str, gym: Any, np: Any) -> dict[str, Any]:
    """``{field: 1-D float32 array}`` for one observation or action."""
    spaces = gym.spaces
    if isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        return {prefix: np.asarray(value, dtype=np.float32).reshape(-1)}
    if isinstance(space, spaces.Discrete):
        return {prefix: np.asarray([value], dtype=np.float32).reshape(-1)}
    if isinstance(space, spaces.Dict):
        if not isinstance(value, Mapping):
            raise AdapterError(f"{prefix}: the Dict space got a {type(value).__name__}, not a dict")
        fields: dict[str, Any] = {}
        for key, subspace in space.spaces.items():
            if key not in value:
                raise AdapterError(f"{prefix}: the value has no {key!r} entry, which its Dict space has")
            fields.update(flatten(value[key], subspace, f"{prefix}.{key}", gym, np))
        return fields
    if isinstance(space, spaces.Tuple):
        if not isinstance(value, Sequence) or len(value) != len(space.spaces):
            raise AdapterError(f"{prefix}: the Tuple space of {len(space.spaces)} got {value!r}")
        fields = {}
        for index, (item, subspace) in enumerate(zip(value, space.spaces)):
            fields.update(flatten(item, subspace, f"{prefix}.{index}", gym, np))
        return fields
    raise AdapterError(
        f"{prefix}: Gymnasium space {type(space).__name__} is not supported "
        "(Box, Discrete, MultiDiscrete, MultiBinary, Dict and Tuple are)"
    )


def stack(rows: Sequence[Mapping[str, Any]], times_ns: Any, np: Any) -> dict[str, Any]:
    """NPZ members for a series of flattened steps: ``<field>/value`` (steps x width), ``<field>/_t_ns``."""
    arrays: dict[str, Any] = {}
    if not rows:
        return arrays
    for field in sorted(rows[0]):
        try:
            values = np.stack([row[field] for row in rows], axis=0).astype(np.float32, copy=False)
        except (KeyError, ValueError) as exc:
            raise AdapterError(f"{field}: the steps do not all have the same shape ({exc})") from exc
        arrays[f"{field}/value"] = values.reshape(len(rows), -1)
        arrays[f"{field}/_t_ns"] = times_ns
    return arrays
