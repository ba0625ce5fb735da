"""A page whose first read from the engine outlasts its patience (a busy database or thread pool) is served in
time with a "Still loading…" notice and a Retry button, never a traceback; Retry opens it once the engine
answers again."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from nicegui.testing import User

from engine.audience import customers, segments
from engine.decisioning import offers
from engine.engine import Engine
from engine.journeys import lifecycle
from models.audience import CustomerIn, SegmentIn
from models.journey import JourneyCreate
from models.offers import DecisionFlowIn

# Short enough for a quick test; the page's first read gets a part of it before the notice shows.
RESPONSE_SECONDS = 0.6


@contextmanager
def stalled(monkeypatch: pytest.MonkeyPatch, where: str) -> Iterator[None]:
    """Make the function at `where` ("module:name") wait until the block ends (and then answer as usual)."""
    module_name, name = where.split(":")
    # Imported now, not with this file: page modules register their routes when the app first imports them.
    module = importlib.import_module(module_name)
    read = getattr(module, name)
    release = threading.Event()

    def waiting(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=30)
        return read(*args, **kwargs)

    monkeypatch.setattr(module, name, waiting)
    try:
        yield
    finally:
        release.set()
        monkeypatch.setattr(module, name, read)


@contextmanager
def short_response_timeout(user: User) -> Iterator[None]:
    """Shorten the response timeout of the page `user` has open, for the block."""
    page = user.client.page
    usual, page.response_timeout = page.response_timeout, RESPONSE_SECONDS
    try:
        yield
    finally:
        page.response_timeout = usual


def _at(path: str) -> Callable[[Engine], str]:
    """A page at a path of its own, with nothing to set up."""
    return lambda engine: path


def _journey(suffix: str) -> Callable[[Engine], str]:
    return lambda engine: (
        f"/journeys/{lifecycle.create_journey(engine, JourneyCreate(name='Slow')).id}{suffix}"
    )


def _customer(engine: Engine) -> str:
    return f"/customers/{customers.create_customer(engine, CustomerIn(id='ann'))['id']}"


def _segment(engine: Engine) -> str:
    created = segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    return f"/segments/{created['id']}"


def _decision_flow(engine: Engine) -> str:
    created = offers.create_decision_flow(engine, DecisionFlowIn(id="best", name="Best"))
    return f"/decision-flows/{created['id']}"


# page -> its setup (answering the page's path), the read to stall, and the marker of what it shows once read.
PAGES = {
    "editor": (_journey(""), "engine.journeys.lifecycle:get_journey", "canvas"),
    "journey monitor": (_journey("/monitor"), "engine.journeys.lifecycle:get_journey", "monitor-canvas"),
    "journeys": (_at("/journeys"), "engine.journeys.lifecycle:list_journeys", "journey-list"),
    "customer": (_customer, "engine.audience.customers:get_customer", "customer-id"),
    "segment": (_segment, "engine.audience.segments:get_segment", "member-count"),
    "channels": (_at("/channels"), "engine.delivery.channels_admin:list_channels", "channel-list"),
    "decision flow": (_decision_flow, "engine.decisioning.offers:get_decision_flow", "flow-offers"),
    "offers": (_at("/offers"), "ui.pages.offers:customer_attributes", "offers-table"),
    "deliveries": (_at("/deliveries"), "engine.delivery.channels_admin:list_channels", "deliveries"),
    "customers": (_at("/customers"), "engine.audience.customers:list_customers", "customers-table"),
    "segments": (_at("/segments"), "engine.audience.segments:list_segments", "segments-table"),
    "decision flows": (_at("/decision-flows"), "engine.decisioning.offers:list_decision_flows",
                       "flows-table"),
    "offers list": (_at("/offers"), "engine.decisioning.offers:list_offers", "offers-table"),
    "engine monitor": (_at("/monitor"), "engine.monitoring.engine_status:engine_status", "engine-workers"),
}


@pytest.mark.parametrize("setup, read, ready", PAGES.values(), ids=PAGES.keys())
async def test_a_slow_first_read_shows_still_loading_with_retry(
    engine: Engine, user: User, monkeypatch: pytest.MonkeyPatch, setup: Callable[[Engine], str], read: str,
    ready: str
) -> None:
    path = setup(engine)
    await user.open(path)
    with short_response_timeout(user), stalled(monkeypatch, read):
        await user.open(path)
        await user.should_see("Still loading")
        await user.should_see(marker="still-loading-retry")
        await user.should_not_see(marker=ready)
    user.find(marker="still-loading-retry").click()
    await user.should_see(marker=ready, retries=200)
