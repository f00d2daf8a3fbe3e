"""Typed metadata (robotrace.types): the checks made when a value is built, and what goes on the wire."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest

import robotrace as rt
from robotrace import types

from ..support.fake_server import API_KEY, BASE_URL, FakeServer
from .helpers import client_for


def test_each_type_is_tagged_with_every_field() -> None:
    assert types.encode(rt.JointState(positions=(1, 2), names=["a", "b"])) == {
        "__type": "robotrace.JointState",
        "positions": [1.0, 2.0],
        "velocities": None,
        "efforts": None,
        "names": ["a", "b"],
    }
    assert types.encode(rt.Pose3D(translation=[1, 2, 3], rotation=[0, 0, 0, 1])) == {
        "__type": "robotrace.Pose3D",
        "translation": [1.0, 2.0, 3.0],
        "rotation": [0.0, 0.0, 0.0, 1.0],
    }
    assert types.encode(rt.Twist(linear=[0.5, 0, 0], angular=[0, 0, 0.1])) == {
        "__type": "robotrace.Twist",
        "linear": [0.5, 0.0, 0.0],
        "angular": [0.0, 0.0, 0.1],
    }
    assert types.encode(rt.Imu(linear_acceleration=[0, 0, 9.81], angular_velocity=[0, 0, 0])) == {
        "__type": "robotrace.Imu",
        "linear_acceleration": [0.0, 0.0, 9.81],
        "angular_velocity": [0.0, 0.0, 0.0],
        "orientation": None,
    }
    assert types.encode(rt.Battery(percent=55, charging=0)) == {
        "__type": "robotrace.Battery",
        "percent": 55.0,
        "voltage_v": None,
        "current_a": None,
        "charging": False,
    }
    assert types.encode(rt.EpisodeOutcome(success=1, collision_count=2.0, time_to_goal_s=3)) == {
        "__type": "robotrace.EpisodeOutcome",
        "success": True,
        "reward_total": None,
        "collision_count": 2,
        "time_to_goal_s": 3.0,
    }


def test_values_are_stored_as_lists_of_floats() -> None:
    state = rt.JointState(positions=iter([1, 2]), velocities=(3, 4), efforts=[5, 6])
    assert state.positions == [1.0, 2.0]
    assert state.velocities == [3.0, 4.0]
    assert state.efforts == [5.0, 6.0]
    with pytest.raises(AttributeError):
        state.positions = [9.0]  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: rt.JointState(positions=[]), "at least one value"),
        (lambda: rt.JointState(positions=[1, 2], velocities=[1]), "velocities must be as long as positions"),
        (lambda: rt.JointState(positions=[1, 2], efforts=[1, 2, 3]), "efforts must be as long as positions"),
        (lambda: rt.JointState(positions=[1], names=["a", "b"]), "names must be as long as positions"),
        (lambda: rt.Pose3D(translation=[1, 2], rotation=[0, 0, 0, 1]), "exactly 3 values"),
        (lambda: rt.Pose3D(translation=[1, 2, 3], rotation=[0, 0, 1]), "exactly 4 values"),
        (lambda: rt.Twist(linear=[1, 2, 3, 4], angular=[0, 0, 0]), "Twist.linear must have exactly 3"),
        (lambda: rt.Imu(linear_acceleration=[0, 0, 9.8], angular_velocity=[0, 0]), "angular_velocity"),
        (
            lambda: rt.Imu(linear_acceleration=[0, 0, 1], angular_velocity=[0, 0, 0], orientation=[1]),
            "Imu.orientation must have exactly 4",
        ),
        (lambda: rt.Battery(percent=101), "between 0 and 100"),
        (lambda: rt.Battery(percent=-0.5), "between 0 and 100"),
        (lambda: rt.EpisodeOutcome(collision_count=-1), "collision_count must be 0 or more"),
        (lambda: rt.EpisodeOutcome(time_to_goal_s=-2.0), "time_to_goal_s must be 0 or more"),
        (lambda: rt.JointState(positions=[1.0, math.nan]), "finite"),
        (lambda: rt.Battery(voltage_v=math.inf), "finite"),
    ],
)
def test_bad_values_are_refused_when_built(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: rt.JointState(positions=5),
        lambda: rt.JointState(positions="123"),
        lambda: rt.JointState(positions=[1, "x"]),
        lambda: rt.JointState(positions=[1], names=7),
        lambda: rt.Twist(linear=None, angular=[0, 0, 0]),
        lambda: rt.Battery(percent="full"),
        lambda: rt.EpisodeOutcome(collision_count="many"),
    ],
)
def test_values_of_the_wrong_kind_are_type_errors(build: Any) -> None:
    with pytest.raises(TypeError):
        build()


def test_encode_walks_containers_and_leaves_the_rest() -> None:
    pose = rt.Pose3D(translation=[0, 0, 0], rotation=[0, 0, 0, 1])
    source = {"poses": (pose, {"nested": [pose]}), 3: "three", "plain": {"__type": "robotrace.Future"}}
    encoded = types.encode(source)
    assert encoded["poses"][0]["__type"] == "robotrace.Pose3D"
    assert encoded["poses"][1]["nested"][0]["__type"] == "robotrace.Pose3D"
    assert encoded["3"] == "three"
    assert encoded["plain"] == {"__type": "robotrace.Future"}  # an unknown tag passes through
    assert source["poses"][0] is pose  # the input is not changed


def test_a_users_own_to_dict_class_is_not_encoded() -> None:
    class Mine:
        def to_dict(self) -> dict[str, str]:
            return {"secret": "x"}

    mine = Mine()
    assert types.encode({"m": mine})["m"] is mine


def test_typed_metadata_is_encoded_on_create_and_finalize(tmp_path: Any) -> None:
    server = FakeServer()
    outcome = rt.EpisodeOutcome(success=True, reward_total=4.5)
    with client_for(server) as client:
        ep = client.start_episode(
            name="typed",
            artifacts=[],
            metadata={"arm": rt.JointState(positions=[0.1]), "battery": [rt.Battery(percent=80)]},
        )
        ep.finalize(status="ready", metadata={"outcome": outcome})
    create = server.routes("create")[0].json()["metadata"]
    assert create["arm"]["__type"] == "robotrace.JointState"
    assert create["battery"][0] == rt.Battery(percent=80).to_dict()
    final = server.routes("finalize")[0].json()["metadata"]
    assert final["outcome"] == outcome.to_dict()


def test_log_episode_and_the_async_client_encode_too(tmp_path: Any) -> None:
    server = FakeServer()
    with client_for(server) as client:
        client.log_episode(name="typed", metadata={"pose": rt.Pose3D([1, 2, 3], [0, 0, 0, 1])})
    assert server.routes("create")[0].json()["metadata"]["pose"]["__type"] == "robotrace.Pose3D"

    async def run() -> None:
        async with rt.AsyncClient(
            api_key=API_KEY, base_url=BASE_URL, transport=server.async_transport()
        ) as client:
            await client.log_episode(name="typed", metadata={"twist": rt.Twist([1, 0, 0], [0, 0, 1])})

    asyncio.run(run())
    assert json.loads(server.routes("create")[1].body)["metadata"]["twist"]["__type"] == "robotrace.Twist"


def test_the_names_present_themselves_as_robotraces() -> None:
    assert rt.JointState is types.JointState
    assert rt.JointState.__module__ == "robotrace"
    assert repr(rt.Twist([1, 0, 0], [0, 0, 0])).startswith("Twist(linear=[1.0, 0.0, 0.0]")
