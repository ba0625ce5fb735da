"""Concurrent load on a real server process: the app as `python main.py` runs it (engine on), many HTTP
clients reading and writing at once, and what came back counted. Used by tests/api/test_load.py (bounded)
and tests/perf/probe_load.py (the issue's 50 clients for 60 s)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "load-admin-token-5c1e"
# Lines in the server's log that mean something failed (an engine job, a request, the lock).
FAILURE_MARKS = ("job failed", "Traceback", "database is locked", "unhandled error")


@dataclass
class Server:
    base: str
    log: Path
    process: subprocess.Popen[bytes]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)

    def failures(self) -> list[str]:
        text = self.log.read_text(errors="replace")
        return [line for line in text.splitlines() if any(mark in line for mark in FAILURE_MARKS)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(database_url: str, directory: Path, worker: bool = False, **environment: str) -> Iterator[Server]:
    """`python main.py` on `database_url` with the engine running (in a `worker` process of its own when
    `worker`, the web process then running none), until the block ends."""
    port = _free_port()
    log = directory / "server.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "NICEGUI"))}
    env.update({"JOURNEYS_DATABASE_URL": database_url, "JOURNEYS_PORT": str(port), "JOURNEYS_DEMO": "0",
                "JOURNEYS_SCHEDULER": "0" if worker else "1", "JOURNEYS_ADMIN_TOKEN": TOKEN,
                "JOURNEYS_STORAGE_SECRET": "load-secret", **environment})
    commands = [[sys.executable, str(ROOT / "main.py")]]
    if worker:
        commands.append([sys.executable, str(ROOT / "main.py"), "worker"])
    with log.open("wb") as out:
        processes = [subprocess.Popen(command, cwd=directory, env=env, stdout=out, stderr=subprocess.STDOUT)
                     for command in commands]
    process = processes[0]
    running = Server(f"http://127.0.0.1:{port}/api/v1", log, process)
    try:
        with running.client() as client:
            for _ in range(300):
                try:
                    if client.get("/journeys").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None:
                    raise RuntimeError(f"the server stopped: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            else:
                raise RuntimeError("the server did not answer within 60 s")
        yield running
    finally:
        for each in processes:
            each.terminate()
        for each in processes:
            try:
                each.wait(20)
            except subprocess.TimeoutExpired:
                each.kill()


@dataclass
class Audience:
    customers: list[str]
    segment_journey: str
    manual_journey: str
    channel: str


def seed(client: httpx.Client, customers: int, spread_seconds: float = 0) -> Audience:
    """`customers` customers, an in-app channel, a journey their segment enters on activation (send, wait a
    minute, send: the engine keeps working during the load) and one customers are enrolled into by hand.

    With `spread_seconds`, the first journey has no entry segment: the customers are enrolled into it in ten
    equal groups over that time, so during the load a tenth of them falls due every tenth of the wait (a
    steady flow rather than one burst)."""
    ids = [f"load{n:06d}" for n in range(customers)]
    body = "id,firstName,spend\n" + "".join(f"{c},Ann{n % 97},{n % 1000}\n" for n, c in enumerate(ids))
    _ok(client.post("/customers/import", content=body, headers={"content-type": "text/csv"}))
    _ok(client.post("/segments", json={"id": "everyone", "name": "Everyone", "rule": "customer.spend >= 0"}))
    channel = _ok(client.post("/channels", json={"name": "In-app", "type": "in_app"}))["id"]
    hello = {"subject": "Hi", "body": "Hello {{ customer.firstName }}"}
    send = {"channelId": channel, "template": hello}
    steps = [{"id": "hello", "type": "send", "config": send, "next": "pause"},
             {"id": "pause", "type": "wait", "config": {"duration": 1, "unit": "minutes"}, "next": "again"},
             {"id": "again", "type": "send", "config": send}]
    first_entry = {"reentry": "never"} if spread_seconds else {"segmentId": "everyone"}
    journeys = []
    for name, entry in (("Everyone", first_entry), ("By hand", {"reentry": "allow_multiple"})):
        created = _ok(client.post("/journeys", json={"name": name, "entryConditions": entry, "steps": steps}))
        _ok(client.put(f"/journeys/{created['id']}", json={"status": "active"}))
        journeys.append(created["id"])
    if spread_seconds:
        group = -(-customers // 10)
        for start in range(0, customers, group):
            for part in range(start, min(start + group, customers), 1000):
                chosen = ids[part:min(part + 1000, start + group, customers)]
                _ok(client.post(f"/journeys/{journeys[0]}/enroll", json={"customerIds": chosen}))
            time.sleep(spread_seconds / 10)
    return Audience(ids, journeys[0], journeys[1], channel)


def _ok(answer: httpx.Response) -> Any:
    if answer.status_code >= 300:
        request = answer.request
        raise RuntimeError(f"{request.method} {request.url}: {answer.status_code} {answer.text}")
    return answer.json()


@dataclass
class Load:
    statuses: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    enrolled: int = 0
    enroll_asked: int = 0
    lags: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, route: str, answer: httpx.Response) -> None:
        with self.lock:
            self.statuses[answer.status_code] += 1
            if answer.status_code >= 500:
                self.by_route[route] += 1
                self.errors.append(f"{route}: {answer.status_code} {answer.text[:200]}")

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


Action = Callable[[httpx.Client, random.Random, Audience, Load], None]


def _read(path: Callable[[random.Random, Audience], str]) -> Action:
    def act(client: httpx.Client, rng: random.Random, audience: Audience, load: Load) -> None:
        route = path(rng, audience)
        load.count(route.split("?")[0].rsplit("/", 1)[0], client.get(route))

    return act


def _enroll(client: httpx.Client, rng: random.Random, audience: Audience, load: Load) -> None:
    chosen = rng.sample(audience.customers, min(1000, len(audience.customers)))
    answer = client.post(f"/journeys/{audience.manual_journey}/enroll", json={"customerIds": chosen})
    load.count("enroll", answer)
    with load.lock:
        load.enroll_asked += len(chosen)
        if answer.status_code == 201:
            load.enrolled += answer.json()["enrolled"]


def _event(client: httpx.Client, rng: random.Random, audience: Audience, load: Load) -> None:
    customer = rng.choice(audience.customers)
    load.count("events", client.post("/events", json={"customerId": customer, "type": "page_view",
                                                       "properties": {"n": rng.randint(1, 9)}}))


def _update(client: httpx.Client, rng: random.Random, audience: Audience, load: Load) -> None:
    customer = rng.choice(audience.customers)
    load.count("customer update", client.patch(f"/customers/{customer}",
                                               json={"attributes": {"visits": rng.randint(1, 99)}}))


def _create(client: httpx.Client, rng: random.Random, audience: Audience, load: Load) -> None:
    load.count("customer create", client.post("/customers", json={"id": f"new{rng.getrandbits(48):x}",
                                                                   "attributes": {"spend": 5}}))


# Reads outnumber writes, as on a monitoring-heavy day; every kind of read route the issue named is here.
ACTIONS: list[tuple[Action, int]] = [
    (_read(lambda rng, a: "/journeys"), 6),
    (_read(lambda rng, a: f"/journeys/{a.segment_journey}/metrics"), 6),
    (_read(lambda rng, a: f"/journeys/{a.segment_journey}/versions"), 3),
    (_read(lambda rng, a: f"/channels/{a.channel}"), 3),
    (_read(lambda rng, a: f"/customers/{rng.choice(a.customers)}"), 6),
    (_read(lambda rng, a: f"/customers/{rng.choice(a.customers)}/inbox"), 4),
    (_read(lambda rng, a: f"/deliveries?journeyId={a.segment_journey}&limit=20"), 4),
    (_read(lambda rng, a: "/engine/status"), 2),
    (_read(lambda rng, a: f"/enrollments?journeyId={a.segment_journey}&limit=20"), 3),
    (_event, 6),
    (_update, 4),
    (_create, 2),
]


def hammer(running: Server, audience: Audience, clients: int, seconds: float, enroll_calls: int = 10) -> Load:
    """`clients` clients acting at random for `seconds`, `enroll_calls` enrolls of 1,000 spread among them,
    and one watcher reading the engine's wake-up lag once a second."""
    load = Load()
    deadline = time.monotonic() + seconds
    enrolls = threading.Semaphore(enroll_calls)
    actions, weights = zip(*ACTIONS, strict=True)

    def client_loop(number: int) -> None:
        rng = random.Random(number)
        with running.client() as client:
            while time.monotonic() < deadline:
                try:
                    if rng.random() < 0.02 and enrolls.acquire(blocking=False):
                        _enroll(client, rng, audience, load)
                    else:
                        rng.choices(actions, weights)[0](client, rng, audience, load)
                except httpx.HTTPError as error:  # a dropped connection counts as a failure too
                    with load.lock:
                        load.statuses[599] += 1
                        load.errors.append(f"transport: {error!r}")

    def watch() -> None:
        with running.client() as client:
            while time.monotonic() < deadline:
                answer = client.get("/engine/status")
                if answer.status_code == 200:
                    load.lags.append(answer.json()["backlog"]["wakeUpLagSeconds"])
                time.sleep(1.0)

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=watch))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load
