"""Operations for revisions that need more than `alembic.op` gives in one call."""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


def create_index_concurrently(name: str, table: str, columns: Sequence[str], unique: bool = False) -> None:
    """Create an index without blocking writes on PostgreSQL (CREATE INDEX CONCURRENTLY); plain elsewhere.

    PostgreSQL refuses CONCURRENTLY inside a transaction, so the build runs in an autocommit block: what the
    revision did before is committed first (env.py runs one transaction per revision). A build that failed
    half-way leaves an INVALID index behind, so a retry drops it before building again.
    """
    context = op.get_context()
    if context.dialect.name != "postgresql":
        op.create_index(name, table, list(columns), unique=unique)
        return
    with context.autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(name, table, list(columns), unique=unique, postgresql_concurrently=True)
