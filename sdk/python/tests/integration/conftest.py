from __future__ import annotations

from collections.abc import Iterator

import pytest

import robotrace as rt

from ..support.robotrace_server import RunningServer


@pytest.fixture
def client(robotrace_server: RunningServer) -> Iterator[rt.Client]:
    with rt.Client(api_key=robotrace_server.api_key, base_url=robotrace_server.base_url) as c:
        yield c
