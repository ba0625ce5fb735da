"""An unexpected error answers the 500 envelope and leaves the keep-alive connection usable: the next
request on it is answered, not reset (a real uvicorn server, as main.py runs)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.engine import Engine
from ui import api as api_package


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def credentials(api: TestClient) -> dict[str, str]:
    return {name: value for name, value in api.headers.items() if name.lower() == "authorization"}


@pytest.fixture
def server(engine: Engine, credentials: dict[str, str]) -> Iterator[int]:
    app = FastAPI()
    api_package.mount(app, engine)

    @app.get("/api/v1/_broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    port = _free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield port
    running.should_exit = True
    thread.join(timeout=10)


def test_a_500_keeps_the_connection_open(server: int, credentials: dict[str, str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    try:
        connection.request("GET", "/api/v1/_broken", headers=credentials)
        failed = connection.getresponse()
        assert failed.status == 500
        assert json.loads(failed.read())["error"]["code"] == "internal_error"
        assert failed.getheader("connection") != "close"
        connection.request("GET", "/api/v1/customers", headers=credentials)  # same socket
        after = connection.getresponse()
        assert after.status == 200
        assert json.loads(after.read())["pagination"]["total"] == 0
    finally:
        connection.close()
