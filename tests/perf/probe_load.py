"""Load probe (a script, not a test): `python tests/perf/probe_load.py [--clients 50] [--seconds 60]
[--customers 10000] [--db URL] [--worker]`.

Starts the app as `python main.py` runs it (engine on) on a fresh SQLite file (or the PostgreSQL database
given, emptied first), imports the customers into a journey that keeps the engine busy, then has the clients
read and write at random (10 of their calls enroll 1,000 customers each) while one watcher reads the engine's
wake-up lag every second. Prints status counts, 5xx by route, failure lines from the server's log, enrolls
that went through, the wake-up lag (max, p50) and the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import load_kit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--db", default="")
    parser.add_argument("--spread", type=float, default=0,
                        help="enroll the customers in ten groups over this many seconds before the load "
                             "(a steady flow of due customers) instead of all at activation")
    parser.add_argument("--worker", action="store_true", help="the engine in a worker process of its own")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        url = options.db or f"sqlite:///{directory / 'load.db'}"
        if options.db:
            from tests.conftest import empty_database

            empty_database(url)
        with load_kit.server(url, directory, worker=options.worker) as running:
            with running.client() as client:
                started = time.perf_counter()
                audience = load_kit.seed(client, options.customers, options.spread)
                seeded = time.perf_counter() - started
            load = load_kit.hammer(running, audience, options.clients, options.seconds)
            failures = running.failures()
        lags = load.lags or [0.0]
        print(json.dumps({
            "database": "sqlite" if url.startswith("sqlite") else "postgresql", "worker": options.worker,
            "spread_s": options.spread,
            "clients": options.clients, "seconds": options.seconds, "customers": options.customers,
            "seed_s": round(seeded, 1), "requests": sum(load.statuses.values()),
            "statuses": dict(sorted(load.statuses.items())), "server_errors": load.server_errors,
            "server_errors_by_route": dict(load.by_route), "error_examples": load.errors[:5],
            "log_failures": len(failures), "log_examples": failures[:5],
            "enrolled": load.enrolled, "enroll_asked": load.enroll_asked,
            "lag_max_s": max(lags), "lag_p50_s": statistics.median(lags), "lags_s": lags,
            "loadavg": [round(value, 2) for value in os.getloadavg()],
        }, indent=1))


if __name__ == "__main__":
    main()
