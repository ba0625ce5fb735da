"""Which processes run the engine: each one (a web process with its scheduler, or a `worker`) beats every
few seconds into `engine_worker`; a process whose last beat is older than STALE_AFTER is gone (it crashed or
was stopped) and drops out of the list, and out of the table at the next beat of any live process."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from engine.engine import Engine
from engine.runtime.runner import WORKER
from models.common import iso
from models.workers import EngineWorker

ROLES = ("web", "worker")
BEAT_SECONDS = 5.0
# Four missed beats: long enough to ride out a busy database, short enough for the engine page to be honest.
STALE_AFTER = timedelta(seconds=20)


@dataclass(frozen=True)
class Process:
    """One engine process: its id is the runner's lease owner, so leases and heartbeats name it alike."""

    id: str = WORKER
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


THIS_PROCESS = Process()


def beat(engine: Engine, role: str, process: Process = THIS_PROCESS) -> None:
    """Record that `process` is alive (registering it at its first beat, or again after it was pruned), and
    remove the rows of processes that stopped beating."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    moment = engine.now()
    with engine.session() as s:
        row = s.get(EngineWorker, process.id)
        if row is None:
            s.add(EngineWorker(id=process.id, host=process.host[:255], pid=process.pid, role=role,
                               started_at=moment, beat_at=moment))
        else:
            row.role, row.beat_at = role, moment
        s.execute(delete(EngineWorker).where(EngineWorker.beat_at < moment - STALE_AFTER))


def retire(engine: Engine, process: Process = THIS_PROCESS) -> None:
    """A clean stop: the process leaves the list at once instead of after STALE_AFTER."""
    with engine.session() as s:
        s.execute(delete(EngineWorker).where(EngineWorker.id == process.id))


def live(s: Session, at: datetime) -> list[dict[str, Any]]:
    """The processes that beat within STALE_AFTER before `at`, oldest first."""
    rows = s.execute(
        select(EngineWorker).where(EngineWorker.beat_at >= at - STALE_AFTER)
        .order_by(EngineWorker.started_at, EngineWorker.id)
    ).scalars()
    return [
        {"id": row.id, "host": row.host, "pid": row.pid, "role": row.role,
         "startedAt": iso(row.started_at), "lastBeatAt": iso(row.beat_at)}
        for row in rows
    ]
