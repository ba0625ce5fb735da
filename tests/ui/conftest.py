"""Fixtures for the `user` tests in this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nicegui import app


@pytest.fixture(autouse=True)
def _api_lifespan_not_stacked() -> Iterator[None]:
    """Each `user` test runs main.py again on NiceGUI's one app, and every `include_router` wraps the app's
    lifespan once more; restored after the test, so a long run never exceeds the recursion limit."""
    context = app.router.lifespan_context
    yield
    app.router.lifespan_context = context
