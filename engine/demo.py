"""Demo data for an empty database."""

from __future__ import annotations


def seed_if_empty() -> bool:
    """Seed demo data when the database holds nothing yet; True when it seeded."""
    return False
