"""journey revision counter for optimistic concurrency: bumped by every change, the API's ETag

Revision ID: afd31151a196
Revises: dddcd7665ce4
Create Date: 2026-12-01 03:02:10.966741
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "afd31151a196"
down_revision: str | Sequence[str] | None = "dddcd7665ce4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        # Journeys that exist already start at revision 1, as a new one does.
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_column("revision")

