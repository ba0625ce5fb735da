"""The dispatcher: delivers queued outbox rows through their channels, with retries and backoff.

Each round claims due rows with a lease in one short transaction (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several processes can share the outbox), then renders and sends each one with no
transaction open, then records the attempts together in one short transaction (every RECORD_BATCH
attempts or RECORD_SECONDS, and at the round's end). An in_app message is staged during the round and
written in that same transaction, so it lands exactly when its delivery is marked sent. A crash between
sending and recording can send a message twice once the lease runs out: the webhook/sms/push
`Idempotency-Key` header, the email Message-ID and the inbox's unique delivery id let the receiving end
drop the repeat.
Leases are short (30 s) so a crashed dispatcher's messages wait seconds, not minutes; while a round runs,
a heartbeat renews the lease of every row it still holds, so a long send (or a long round) keeps its rows.
A round never sends past its lease: rows it has not reached when little lease is left go back unsent.

Rate limits: each channel's `rate_limit` (deliveries per second) is a token bucket kept in this
process, holding at most one second's worth of tokens (at least one). A delivery that finds the bucket
empty is put back with `next_attempt_at` set to when a token will be there; that is not an attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlmodel import Session

from engine import counters, templates
from engine.audience.segments import customer_views
from engine.counters import Tally
from engine.db import retrying
from engine.delivery import delivery_store as store
from engine.delivery.channels import SENDERS, OutgoingMessage, SendError, Sending, in_app
from engine.engine import Engine
from models.channels import Channel, Delivery
from models.common import iso
from models.offers import Offer

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
LEASE = timedelta(seconds=30)
# The heartbeat renews the round's leases this often (real seconds): three beats per lease.
HEARTBEAT_SECONDS = LEASE.total_seconds() / 3
# No single send takes longer (HTTP timeouts are at most 120 s; SMTP allows 30 s per command). A round
# stops sending once less than this (or half the lease, when leases are short) is left.
SEND_BOUND = timedelta(seconds=150)
# A round records its attempts in one transaction at least this often (real seconds) and this many at a
# time: one commit for many in_app messages, while a slow channel's sent rows do not wait unrecorded.
RECORD_SECONDS = 1.0
RECORD_BATCH = 100


@dataclass
class _Job:
    """A claimed delivery with what it needs to be rendered and sent."""

    delivery: Delivery
    lease_until: datetime
    channel: Channel | None
    offer: Offer | None
    customer: dict[str, Any] | None


@dataclass
class _Bucket:
    rate: float
    tokens: float
    at: datetime

    def take(self, moment: datetime) -> float:
        """Take a token; 0 when there was one, else the seconds until there will be."""
        elapsed = max(0.0, (moment - self.at).total_seconds())
        self.tokens = min(max(1.0, self.rate), self.tokens + elapsed * self.rate)
        self.at = moment
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class _Limiter:
    """The token buckets of one engine (a new engine starts with full buckets)."""

    buckets: dict[str, _Bucket] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_seconds(self, channel: Channel | None, moment: datetime) -> float:
        if channel is None or not channel.rate_limit:
            return 0.0
        with self.lock:
            bucket = self.buckets.get(channel.id)
            if bucket is None or bucket.rate != channel.rate_limit:
                bucket = _Bucket(channel.rate_limit, max(1.0, channel.rate_limit), moment)
                self.buckets[channel.id] = bucket
            return bucket.take(moment)


# Each engine's buckets, for as long as the engine lives.
_limiters: WeakKeyDictionary[Engine, _Limiter] = WeakKeyDictionary()


def _limiter(engine: Engine) -> _Limiter:
    return _limiters.setdefault(engine, _Limiter())


def dispatch_due(engine: Engine, limit: int = 100) -> int:
    """Deliver up to `limit` due deliveries; returns how many were attempted (sent or failed). A round
    that attempted any publishes `{"kind": "deliveries", "at", "attempted", "journeys"}` on the live bus."""
    attempted = 0
    put_back: list[store.PutBack] = []
    touched: set[str | None] = set()
    jobs = _claim(engine, limit)
    sending = Sending(engine, inbox=[])
    with _Heartbeat(engine, jobs) as heartbeat:
        outcomes = _Outcomes(engine, heartbeat, sending.inbox)
        for job in jobs:
            if _handle(sending, job, heartbeat, put_back, touched, outcomes):
                attempted += 1
            if outcomes.due():
                outcomes.flush()
        outcomes.flush()
    if put_back:
        _put_back(engine, put_back)
    if attempted:
        engine.live.publish({"kind": "deliveries", "at": iso(engine.now()), "attempted": attempted,
                      "journeys": sorted(journey for journey in touched if journey)})
    return attempted


def _handle(sending: Sending, job: _Job, heartbeat: _Heartbeat, put_back: list[store.PutBack],
            touched: set[str | None], outcomes: _Outcomes) -> bool:
    """Send one claimed delivery, or put it back (late or rate-limited); True when it was attempted."""
    engine = sending.engine
    try:
        moment = engine.now()
        # A round that ran long stops short of its lease's end, so no other worker can claim a row
        # this one is still sending; the rest go back for the next round.
        late = moment + min(SEND_BOUND, LEASE / 2) >= job.lease_until
        wait = 0.0 if late else _limiter(engine).wait_seconds(job.channel, moment)
        if late or wait > 0:
            heartbeat.release(job)  # first, so the lease put back is the one the row has
            put_back.append(store.PutBack(job.delivery.id, job.lease_until, moment + timedelta(seconds=wait)))
            return False
        touched.add(job.delivery.journey_id)
        outcomes.add(job, *_deliver(sending, job))
        return True
    except Exception:  # a broken row must not stop the others; its lease runs out and it comes back
        log.exception("dispatching delivery %s failed", job.delivery.id)
        heartbeat.release(job)
        return False


# One attempt to record: the job, its error (None: sent), whether that is permanent, what was rendered, when.
_Attempt = tuple[_Job, str | None, bool, tuple[str, str] | None, datetime]


class _Outcomes:
    """A round's attempts, recorded together: one transaction (one commit) for many deliveries, with the
    in_app messages staged meanwhile. A delivery stays in the heartbeat (its lease renewed) until its
    attempt is recorded; a round records at least every RECORD_SECONDS and every RECORD_BATCH attempts."""

    def __init__(self, engine: Engine, heartbeat: _Heartbeat, inbox: list[dict[str, Any]]) -> None:
        self.engine = engine
        self.heartbeat, self.inbox = heartbeat, inbox
        self.pending: list[_Attempt] = []
        self.since = 0.0

    def add(self, job: _Job, error: str | None, permanent: bool, rendered: tuple[str, str] | None) -> None:
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((job, error, permanent, rendered, self.engine.now()))

    def due(self) -> bool:
        return bool(self.pending) and (len(self.pending) >= RECORD_BATCH
                                       or time.monotonic() - self.since >= RECORD_SECONDS)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        rows, self.inbox[:] = list(self.inbox), []
        if not pending and not rows:
            return
        try:
            retrying(lambda: _write(self.engine, rows, pending))
        except Exception:  # unrecorded: the leases run out and the deliveries are attempted again
            log.exception("recording %d delivery attempts failed", len(pending))
        finally:
            for job, *_rest in pending:
                self.heartbeat.release(job)


class _Heartbeat:
    """Renews the leases of a round's rows every HEARTBEAT_SECONDS while the round runs (a daemon thread).

    A row leaves the heartbeat once it is recorded or put back; a renewal only succeeds while the lease is
    still the one this round holds, so a row another worker took over is never renewed."""

    def __init__(self, engine: Engine, jobs: list[_Job]) -> None:
        self.engine = engine
        self.held = {job.delivery.id: job for job in jobs}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dispatch-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        if self.held:
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def release(self, job: _Job) -> None:
        """The job is done with (recorded or put back): its lease is no longer renewed."""
        with self.lock:
            self.held.pop(job.delivery.id, None)

    def _run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                self.beat()
            except Exception:  # the round goes on; the late check still keeps it inside its lease
                log.exception("lease heartbeat failed")

    def beat(self) -> int:
        """Renew every held row's lease to now + LEASE; returns how many were renewed."""
        with self.lock:
            renewed, lease = 0, self.engine.now() + LEASE
            # In id order, as recording locks them: the two never wait on each other in a cycle.
            jobs = [job for _id, job in sorted(self.held.items())]
            if not jobs:
                return 0
            with self.engine.session() as s:
                for job in jobs:
                    if store.renew_lease(s, job.delivery.id, job.lease_until, lease):
                        job.lease_until = lease
                        renewed += 1
            return renewed


