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
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _core(directory: str) -> Any:
    from engine import core, wiring
    from engine.settings import Settings

    current = core.init(Settings(database_url=f"sqlite:///{directory}/probe.db", demo=False, scheduler=True,
                                 tick_seconds=1.0))
    wiring.connect_all()
    return current


def probe_reads() -> dict[str, float]:
    from sqlalchemy import select

    from models.journey import Journey

    with tempfile.TemporaryDirectory() as directory:
        current = _core(directory)
        db = current.db
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

    from engine.core import session
    from engine.runtime import entry, runner, scheduler
    from models.audience import Customer
    from models.enrollment import Enrollment
    from models.journey import Journey, JourneyCreate

    def old_next_due_at() -> Any:  # before: the earliest due time, leased or not
        with session() as s:
            active = select(Journey.id).where(Journey.status == "active")
            return s.execute(select(func.min(Enrollment.next_run_at)).where(
                Enrollment.status == "active", Enrollment.journey_id.in_(active))).scalar_one()

    figures = {}
    for name, due in (("before_writes_per_s", old_next_due_at), ("after_writes_per_s", runner.next_due_at)):
        with tempfile.TemporaryDirectory() as directory:
            current = _core(directory)
            from engine.journeys import lifecycle

            with session() as s:
                s.add(Customer(id="c1", attributes={}, flags={}, created_at=current.now(),
                               updated_at=current.now()))
            journey = lifecycle.create_journey(JourneyCreate.model_validate(
                {"name": "probe", "steps": [{"id": "w", "type": "wait",
                                             "config": {"duration": 1, "unit": "days"}}]}))
            lifecycle.change_status(journey.id, "active")
            entry.enroll(journey.id, ["c1"])
            with session() as s:  # another worker holds the due row for a minute
                s.execute(update(Enrollment).values(lease_owner="other", lease_until=current.now().replace(
                    year=current.now().year + 1)))
            writes = [0]

            def count(connection: Any, writes: list[int] = writes) -> None:
                if connection.get_execution_options().get("journeys_begin", "IMMEDIATE") == "IMMEDIATE":
                    writes[0] += 1

            event.listen(current.db.engine, "begin", count)
            original, runner.next_due_at = runner.next_due_at, due
            try:
                scheduler.start()
                time.sleep(0.5)
                writes[0] = 0
                time.sleep(seconds)
                figures[name] = round(writes[0] / seconds, 1)
            finally:
                scheduler.stop()
                runner.next_due_at = original
                current.db.dispose()
    return figures


SERVER = """
import sys, uvicorn
from fastapi import FastAPI
sys.path.insert(0, {root!r})
from engine import core, wiring
from engine.runtime import scheduler
from engine.settings import Settings
core.init(Settings(database_url={url!r}, demo=False, scheduler=True))
wiring.connect_all()
from ui import api
app = FastAPI()
api.mount(app)
app.router.on_startup.append(scheduler.start)
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""


def probe_import(customers: int = 20_000) -> dict[str, Any]:
    import socket

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/probe.db"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-c", SERVER.format(root=str(ROOT), url=url, port=port)],
                                  env={**os.environ, "JOURNEYS_OUTBOUND_ALLOWLIST": "127.0.0.1"})
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/journeys", timeout=1)
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
                        with urllib.request.urlopen(f"{base}/{path}", timeout=30) as answer:
                            answer.read()
                    except Exception as error:  # an HTTP error or "database is locked" is what we look for
                        failures.append(f"{path}: {error}")
                    timings[path].append(time.perf_counter() - started)
                    time.sleep(0.05)

            pollers = [threading.Thread(target=poll, args=(path,)) for path in timings]
            for thread in pollers:
                thread.start()
            started = time.perf_counter()
            request = urllib.request.Request(f"{base}/customers/import", data=body.encode(),
                                             headers={"content-type": "text/csv"}, method="POST")
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


def _post(url: str, payload: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"content-type": "application/json"}, method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    probes = {"reads": probe_reads, "spin": probe_spin, "import": probe_import}
    for name, probe in probes.items():
        if which in (name, "all"):
            print(name, json.dumps(probe()), flush=True)
