"""Under concurrent load nothing fails: clients reading and writing at once against a real server process
with the engine running get no 5xx, every enroll goes through, and no engine job fails (bounded: the
issue's 60 s over 10,000 customers is tests/perf/probe_load.py). Before the writer lane this
failed in 2 runs of 2: 3 and 4 answers of 500 ("database is locked")."""

from __future__ import annotations

from pathlib import Path

from tests import load_kit


def test_concurrent_reads_and_writes_get_no_server_error_and_no_engine_job_fails(
        journeys_env: str, tmp_path: Path) -> None:
    with load_kit.server(journeys_env, tmp_path) as running:
        with running.client() as client:
            audience = load_kit.seed(client, customers=5_000)
        load = load_kit.hammer(running, audience, clients=50, seconds=15, enroll_calls=6)
        failures = running.failures()
    assert load.server_errors == 0, load.errors[:5]
    assert sum(load.statuses.values()) > 100  # the clients really were served meanwhile
    assert load.enrolled == load.enroll_asked > 0  # nobody silently left out
    assert failures == []
