"""Connects the receivers of `engine.signals` by importing the modules that define them."""

from __future__ import annotations


def connect_all() -> None:
    """Idempotent: importing a listener module connects it once."""
