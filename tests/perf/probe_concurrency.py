"""Concurrency probe (a script, not a test): `python tests/perf/probe_concurrency.py [reads|spin|import|all]`.

Prints before/after figures for issue 9, each on a SQLite file in a temporary directory:
- reads: how long a plain read waits while another connection holds a write transaction for 2 s, begun as
  the engine's writers begin (IMMEDIATE, how every transaction began before) and as its readers do now.
- spin: write transactions per second the running scheduler issues while the only due enrollment is leased
  by another worker, with the old next-due query (ignoring leases) and with the current one.
- import: while a 20,000-customer CSV import (a rule segment that 1 in 4 joins, a journey entered by it)
  runs through the real HTTP API in a server process, GET /api/v1/engine/status and GET /api/v1/journeys
  are polled: slowest and median answer, and how many were errors or "database is locked".
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _start(directory: str) -> Engine:
    from engine import startup
    from engine.settings import Settings

    return startup.start(Settings(database_url=f"sqlite:///{directory}/probe.db", demo=False, scheduler=True,
                                  tick_seconds=1.0))


def probe_reads() -> dict[str, float]:
    from sqlalchemy import select

    from models.journey import Journey

    with tempfile.TemporaryDirectory() as directory:
        engine = _start(directory)
        db = engine.db
        holding = threading.Event()

        def writer() -> None:
            with db.session() as s:
                s.execute(select(Journey.id)).all()
                s.connection().exec_driver_sql("CREATE TABLE IF NOT EXISTS probe_lock (x INTEGER)")
                holding.set()
                time.sleep(2.0)

        figures = {}
        for name, kind in (("before_immediate_read_s", db.session), ("after_deferred_read_s", db.reader)):
            holding.clear()
            thread = threading.Thread(target=writer)
            thread.start()
            holding.wait()
            started = time.perf_counter()
            with kind() as s:
                s.execute(select(Journey.id)).all()
            figures[name] = round(time.perf_counter() - started, 3)
            thread.join()
        db.dispose()
        return figures


def probe_spin(seconds: float = 3.0) -> dict[str, float]:
    from sqlalchemy import event, func, select, update

    from engine.runtime import entry, runner
    from engine.runtime.scheduler import Scheduler
    from models.audience import Customer
    from models.enrollment import Enrollment
    from models.journey import Journey, JourneyCreate

    def old_next_due_at(engine: Engine) -> Any:  # before: the earliest due time, leased or not
        with engine.session() as s:
            active = select(Journey.id).where(Journey.status == "active")
            return s.execute(select(func.min(Enrollment.next_run_at)).where(
                Enrollment.status == "active", Enrollment.journey_id.in_(active))).scalar_one()

    figures = {}
    for name, due in (("before_writes_per_s", old_next_due_at), ("after_writes_per_s", runner.next_due_at)):
        with tempfile.TemporaryDirectory() as directory:
            engine = _start(directory)
            from engine.journeys import lifecycle

            with engine.session() as s:
                s.add(Customer(id="c1", attributes={}, flags={}, created_at=engine.now(),
                               updated_at=engine.now()))
            journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(
                {"name": "probe", "steps": [{"id": "w", "type": "wait",
                                             "config": {"duration": 1, "unit": "days"}}]}))
            lifecycle.change_status(engine, journey.id, "active")
            entry.enroll(engine, journey.id, ["c1"])
            with engine.session() as s:  # another worker holds the due row for a minute
                s.execute(update(Enrollment).values(lease_owner="other", lease_until=engine.now().replace(
                    year=engine.now().year + 1)))
            writes = [0]

            def count(connection: Any, writes: list[int] = writes) -> None:
                if connection.get_execution_options().get("journeys_begin", "IMMEDIATE") == "IMMEDIATE":
                    writes[0] += 1

            event.listen(engine.db.engine, "begin", count)
            original, runner.next_due_at = runner.next_due_at, due
            try:
                scheduler = Scheduler(engine)
                scheduler.start()
                time.sleep(0.5)
                writes[0] = 0
                time.sleep(seconds)
                figures[name] = round(writes[0] / seconds, 1)
            finally:
                scheduler.stop()
                runner.next_due_at = original
                engine.close()
    return figures


# The server's bootstrap admin API key, which the probe's requests send.
TOKEN = "probe-concurrency-token-8e21"
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}
SERVER = """
import sys, uvicorn
from fastapi import FastAPI
sys.path.insert(0, {root!r})
from engine import startup
from engine.access import bootstrap
from engine.runtime.scheduler import Scheduler
from engine.settings import Settings
engine = startup.start(Settings(database_url={url!r}, demo=False, scheduler=True, admin_token={token!r}))
bootstrap.bootstrap(engine, engine.settings)
from ui import api
app = FastAPI()
api.mount(app, engine)
app.router.on_startup.append(Scheduler(engine).start)
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""