def _put_back(engine: Engine, rows: list[store.PutBack]) -> None:
    """Release claimed rows unsent, but only those whose lease is still ours."""
    with engine.session() as s:
        store.put_back(s, rows)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s, … capped at 5 minutes."""
    return timedelta(seconds=min(FIRST_BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


def _claim(engine: Engine, limit: int) -> list[_Job]:
    with engine.session() as s:
        moment = engine.now()
        lease = moment + LEASE
        rows = store.claim_due(engine, s, moment, lease, limit)
        if not rows:
            return []
        views = customer_views(s, [row.customer_id for row in rows])
        return [
            _Job(row, lease, s.get(Channel, row.channel_id),
                 s.get(Offer, row.offer_id) if row.offer_id else None, views.get(row.customer_id))
            for row in rows
        ]


def _deliver(sending: Sending, job: _Job) -> tuple[str | None, bool, tuple[str, str] | None]:
    """Render and send; (error or None, whether the error is permanent, the rendered subject and body)."""
    rendered: tuple[str, str] | None = None
    try:
        channel = _usable_channel(job)
        if job.customer is None:
            raise SendError(f"customer {job.delivery.customer_id} not found", permanent=True)
        if job.delivery.offer_id and job.offer is None:
            raise SendError(f"offer {job.delivery.offer_id} not found", permanent=True)
        rendered = render(sending.engine, job.delivery, channel, job.offer, job.customer)
        SENDERS[channel.type](sending, channel.config or {}, _message(job, channel, *rendered))
    except SendError as error:
        return str(error), error.permanent, rendered
    except Exception as error:  # an unexpected failure is retried like a transient one
        log.warning("delivery %s: %s", job.delivery.id, error, exc_info=True)
        return f"{type(error).__name__}: {error}", False, rendered
    return None, False, rendered


def _usable_channel(job: _Job) -> Channel:
    if job.channel is None:
        raise SendError(f"channel {job.delivery.channel_id} not found", permanent=True)
    if job.channel.type not in SENDERS:
        raise SendError(f"channel type {job.channel.type} cannot send", permanent=True)
    return job.channel


def render(engine: Engine, delivery: Delivery, channel: Channel, offer: Offer | None,
           customer: dict[str, Any]) -> tuple[str, str]:
    """Subject and body: the journey's template override, else the offer's creative for the channel
    type, else the offer's name and description as they are. A template error is a permanent failure."""
    payload = delivery.payload or {}
    override = payload.get("template") or {}
    creative = ((offer.creatives or {}).get(channel.type) if offer else None) or {}
    variables = templates.variables(
        customer, offer_view(offer), payload.get("context") or {},
        {"id": delivery.journey_id, "enrollmentId": delivery.enrollment_id, "stepId": delivery.step_id},
    )
    fallback = {"subject": offer.name if offer else "", "body": offer.description if offer else ""}
    parts = []
    for part in ("subject", "body"):
        source = override.get(part) if override.get(part) is not None else creative.get(part)
        if source is None:
            parts.append(fallback[part])
            continue
        try:
            parts.append(templates.render(engine.settings, source, variables))
        except templates.TemplateError as error:
            raise SendError(f"template error in {part}: {error}", permanent=True) from error
    return parts[0], parts[1]


