"""`python main.py` as a person starts it: the API documentation the README points to answers over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60.0
# The admin API key the process is started with (JOURNEYS_ADMIN_TOKEN): the docs are for signed-in callers.
TOKEN = "docs-test-token-6c1e0b"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """main.py in its own process on a free port and a temporary SQLite database; the base URL."""
    folder = tmp_path_factory.mktemp("served")
    port = _free_port()
    # Not under pytest's eyes: without PYTEST_CURRENT_TEST, main.py and NiceGUI run as they do for a person.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST_", "JOURNEYS_", "NICEGUI_"))}
    env.update({"JOURNEYS_DATABASE_URL": f"sqlite:///{folder / 'journeys.db'}", "JOURNEYS_PORT": str(port),
                "JOURNEYS_DEMO": "0", "JOURNEYS_SCHEDULER": "0", "JOURNEYS_ADMIN_TOKEN": TOKEN})
    log = (folder / "main.log").open("w")
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=folder, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"main.py exited with {process.returncode}:\n{(folder / 'main.log').read_text()}")
            try:
                httpx.get(f"{base}/openapi.json", headers=AUTH, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"main.py did not answer:\n{(folder / 'main.log').read_text()}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_openapi_lists_the_api(served: str) -> None:
    response = httpx.get(f"{served}/openapi.json", headers=AUTH)
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/journeys" in paths
    assert "/api/v1/events" in paths
    assert not any(path.startswith("/_nicegui") for path in paths)


def test_docs_page_answers(served: str) -> None:
    response = httpx.get(f"{served}/docs", headers=AUTH)
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text
