"""Benchmark: the memory a large customer import takes, through the API and through the engine alone.

    python tests/perf/bench_import_memory.py [--mb 20] [--format csv|jsonl] [--only api]

Builds a body of about `--mb` MB (ROWS customers, each line padded to fit) and imports it into a
fresh SQLite file, each measurement in a fresh interpreter: the growth of peak RSS over the RSS before the
import, and the tracemalloc peak (Python allocations made during the import; the body itself is made
before, as a client would hold it). "api" posts the body through the REST API (TestClient: every
middleware); "engine" feeds `customer_import.import_body` 64 KiB chunks made as they are asked for.
Prints figures; it is not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

ROWS = 99_999  # with a CSV header, within MAX_IMPORT_LINES
TOKEN = "bench-import-token-5d1c"
CHUNK = 65_536


def lines(fmt: str, megabytes: float) -> Iterator[str]:
    """The body's lines, each padded so the whole comes to about `megabytes`."""
    pad = "p" * max(1, int(megabytes * 1_000_000 / ROWS) - 40)
    if fmt == "csv":
        yield "id,n,pad"
    for n in range(ROWS):
        yield f"c{n:06d},{n},{pad}" if fmt == "csv" else json.dumps({"id": f"c{n:06d}", "n": n, "pad": pad})


def chunks(fmt: str, megabytes: float) -> Iterator[bytes]:
    pending: list[bytes] = []
    size = 0
    for line in lines(fmt, megabytes):
        pending.append(line.encode() + b"\n")
        size += len(pending[-1])
        if size >= CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    yield b"".join(pending)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def measure(path: str, fmt: str, megabytes: float, traced: bool, workdir: str) -> dict[str, float]:
    """One import in this process: its figures (MB)."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from engine import schema, startup
    from engine.access import bootstrap
    from engine.audience import customer_import
    from engine.clock import VirtualClock
    from engine.settings import Settings
    from ui import api

    url = f"sqlite:///{workdir}/journeys.db"
    schema.create_at_head(url)
    settings = Settings(database_url=url, demo=False, scheduler=False, admin_token=TOKEN)
    engine = startup.start(settings, VirtualClock())
    bootstrap.bootstrap(engine, settings)
    run: Callable[[], object]
    app = FastAPI()
    api.mount(app, engine)
    client = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}).__enter__()
    # Warm up (imports, compiled statements) so the figures are the big import's alone.
    client.post("/api/v1/customers/import", content=b"id\nwarm\n", headers={"Content-Type": "text/csv"})
    if path == "api":
        body = b"".join(chunks(fmt, megabytes))
        media = "text/csv" if fmt == "csv" else "application/x-ndjson"

        def run() -> object:
            response = client.post("/api/v1/customers/import", content=body, headers={"Content-Type": media})
            return response.json()
    else:
        body = b""

        def run() -> object:
            return customer_import.import_body(engine, chunks(fmt, megabytes), fmt)

    before = rss_mb()
    if traced:
        tracemalloc.start()
    outcome = run()
    figures = {"body_mb": (len(body) or sum(len(c) for c in chunks(fmt, megabytes))) / 1e6}
    if traced:
        figures["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    else:
        figures["rss_growth_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3 - before
    assert isinstance(outcome, dict) and outcome.get("created") == ROWS, str(outcome)[:300]
    return figures


def isolated(path: str, fmt: str, megabytes: float, traced: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        script = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                  f"import bench_import_memory as b; "
                  f"print(json.dumps(b.measure({path!r}, {fmt!r}, {megabytes}, {traced}, {workdir!r})))")
        output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--only", choices=("api", "engine"))
    options = parser.parse_args()
    for path in [options.only] if options.only else ["api", "engine"]:
        rss = isolated(path, options.format, options.mb, traced=False)
        traced = isolated(path, options.format, options.mb, traced=True)
        print(f"{path:6} {options.format}: body {rss['body_mb']:.1f} MB, peak RSS growth "
              f"{rss['rss_growth_mb']:.1f} MB, tracemalloc peak {traced['traced_peak_mb']:.1f} MB",
              flush=True)


if __name__ == "__main__":
    main()
