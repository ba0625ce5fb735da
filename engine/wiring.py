"""Every signal receiver of the engine, and when it runs: the one place that says who reacts to what.

`IN_TRANSACTION` receivers run inside the sender's transaction, so their writes commit or roll back with
the sender's. `AFTER_COMMIT` receivers run once the sender has committed, in a transaction of their own:
entry caused by an `update` step therefore never runs inside the runner batch that is moving another
enrollment (it would exit or restart rows the batch is still writing).

`signals.work_available` (no transaction: something is due now) wakes the scheduler's jobs; the scheduler
connects `scheduler.wake` itself while it runs, since only a running scheduler has jobs to wake. On
PostgreSQL it also NOTIFYs the other engine processes (workers), connected here so that a web process
running without a scheduler still wakes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import signals
from engine.access import audit
from engine.delivery import responses
from engine.engine import Engine
from engine.runtime import enrollments, entry, notify, runner
from engine.signals import AFTER_COMMIT, IN_TRANSACTION, Signal, When


@dataclass(frozen=True)
class Wire:
    signal: Signal
    receiver: Callable[..., Any]
    when: When


RECEIVERS: tuple[Wire, ...] = (
    # An accepted event: responses it carries are recorded, untilEvent waits resume, and event-entry journeys
    # enroll its customer, all in the transaction that stores the event (none of them is inside a batch).
    # Entry goes first: it locks the journey before any enrollment row, the lock order of every writer.
    Wire(signals.events_accepted, entry.enter_on_events, IN_TRANSACTION),
    Wire(signals.events_accepted, runner.resume_waits, IN_TRANSACTION),
    Wire(signals.events_accepted, responses.record_from_events, IN_TRANSACTION),
    # A segment join enrolls in the journeys that segment starts, after the change commits: the change may
    # come from an update step inside a runner batch.
    Wire(signals.segment_membership_changed, entry.enter_on_join, AFTER_COMMIT),
    # Status changes: activation queues the segment backfill, archive exits everyone, resume with
    # extendWaits moves wait deadlines; each with the status change itself.
    Wire(signals.journey_status_changed, entry.queue_backfill, IN_TRANSACTION),
    Wire(signals.journey_status_changed, enrollments.exit_on_archive, IN_TRANSACTION),
    Wire(signals.journey_status_changed, runner.extend_waits, IN_TRANSACTION),
    # Activation or resume makes work due (a backfill, waiting enrollments): wake the engine once committed.
    Wire(signals.journey_status_changed, notify.wake_on_activation, AFTER_COMMIT),
    # A deleted customer's active enrollments end with the deletion (they would fail at their next step).
    Wire(signals.customer_deleted, enrollments.exit_customer, IN_TRANSACTION),
    # Work due now: the other engine processes hear of it (PostgreSQL NOTIFY; work_available is always sent
    # after the sender's commit, so no transaction is open here whatever `when` says).
    Wire(signals.work_available, notify.announce, IN_TRANSACTION),
)


def connect_all(engine: Engine) -> None:
    """Connect every receiver as listed (idempotent: connecting again replaces the earlier connection), and
    the audit log's hook on every session's flush (engine/access/audit.py)."""
    for wire in RECEIVERS:
        wire.signal.connect(wire.receiver, wire.when)
    audit.connect(engine)
