"""An engine worker for the crash-safety test: loops the runner and the dispatcher on the database named by
JOURNEYS_DATABASE_URL until killed. Leases are shortened so a killed worker's claims come back quickly.

    python tests/perf/crash_driver.py --lease-seconds 2
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lease-seconds", type=float, default=2.0)
    args = parser.parse_args()

    from engine import startup
    from engine.delivery import dispatcher
    from engine.runtime import runner
    from engine.settings import Settings

    engine = startup.start(Settings(demo=False, scheduler=False, batch_size=200))
    runner.LEASE = timedelta(seconds=args.lease_seconds)
    dispatcher.LEASE = timedelta(seconds=args.lease_seconds)
    print("ready", flush=True)
    while True:
        moved = runner.advance(engine)
        sent = dispatcher.dispatch_due(engine, 50)
        if not moved and not sent:
            runner.sweep(engine)
            time.sleep(0.05)


if __name__ == "__main__":
    main()
