"""Typed metadata values: JointState, Pose3D, Twist, Imu, Battery, EpisodeOutcome.

Each is a frozen dataclass checked when it is built (so a bad value fails in the caller's code, before any
request) and sent as a JSON object tagged ``{"__type": "robotrace.<Name>", ...}`` that the portal draws with a
widget. ``encode`` turns the typed values inside a metadata mapping into those objects; the SDK runs it on the
metadata of every create and finalize. Units: metres, radians, seconds; quaternions are ``[x, y, z, w]``.

Compared with the official 0.3.0 classes one check is stricter: NaN and infinite numbers are refused, because
JSON has no spelling for them and the request would fail later with a less helpful message.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

# ``Optional[...]`` rather than ``X | None`` in the fields: dataclasses evaluate nothing, but
# ``typing.get_type_hints`` (used by some serializers) would on Python 3.9.

_TAG_PREFIX = "robotrace."


def _number(field: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{field} must be a number; got {value!r}") from exc
    if not math.isfinite(number):
        raise ValueError(f"{field} must be a finite number; got {number!r}")
    return number


def _numbers(field: str, values: object) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{field} must be a sequence of numbers; got {values!r}")
    return [_number(f"{field}[{index}]", value) for index, value in enumerate(values)]


def _fixed(field: str, values: object, length: int, what: str) -> list[float]:
    numbers = _numbers(field, values)
    if len(numbers) != length:
        raise ValueError(f"{field} must have exactly {length} values ({what}); got {len(numbers)}")
    return numbers


def _vector3(field: str, values: object) -> list[float]:
    return _fixed(field, values, 3, "[x, y, z]")


def _quaternion(field: str, values: object) -> list[float]:
    return _fixed(field, values, 4, "a quaternion [x, y, z, w]")


def _parallel(field: str, values: object, length: int) -> list[float] | None:
    if values is None:
        return None
    numbers = _numbers(field, values)
    if len(numbers) != length:
        raise ValueError(
            f"JointState.{field} must be as long as positions ({len(numbers)} values vs {length})"
        )
    return numbers


def _non_negative(field: str, value: float) -> float:
    if value < 0:
        raise ValueError(f"{field} must be 0 or more; got {value!r}")
    return value


def _set(instance: object, **fields: object) -> None:
    # The dataclasses are frozen: checked values are stored past the frozen __setattr__.
    for name, value in fields.items():
        object.__setattr__(instance, name, value)


def _copy(values: Sequence[Any] | None) -> list[Any] | None:
    return None if values is None else list(values)


@dataclass(frozen=True)
class JointState:
    """The joints of a robot at one moment, like ``sensor_msgs/JointState``.

    ``positions`` (at least one) is required; ``velocities``, ``efforts`` and ``names``, when given, have one
    entry per position. Any iterable works (a numpy array, a tuple); the values are stored as lists.
    """

    positions: Sequence[float]
    velocities: Optional[Sequence[float]] = None  # noqa: UP045 - see the note at the top
    efforts: Optional[Sequence[float]] = None  # noqa: UP045
    names: Optional[Sequence[str]] = None  # noqa: UP045

    def __post_init__(self) -> None:
        positions = _numbers("JointState.positions", self.positions)
        if not positions:
            raise ValueError("JointState.positions must have at least one value")
        count = len(positions)
        names: list[str] | None = None
        if self.names is not None:
            if isinstance(self.names, (str, bytes)) or not isinstance(self.names, Iterable):
                raise TypeError(f"JointState.names must be a sequence of strings; got {self.names!r}")
            names = [str(name) for name in self.names]
            if len(names) != count:
                raise ValueError(
                    f"JointState.names must be as long as positions ({len(names)} values vs {count})"
                )
        _set(
            self,
            positions=positions,
            velocities=_parallel("velocities", self.velocities, count),
            efforts=_parallel("efforts", self.efforts, count),
            names=names,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "__type": _TAG_PREFIX + "JointState",
            "positions": list(self.positions),
            "velocities": _copy(self.velocities),
            "efforts": _copy(self.efforts),
            "names": _copy(self.names),
        }


@dataclass(frozen=True)
class Pose3D:
    """A position (``translation``, metres) and orientation (``rotation``, quaternion ``[x, y, z, w]``).

    A ``[w, x, y, z]`` quaternion (numpy-quaternion, PyTorch3D) must be reordered before it is passed.
    """

    translation: Sequence[float]
    rotation: Sequence[float]

    def __post_init__(self) -> None:
        _set(
            self,
            translation=_vector3("Pose3D.translation", self.translation),
            rotation=_quaternion("Pose3D.rotation", self.rotation),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "__type": _TAG_PREFIX + "Pose3D",
            "translation": list(self.translation),
            "rotation": list(self.rotation),
        }


@dataclass(frozen=True)
class Twist:
    """A velocity like ``geometry_msgs/Twist``: ``linear`` in m/s and ``angular`` in rad/s, three values
    each."""

    linear: Sequence[float]
    angular: Sequence[float]

    def __post_init__(self) -> None:
        _set(
            self,
            linear=_vector3("Twist.linear", self.linear),
            angular=_vector3("Twist.angular", self.angular),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "__type": _TAG_PREFIX + "Twist",
            "linear": list(self.linear),
            "angular": list(self.angular),
        }


@dataclass(frozen=True)
class Imu:
    """One IMU reading like ``sensor_msgs/Imu``: acceleration (m/s²), angular velocity (rad/s) and, when the
    IMU reports one, an orientation quaternion ``[x, y, z, w]``."""

    linear_acceleration: Sequence[float]
    angular_velocity: Sequence[float]
    orientation: Optional[Sequence[float]] = None  # noqa: UP045

    def __post_init__(self) -> None:
        _set(
            self,
            linear_acceleration=_vector3("Imu.linear_acceleration", self.linear_acceleration),
            angular_velocity=_vector3("Imu.angular_velocity", self.angular_velocity),
            orientation=None
            if self.orientation is None
            else _quaternion("Imu.orientation", self.orientation),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "__type": _TAG_PREFIX + "Imu",
            "linear_acceleration": list(self.linear_acceleration),
            "angular_velocity": list(self.angular_velocity),
            "orientation": _copy(self.orientation),
        }


@dataclass(frozen=True)
class Battery:
    """A battery reading; every field may be missing. ``percent`` is 0-100 (not 0-1) and ``current_a`` is
    positive while discharging."""

    percent: Optional[float] = None  # noqa: UP045
    voltage_v: Optional[float] = None  # noqa: UP045
    current_a: Optional[float] = None  # noqa: UP045
    charging: Optional[bool] = None  # noqa: UP045

    def __post_init__(self) -> None:
        percent = None if self.percent is None else _number("Battery.percent", self.percent)
        if percent is not None and not 0 <= percent <= 100:
            raise ValueError(f"Battery.percent must be between 0 and 100; got {percent!r}")
        _set(
            self,
            percent=percent,
            voltage_v=None if self.voltage_v is None else _number("Battery.voltage_v", self.voltage_v),
            current_a=None if self.current_a is None else _number("Battery.current_a", self.current_a),
            charging=None if self.charging is None else bool(self.charging),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "__type": _TAG_PREFIX + "Battery",
            "percent": self.percent,
            "voltage_v": self.voltage_v,
            "current_a": self.current_a,
            "charging": self.charging,
        }


@dataclass(frozen=True)
class EpisodeOutcome:
    """How an episode ended, in the terms the eval runner reads: ``success``, ``reward_total``,
    ``collision_count`` (an integer, 0 or more) and ``time_to_goal_s`` (0 or more); every field may be
    missing."""

    success: Optional[bool] = None  # noqa: UP045
    reward_total: Optional[float] = None  # noqa: UP045
    collision_count: Optional[int] = None  # noqa: UP045
    time_to_goal_s: Optional[float] = None  # noqa: UP045

    def __post_init__(self) -> None:
        collisions: int | None = None
        if self.collision_count is not None:
            try:
                collisions = int(self.collision_count)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"EpisodeOutcome.collision_count must be an integer; got {self.collision_count!r}"
                ) from exc
            _non_negative("EpisodeOutcome.collision_count", collisions)
        time_to_goal = None
        if self.time_to_goal_s is not None:
            time_to_goal = _non_negative(
                "EpisodeOutcome.time_to_goal_s", _number("EpisodeOutcome.time_to_goal_s", self.time_to_goal_s)
            )
        _set(
            self,
            success=None if self.success is None else bool(self.success),
            reward_total=None
            if self.reward_total is None
            else _number("EpisodeOutcome.reward_total", self.reward_total),
            collision_count=collisions,
            time_to_goal_s=time_to_goal,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "__type": _TAG_PREFIX + "EpisodeOutcome",
            "success": self.success,
            "reward_total": self.reward_total,
            "collision_count": self.collision_count,
            "time_to_goal_s": self.time_to_goal_s,
        }


# Only these classes are turned into tagged objects: a user's own dataclass with a to_dict() is left alone, so
# nothing the user did not mean to send (a private field) is sent.
TYPED_VALUES: tuple[type, ...] = (JointState, Pose3D, Twist, Imu, Battery, EpisodeOutcome)


def encode(value: Any) -> Any:
    """``value`` with every typed metadata value inside it turned into its tagged JSON object.

    Mappings (keys made strings), lists and tuples are copied as it goes; the input is not changed. Anything
    else is returned as it is. Metadata is a small tree: a cycle is not supported.
    """
    if isinstance(value, TYPED_VALUES):
        encoded: dict[str, Any] = value.to_dict()  # type: ignore[attr-defined]
        return encoded
    if isinstance(value, Mapping):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


def encode_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A metadata mapping ready for the wire: a new dict, typed values encoded."""
    return {key: encode(item) for key, item in metadata.items()}
