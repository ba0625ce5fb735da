"""journey time zone: the IANA zone of customers without their own, NULL for the workspace default

Revision ID: a8e5f3c1d907
Revises: f1b2c3d4e5a6
Create Date: 2026-12-01 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8e5f3c1d907"
down_revision: str | Sequence[str] | None = "f1b2c3d4e5a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        # Existing journeys keep the workspace default.
        batch_op.add_column(sa.Column("timezone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_column("timezone")
