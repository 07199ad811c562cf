"""A live server for the WJ client tests: one worker is enough for a client that sends one request at a time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import LiveServer, start_server, stop_server
from vitrina.config import Settings


@pytest.fixture(scope="session")
def wj_server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(settings, workers=1, log_path=tmp_path_factory.mktemp("wj-server") / "server.log")
    yield server
    stop_server(server)
