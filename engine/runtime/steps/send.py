"""send: queue a delivery through the channel (the transactional outbox): the offer's creative, or a message
of the step's own (`template` with a body, no offer needed). A simulation renders a preview instead."""

from __future__ import annotations

from typing import Any

from engine.decisioning import decisions
from engine.delivery import dispatcher, outbox
from engine.delivery.channels import SendError
from engine.runtime.steps.base import Run, StepResult
from models.channels import Channel, Delivery
from models.journey import SendStep
from models.offers import Offer

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
    template = config.template.model_dump(exclude_none=True) if config.template else None
    context = {
        "customer": run.customer(),
        "context": run.results,
        "event": run.context.get("event"),
        "journey": run.journey,
    }
    if run.dry_run:
        detail.update(_preview(run, step.id, config.channel_id, offer_id, template, context))
        return StepResult("would_send", step.next, detail)
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
    return decisions.contact_policy_of(run.session, flow_id) if flow_id else None


def _preview(run: Run, step_id: str, channel_id: str, offer_id: str | None, template: dict[str, Any] | None,
             context: dict[str, Any]) -> dict[str, Any]:
    """What the dispatcher would render for this customer now, through the same sandboxed renderer:
    `{"preview": {"subject", "body"}}`, or `{"previewError": why}` (a template error, a missing channel)."""
    channel = run.session.get(Channel, channel_id)
    offer = run.session.get(Offer, offer_id) if offer_id else None
    if channel is None:
        return {"previewError": f"channel {channel_id} not found"}
    if offer_id and offer is None:
        return {"previewError": f"offer {offer_id} not found"}
    draft = Delivery(id="preview", idempotency_key=idempotency_key(run, step_id), customer_id=run.customer_id,
                     channel_id=channel_id, offer_id=offer_id, journey_id=run.journey.get("id"),
                     enrollment_id=run.enrollment_id, step_id=step_id, created_at=run.now,
                     payload={"template": template, "context": context})
    try:
        subject, body = dispatcher.render(draft, channel, offer, run.customer())
    except SendError as error:
        return {"previewError": str(error)}
    return {"preview": {"subject": subject, "body": body}}