def offer_view(offer: Offer | None) -> dict[str, Any] | None:
    """What a template sees as `offer`."""
    if offer is None:
        return None
    return {"id": offer.id, "name": offer.name, "description": offer.description, "category": offer.category,
            "businessValue": offer.business_value, "priority": offer.priority}


def _message(job: _Job, channel: Channel, subject: str, body: str) -> OutgoingMessage:
    row = job.delivery
    return OutgoingMessage(
        delivery_id=row.id, idempotency_key=row.idempotency_key, channel_id=channel.id,
        customer_id=row.customer_id, customer=job.customer or {}, offer_id=row.offer_id,
        journey_id=row.journey_id, enrollment_id=row.enrollment_id, step_id=row.step_id,
        subject=subject, body=body,
    )


def _write(engine: Engine, inbox: list[dict[str, Any]], pending: list[_Attempt]) -> None:
    """One transaction: the staged in_app messages and the recorded attempts, both only for deliveries still
    queued (one suppressed meanwhile, e.g. because its customer was erased, leaves no inbox message)."""
    with engine.session() as s:
        ids = {job.delivery.id for job, *_rest in pending} | {row["delivery_id"] for row in inbox}
        queued = store.lock_still_queued(engine, s, sorted(ids))
        if inbox := [row for row in inbox if row["delivery_id"] in queued]:
            in_app.write(engine, s.connection(), inbox)
        if pending:
            tally = Tally()
            _record(s, pending, queued, tally)
            counters.apply(s, tally)


def _record(s: Session, pending: list[_Attempt], queued: set[str], tally: Tally) -> None:
    """Write the attempts and the deliveries' new states (sent, retry later, or failed for good); only rows
    in `queued` move, counted in `tally`."""
    attempts: list[store.Attempt] = []
    outcomes: list[store.Outcome] = []
    for job, error, permanent, rendered, moment in pending:
        delivery = job.delivery
        attempt = delivery.attempts + 1
        status, next_at = "queued", moment + backoff(attempt)
        if error is None:
            status, next_at = "sent", None
        elif permanent or attempt >= MAX_ATTEMPTS:
            status, next_at = "failed", None
        subject, body = rendered if rendered is not None else (None, None)
        attempts.append(store.Attempt(delivery.id, moment, error is None, error))
        if delivery.id not in queued:
            continue  # no longer queued (moved by someone else meanwhile): only the attempt is recorded
        outcomes.append(store.Outcome(delivery.id, status, attempt, error, next_at,
                                      moment if error is None else None, subject, body))
        # Only a row moved out of "queued" changes the counts (a retry stays queued).
        if status != "queued":
            tally.delivery(delivery.journey_id, delivery.step_id, delivery.channel_id, status,
                           previous="queued")
    store.record(s, attempts, outcomes)
