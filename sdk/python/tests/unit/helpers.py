from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import robotrace as rt

from ..support.fake_server import API_KEY, BASE_URL, FakeServer


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@contextmanager
def client_for(
    server: FakeServer, sleep: SleepRecorder | None = None, **options: object
) -> Iterator[rt.Client]:
    client = rt.Client(api_key=API_KEY, base_url=BASE_URL, transport=server.transport(), **options)  # type: ignore[arg-type]
    if sleep is not None:
        client._session._sleep = sleep
    try:
        yield client
    finally:
        client.close()
