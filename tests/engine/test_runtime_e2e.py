"""End to end with the real scheduler: `python main.py` with demo data enrolls the demo segment into the demo
journey, which runs decide and send at once and delivers to the in-app inbox within seconds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]
# The server starts with the test environment's bootstrap admin key (tests/conftest.py).
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(journeys_env: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    env.update(JOURNEYS_SCHEDULER="1", JOURNEYS_DEMO="1", JOURNEYS_DATABASE_URL=journeys_env)
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        until(lambda: httpx.get(f"{base}/journeys", headers=AUTH, timeout=2).status_code == 200, 90)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        assert "Traceback" not in (tmp_path / "server.log").read_text()


def until(check: Any, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s")


def test_demo_customers_run_the_demo_journey_and_get_in_app_messages(server: str) -> None:
    [journey] = httpx.get(f"{server}/journeys", params={"status": "active"}, headers=AUTH).json()["data"]
    started = time.monotonic()

    def waiting() -> list[dict[str, Any]]:
        query = {"journeyId": journey["id"], "stepId": "wait"}
        return httpx.get(f"{server}/enrollments", params=query, headers=AUTH).json()["data"]

    [first, *_] = until(waiting, 30)
    history = httpx.get(f"{server}/enrollments/{first['id']}", headers=AUTH).json()["history"]
    assert [item["type"] for item in history] == ["decide", "send", "wait"]
    assert history[1]["outcome"] == "queued"
    inbox_url = f"{server}/customers/{first['customerId']}/inbox"
    inbox = until(lambda: httpx.get(inbox_url, headers=AUTH).json()["data"], 20)
    assert inbox[0]["deliveryId"] == history[1]["detail"]["deliveryId"]
    assert time.monotonic() - started < 30
