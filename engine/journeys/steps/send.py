"""send: queue a delivery through the channel (the transactional outbox): the offer's creative, or a message
of the step's own (`template` with a body, no offer needed). A simulation renders a preview instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine import templates
from engine.decisioning import decisions
from engine.delivery import dispatcher, outbox
from engine.delivery.channels import SendError
from engine.engine import Engine
from engine.journeys.steps.base import Checks, Detail, Run, Said, StepKind, StepResult, name_of, quoted
from engine.journeys.steps.decide import decision_flow_of
from models.channels import Channel, Delivery
from models.journey import SendStep
from models.offers import Offer


@dataclass(slots=True)
class SendDetail(Detail):
    """What was queued (or why nothing was); a simulation's `preview` ({"subject", "body"}) or
    `preview_error` instead of a delivery."""

    channel_id: str
    offer_id: str | None = None
    delivery_id: str | None = None
    status: str | None = None
    reason: str | None = None
    preview: dict[str, Any] | None = None
    preview_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"channelId": self.channel_id}
        if self.status is not None or self.reason is None:
            data["offerId"] = self.offer_id  # nothing to send (a reason, no status): no offer to name
        for key, value in (("deliveryId", self.delivery_id), ("status", self.status),
                           ("reason", self.reason), ("preview", self.preview),
                           ("previewError", self.preview_error)):
            if value is not None:
                data[key] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SendDetail:
        return cls(data.get("channelId") or "", data.get("offerId"), data.get("deliveryId"),
                   data.get("status"), data.get("reason"), data.get("preview"), data.get("previewError"))


def idempotency_key(run: Run, step_id: str) -> str:
    """Enrollment + step + visit: a re-run after a crash finds the same delivery instead of adding one."""
    return f"{run.enrollment_id}:{step_id}:{run.visit}"


class Send(StepKind):
    type = "send"
    name = "Send"
    schema = SendStep
    detail = SendDetail
    writes_db = True

    def check(self, step: SendStep, checks: Checks) -> None:
        config, refs = step.config, checks.refs
        if not config.channel_id:
            checks.error("missing_config", "send has no channel", step.id)
        elif config.channel_id not in refs.channels:
            checks.error("unknown_reference", f"channel '{config.channel_id}' does not exist", step.id)
        if config.offer_from and config.offer_id:
            checks.error("invalid_config", "give either offerFrom or offerId, not both", step.id)
        elif config.offer_id:
            if config.offer_id not in refs.offers:
                checks.error("unknown_reference", f"offer '{config.offer_id}' does not exist", step.id)
        elif config.offer_from:
            downstream = checks.after_result(config.offer_from)
            if downstream is None:
                checks.error("invalid_config",
                             f"offerFrom '{config.offer_from}' is not the storeResultAs of any decide step",
                             step.id)
            elif step.id not in downstream:
                checks.error("invalid_config", f"offerFrom '{config.offer_from}' is stored by a decide step "
                                               "that does not come before this step", step.id)
        elif not (config.template and (config.template.body or "").strip()):
            checks.error("missing_config", "send needs a message (a template with a body) or an offer: "
                                           "offerFrom (a decide result) or offerId", step.id)
        for part in ("subject", "body"):
            source = getattr(config.template, part) if config.template else None
            reason = templates.check(source) if source else None
            if reason:
                checks.error("invalid_template", f"message {part}: {reason}", step.id)

    def execute(self, step: SendStep, run: Run) -> StepResult:
        config = step.config
        if not config.channel_id:
            raise ValueError("send step has no channelId")
        offer_id, policy = config.offer_id, None
        if config.offer_from:
            offers = run.results.get(config.offer_from)
            if not offers:
                detail = SendDetail(config.channel_id, reason=f"no offer in {config.offer_from}")
                return StepResult("no_offer", step.next, detail)
            offer_id = offers[0]["offerId"]
            policy = _contact_policy(run, config.offer_from)
        template = config.template.model_dump(exclude_none=True) if config.template else None
        context = {
            "customer": run.customer(),
            "context": run.results,
            "event": run.context.get("event"),
            "journey": run.journey,
        }
        if run.dry_run:
            detail = _preview(run.engine, run, step.id, config.channel_id, offer_id, template, context)
            return StepResult("would_send", step.next, detail)
        queued = outbox.queue_delivery(
            run.uow,
            run.tally,
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
        detail = SendDetail(config.channel_id, offer_id, queued.id, queued.status, queued.reason or None)
        # Suppressed by the contact policy is recorded, and the journey goes on.
        return StepResult(queued.status, step.next, detail)

    def words(self, detail: SendDetail, said: Said) -> str:
        channel = quoted(name_of(said.refs.channels, detail.channel_id))
        if said.outcome == "no_offer":
            return f"{said.label} via {channel}: nothing to send ({detail.reason or 'no offer'})"
        offer = detail.offer_id
        return f"{said.label} via {channel}" + (f", offer {quoted(name_of(said.refs.offers, offer))}"
                                                if offer else "")


def _contact_policy(run: Run, result_name: str) -> dict[str, Any] | None:
    flow_id = decision_flow_of(run, result_name)
    return decisions.contact_policy_of(run.uow, flow_id) if flow_id else None


def _preview(engine: Engine, run: Run, step_id: str, channel_id: str, offer_id: str | None,
             template: dict[str, Any] | None, context: dict[str, Any]) -> SendDetail:
    """What the dispatcher would render for this customer now, through the same sandboxed renderer: its
    `preview` ({"subject", "body"}), or `preview_error` (a template error, a missing channel)."""
    detail = SendDetail(channel_id, offer_id)
    channel = run.session.get(Channel, channel_id)
    offer = run.session.get(Offer, offer_id) if offer_id else None
    if channel is None:
        detail.preview_error = f"channel {channel_id} not found"
        return detail
    if offer_id and offer is None:
        detail.preview_error = f"offer {offer_id} not found"
        return detail
    draft = Delivery(id="preview", idempotency_key=idempotency_key(run, step_id), customer_id=run.customer_id,
                     channel_id=channel_id, offer_id=offer_id, journey_id=run.journey.get("id"),
                     enrollment_id=run.enrollment_id, step_id=step_id, created_at=run.now,
                     payload={"template": template, "context": context})
    try:
        subject, body = dispatcher.render(engine, draft, channel, offer, run.customer())
    except SendError as error:
        detail.preview_error = str(error)
        return detail
    detail.preview = {"subject": subject, "body": body}
    return detail


KIND = Send()
