"""Every status maps to the official SDK's exception class, carrying the server's message, code and id."""

from __future__ import annotations

import httpx
import pytest

import robotrace as rt

from ..support.fake_server import FakeServer, error
from .helpers import SleepRecorder, client_for

CASES = [
    (400, rt.ValidationError),
    (401, rt.AuthError),
    (403, rt.APIError),
    (404, rt.NotFoundError),
    (409, rt.ConflictError),
    (413, rt.ValidationError),
    (422, rt.ValidationError),
    (429, rt.RateLimitError),
    (500, rt.ServerError),
    (503, rt.ServerError),
    (418, rt.APIError),
]


@pytest.mark.parametrize(("status", "cls"), CASES)
def test_status_maps_to_class_with_server_fields(status: int, cls: type[rt.APIError]) -> None:
    server = FakeServer()
    server.fail_next("create", *[error(status, "the server's words", "some_code", details={"f": 1})] * 4)
    with client_for(server, SleepRecorder()) as client, pytest.raises(cls) as caught:
        client.start_episode()
    err = caught.value
    assert type(err) is cls
    assert isinstance(err, rt.RobotraceError)
    assert (err.status_code, err.message, err.code) == (status, "the server's words", "some_code")
    assert err.request_id == f"req_{status}"
    assert err.details == {"f": 1}
    assert err.response_body["error"] == "the server's words"  # type: ignore[index]
    assert str(err) == f"the server's words (HTTP {status}, code=some_code, request_id=req_{status})"


def test_error_tree_matches_the_official_sdk() -> None:
    for cls in (rt.ConfigurationError, rt.TransportError, rt.APIError):
        assert cls.__bases__ == (rt.RobotraceError,)
    for cls in (rt.AuthError, rt.ValidationError, rt.NotFoundError, rt.ConflictError, rt.ServerError):
        assert cls.__bases__ == (rt.APIError,)
    assert issubclass(rt.RateLimitError, rt.APIError)
    err = rt.APIError("m", status_code=418, response_body={"x": 1})  # the official constructor shape
    assert (err.status_code, err.response_body, err.code, err.request_id) == (418, {"x": 1}, None, None)


def test_non_json_error_body_still_gives_a_useful_message() -> None:
    server = FakeServer()
    server.fail_next("get", httpx.Response(502, text="<html>bad gateway</html>"))
    server.fail_next("get", *[httpx.Response(502, text="<html>bad gateway</html>")] * 3)
    with client_for(server, SleepRecorder()) as client, pytest.raises(rt.ServerError) as caught:
        client.get_episode("ep1")
    assert caught.value.message == "GET /api/episodes/ep1 failed with HTTP 502"
    assert caught.value.response_body == "<html>bad gateway</html>"


def test_success_without_a_json_object_is_a_server_error() -> None:
    server = FakeServer()
    server.fail_next("create", httpx.Response(201, text="ok"))
    with client_for(server) as client, pytest.raises(rt.ServerError, match="without a JSON object"):
        client.start_episode()


def test_create_answer_without_an_episode_id_is_a_server_error() -> None:
    server = FakeServer()
    server.fail_next("create", httpx.Response(201, json={"status": "recording"}))
    with client_for(server) as client, pytest.raises(rt.ServerError, match="no episode_id"):
        client.start_episode()
