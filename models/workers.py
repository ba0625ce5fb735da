"""Engine processes (a web process running the scheduler, or a `worker`) and their heartbeats.

Times are naive UTC. A row whose `beat_at` is older than the staleness limit is a process that died or
stopped: it no longer counts as live and is pruned by the next beat of any live process.
"""

from __future__ import annotations

from pydantic import NaiveDatetime
from sqlmodel import Field, SQLModel


class EngineWorker(SQLModel, table=True):
    __tablename__ = "engine_worker"

    # The runner's lease owner of this process (host:pid:random), so leases and heartbeats name it alike.
    id: str = Field(primary_key=True, max_length=64)
    host: str = Field(max_length=255)
    pid: int
    role: str = Field(max_length=16)  # web | worker
    started_at: NaiveDatetime
    beat_at: NaiveDatetime