def probe_import(customers: int = 20_000) -> dict[str, Any]:
    import socket

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/probe.db"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        script = SERVER.format(root=str(ROOT), url=url, port=port, token=TOKEN)
        server = subprocess.Popen([sys.executable, "-c", script],
                                  env={**os.environ, "JOURNEYS_OUTBOUND_ALLOWLIST": "127.0.0.1"})
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(_request(f"{base}/journeys"), timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            _post(f"{base}/segments", {"id": "big", "name": "Big spenders",
                                       "rule": "customer.spend > 750"})
            journey = _post(f"{base}/journeys", {
                "name": "Welcome big", "entryConditions": {"segmentId": "big"},
                "steps": [{"id": "w", "type": "wait", "config": {"duration": 1, "unit": "days"}}]})
            _post(f"{base}/journeys/{journey['id']}", {"status": "active"}, method="PUT")
            body = "id,spend,city\n" + "".join(f"p{n:06d},{n % 1000},Town{n % 37}\n"
                                                for n in range(customers))
            timings: dict[str, list[float]] = {"engine/status": [], "journeys": []}
            failures: list[str] = []
            done = threading.Event()

            def poll(path: str) -> None:
                while not done.is_set():
                    started = time.perf_counter()
                    try:
                        with urllib.request.urlopen(_request(f"{base}/{path}"), timeout=30) as answer:
                            answer.read()
                    except Exception as error:  # an HTTP error or "database is locked" is what we look for
                        failures.append(f"{path}: {error}")
                    timings[path].append(time.perf_counter() - started)
                    time.sleep(0.05)

            pollers = [threading.Thread(target=poll, args=(path,)) for path in timings]
            for thread in pollers:
                thread.start()
            started = time.perf_counter()
            request = _request(f"{base}/customers/import", body.encode(), "text/csv", "POST")
            with urllib.request.urlopen(request, timeout=600) as answer:
                imported = json.loads(answer.read())
            import_seconds = time.perf_counter() - started
            time.sleep(3)  # the entry the import caused runs after it commits: keep polling through it
            done.set()
            for thread in pollers:
                thread.join()
            enrolled = _get(f"{base}/journeys/{journey['id']}/metrics")
            return {
                "import_s": round(import_seconds, 2), "created": imported["created"],
                **{f"{path}_max_s": round(max(values), 3) for path, values in timings.items()},
                **{f"{path}_median_s": round(statistics.median(values), 3)
                   for path, values in timings.items()},
                **{f"{path}_requests": len(values) for path, values in timings.items()},
                "failures": len(failures), "failure_examples": failures[:3],
                "enrolled": enrolled.get("totals", enrolled).get("entered"),
            }
        finally:
            server.terminate()
            server.wait(10)


def _request(url: str, data: bytes | None = None, content_type: str | None = None,
             method: str = "GET") -> urllib.request.Request:
    """A request to the probe's server, signed in with its admin API key."""
    headers = {**AUTHORIZATION, **({"content-type": content_type} if content_type else {})}
    return urllib.request.Request(url, data=data, headers=headers, method=method)


def _post(url: str, payload: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    request = _request(url, json.dumps(payload).encode(), "application/json", method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _get(url: str) -> Any:
    with urllib.request.urlopen(_request(url), timeout=30) as answer:
        return json.loads(answer.read())


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    probes = {"reads": probe_reads, "spin": probe_spin, "import": probe_import}
    for name, probe in probes.items():
        if which in (name, "all"):
            print(name, json.dumps(probe()), flush=True)
