"""Alembic migrations for the Journeys schema: env.py, the script template,
versions/ (one file per change) and ops.py (helpers for revisions).

Run through engine/schema.py (`python main.py db upgrade|current|history`); no alembic.ini is needed.
"""
