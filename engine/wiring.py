"""Connects the receivers of `engine.signals` by importing the modules that define them."""

from __future__ import annotations

import importlib

# Each connects its receivers at import: entry paths, archive exits, untilEvent resume and extendWaits,
# and responses carried by events.
LISTENERS = (
    "engine.runtime.entry",
    "engine.runtime.enrollments",
    "engine.runtime.runner",
    "engine.delivery.responses",
)


def connect_all() -> None:
    """Idempotent: importing a listener module connects it once."""
    for name in LISTENERS:
        importlib.import_module(name)
