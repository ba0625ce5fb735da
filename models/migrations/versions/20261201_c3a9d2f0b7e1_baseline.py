"""baseline: the schema made by create_all before migrations

Every table and index as the last release without migrations created them; a database made by that
release is stamped here (engine/schema.py) instead of running this.

Revision ID: c3a9d2f0b7e1
Revises: (none)
Create Date: 2026-12-01 02:38:45.481771
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a9d2f0b7e1"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("rate_limit", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "decisionflow",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("offer_ids", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("contact_policy", sa.JSON(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("max_offers", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("offer_id", sa.String(64), nullable=True),
        sa.Column("journey_id", sa.String(64), nullable=True),
        sa.Column("enrollment_id", sa.String(64), nullable=True),
        sa.Column("step_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("body", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index("ix_delivery_contact", ["customer_id", "offer_id", "created_at"], unique=False)
        batch_op.create_index("ix_delivery_created", ["created_at"], unique=False)
        batch_op.create_index("ix_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_enrollment_id"), ["enrollment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_journey_id"), ["journey_id"], unique=False)

    op.create_table(
        "deliveryattempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveryattempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveryattempt_delivery_id"), ["delivery_id"], unique=False)

    op.create_table(
        "deliverycounter",
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("journey_id", "step_id", "channel_id", "status"),
    )
    op.create_table(
        "edgecounter",
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("journey_id", "source", "target"),
    )
    op.create_table(
        "enrollment",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("wait_event", sa.String(120), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("exit_reason", sa.String(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.create_index("ix_enrollment_customer", ["customer_id", "journey_id"], unique=False)
        batch_op.create_index("ix_enrollment_due", ["status", "next_run_at"], unique=False)
        batch_op.create_index(
            "ix_enrollment_journey_entered", ["journey_id", "status", "entered_at"], unique=False
        )
        batch_op.create_index("ix_enrollment_journey_step", ["journey_id", "status", "step_id"], unique=False)
        batch_op.create_index("ix_enrollment_wait_event", ["customer_id", "wait_event"], unique=False)

    op.create_table(
        "enrollmenthistory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.String(64), nullable=False),
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("next_step_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enrollmenthistory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrollmenthistory_enrollment_id"), ["enrollment_id"], unique=False
        )
        batch_op.create_index("ix_history_journey_at", ["journey_id", "at"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(120), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_customer_type", ["customer_id", "type"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_type"), ["type"], unique=False)

    op.create_table(
        "inboxmessage",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("offer_id", sa.String(64), nullable=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
    )
    with op.batch_alter_table("inboxmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inboxmessage_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "journey",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("max_duration", sa.Integer(), nullable=False),
        sa.Column("entry_conditions", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("paused_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journey_status"), ["status"], unique=False)

    op.create_table(
        "journeycounter",
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("journey_id", "name"),
    )
    op.create_table(
        "journeyversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("journey_id", "version"),
    )
    with op.batch_alter_table("journeyversion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journeyversion_journey_id"), ["journey_id"], unique=False)

    op.create_table(
        "offer",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("category", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("eligibility", sa.String(), nullable=True),
        sa.Column("propensity", sa.JSON(), nullable=True),
        sa.Column("business_value", sa.Float(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("start_date", sa.DateTime(), nullable=True),
        sa.Column("end_date", sa.DateTime(), nullable=True),
        sa.Column("creatives", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_category"), ["category"], unique=False)

    op.create_table(
        "response",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("offer_id", sa.String(64), nullable=True),
        sa.Column("journey_id", sa.String(64), nullable=True),
        sa.Column("enrollment_id", sa.String(64), nullable=True),
        sa.Column("step_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_response_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_response_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index("ix_response_enrollment_at", ["enrollment_id", "at"], unique=False)

    op.create_table(
        "responsecounter",
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("journey_id", "step_id", "outcome"),
    )
    op.create_table(
        "segment",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("static", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "segmentbackfill",
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("after", sa.String(128), nullable=True),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("journey_id"),
    )
    op.create_table(
        "segmentchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("segmentchange", schema=None) as batch_op:
        batch_op.create_index("ix_segmentchange_segment_at", ["segment_id", "at"], unique=False)

    op.create_table(
        "segmentmember",
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "customer_id"),
    )
    with op.batch_alter_table("segmentmember", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segmentmember_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "seriescounter",
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("slot", sa.DateTime(), nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("journey_id", "width", "slot", "name"),
    )
    op.create_table(
        "stepcounter",
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("current", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("journey_id", "step_id"),
    )


def downgrade() -> None:
    op.drop_table("stepcounter")
    op.drop_table("seriescounter")
    with op.batch_alter_table("segmentmember", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segmentmember_customer_id"))

    op.drop_table("segmentmember")
    with op.batch_alter_table("segmentchange", schema=None) as batch_op:
        batch_op.drop_index("ix_segmentchange_segment_at")

    op.drop_table("segmentchange")
    op.drop_table("segmentbackfill")
    op.drop_table("segment")
    op.drop_table("responsecounter")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_enrollment_at")
        batch_op.drop_index(batch_op.f("ix_response_delivery_id"))
        batch_op.drop_index(batch_op.f("ix_response_customer_id"))

    op.drop_table("response")
    with op.batch_alter_table("offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_category"))

    op.drop_table("offer")
    with op.batch_alter_table("journeyversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journeyversion_journey_id"))

    op.drop_table("journeyversion")
    op.drop_table("journeycounter")
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journey_status"))

    op.drop_table("journey")
    with op.batch_alter_table("inboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboxmessage_customer_id"))

    op.drop_table("inboxmessage")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_type"))
        batch_op.drop_index("ix_event_customer_type")

    op.drop_table("event")
    with op.batch_alter_table("enrollmenthistory", schema=None) as batch_op:
        batch_op.drop_index("ix_history_journey_at")
        batch_op.drop_index(batch_op.f("ix_enrollmenthistory_enrollment_id"))

    op.drop_table("enrollmenthistory")
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollment_wait_event")
        batch_op.drop_index("ix_enrollment_journey_step")
        batch_op.drop_index("ix_enrollment_journey_entered")
        batch_op.drop_index("ix_enrollment_due")
        batch_op.drop_index("ix_enrollment_customer")

    op.drop_table("enrollment")
    op.drop_table("edgecounter")
    op.drop_table("deliverycounter")
    with op.batch_alter_table("deliveryattempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveryattempt_delivery_id"))

    op.drop_table("deliveryattempt")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_journey_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_enrollment_id"))
        batch_op.drop_index("ix_delivery_due")
        batch_op.drop_index("ix_delivery_created")
        batch_op.drop_index("ix_delivery_contact")
        batch_op.drop_index(batch_op.f("ix_delivery_channel_id"))

    op.drop_table("delivery")
    op.drop_table("decisionflow")
    op.drop_table("customer")
    op.drop_table("channel")
