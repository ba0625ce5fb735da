"""history split index: which branch each enrollment took at each split step, for goal results per branch

Revision ID: e5d90a7c3f12
Revises: b7c41e9d2a53
Create Date: 2026-12-01 06:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5d90a7c3f12"
down_revision: str | Sequence[str] | None = "b7c41e9d2a53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Partial: only split rows are indexed, so the runner's other history inserts do not pay for it.
    split_rows = sa.text("type = 'split'")
    op.create_index("ix_history_split", "enrollmenthistory",
                    ["journey_id", "step_id", "outcome", "enrollment_id"], unique=False,
                    sqlite_where=split_rows, postgresql_where=split_rows)


def downgrade() -> None:
    op.drop_index("ix_history_split", table_name="enrollmenthistory")
