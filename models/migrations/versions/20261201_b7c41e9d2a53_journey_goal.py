"""journey goal: the event type (within N days of entry) that counts as a conversion, NULL for none

Revision ID: b7c41e9d2a53
Revises: afd31151a196
Create Date: 2026-12-01 06:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7c41e9d2a53"
down_revision: str | Sequence[str] | None = "afd31151a196"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        # Existing journeys have no goal.
        batch_op.add_column(sa.Column("goal", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_column("goal")
