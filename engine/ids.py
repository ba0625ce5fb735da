"""Generated identifiers: a short type prefix and random hex, e.g. `jrn_3f9a0c1b2d4e`."""

from __future__ import annotations

import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
