"""The only module that imports APScheduler: it wakes the engine's jobs."""

from __future__ import annotations


def start() -> None:
    """Start the background jobs."""


def stop() -> None:
    """Stop the background jobs."""
