"""send: queue a delivery of the offer's creative through the channel (the transactional outbox)."""

from __future__ import annotations

from typing import Any

from engine.delivery import outbox
from engine.runtime.steps.base import Run, StepResult
from models.journey import SendStep
from models.offers import DecisionFlow

WRITES_DB = True


def idempotency_key(run: Run, step_id: str) -> str:
    """Enrollment + step + visit: a re-run after a crash finds the same delivery instead of adding one."""
    return f"{run.enrollment_id}:{step_id}:{run.visit}"


def execute(step: SendStep, run: Run) -> StepResult:
    config = step.config
    if not config.channel_id:
        raise ValueError("send step has no channelId")
    offer_id, policy = config.offer_id, None
    if config.offer_from:
        offers = run.results.get(config.offer_from)
        if not offers:
            detail = {"channelId": config.channel_id, "reason": f"no offer in {config.offer_from}"}
            return StepResult("no_offer", step.next, detail)
        offer_id = offers[0]["offerId"]
        policy = _contact_policy(run, config.offer_from)
    detail: dict[str, Any] = {"channelId": config.channel_id, "offerId": offer_id}
    if run.dry_run:
        return StepResult("would_send", step.next, detail)
    template = config.template.model_dump(exclude_none=True) if config.template else None
    context = {
        "customer": run.customer(),
        "context": run.results,
        "event": run.context.get("event"),
        "journey": run.journey,
    }
    queued = outbox.queue_delivery(
        run.session,
        customer_id=run.customer_id,
        channel_id=config.channel_id,
        offer_id=offer_id,
        journey_id=run.journey["id"],
        enrollment_id=run.enrollment_id,
        step_id=step.id,
        idempotency_key=idempotency_key(run, step.id),
        template=template,
        context=context,
        contact_policy=policy,
        now=run.now,
    )
    detail.update(deliveryId=queued.id, status=queued.status)
    if queued.reason:
        detail["reason"] = queued.reason
    # Suppressed by the contact policy is recorded, and the journey goes on.
    return StepResult(queued.status, step.next, detail)


def _contact_policy(run: Run, result_name: str) -> dict[str, Any] | None:
    flow_id = run.context.get("flows", {}).get(result_name)
    flow = run.session.get(DecisionFlow, flow_id) if flow_id else None
    return dict(flow.contact_policy) if flow and flow.contact_policy else None
