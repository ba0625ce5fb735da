"""Time zones as they are written: the settings, a customer's zone attribute (create, update, the update
step, import), a journey's own zone (stored, versioned, validated, carried by export and duplicate) and the
run that sees it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from engine.audience import customer_import, customers
from engine.delivery import channels_admin
from engine.engine import Engine
from engine.errors import Conflict, Invalid
from engine.journeys import lifecycle
from engine.runtime import runner
from engine.runtime.simulator import simulate
from engine.settings import Settings
from models.audience import CustomerIn, CustomerUpdate
from models.channels import ChannelCreate, Delivery
from models.journey import Journey, JourneyUpdate, UpdateOperation
from tests.engine.test_runtime import enroll, make_customers, make_journey

WAIT = {"id": "pause", "type": "wait", "config": {"duration": 1, "unit": "days"}}
SHOW_ZONE = {"id": "tell", "type": "send",
             "config": {"channelId": "inapp", "template": {"body": "zone {{ journey.timezone }}"}}}


def _journey(engine: Engine, **fields: Any) -> str:
    return make_journey(engine, [WAIT], activate=False, **fields)


# ---- settings ---------------------------------------------------------------------------------------------

def test_settings_refuse_a_default_zone_that_is_not_an_iana_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYS_DEFAULT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="JOURNEYS_DEFAULT_TIMEZONE: 'Mars/Olympus' is not an IANA"):
        Settings()
    monkeypatch.setenv("JOURNEYS_DEFAULT_TIMEZONE", "Europe/Berlin")
    assert Settings().default_timezone == "Europe/Berlin"


@pytest.mark.parametrize("name", ["", "  "])
def test_settings_refuse_an_empty_zone_attribute(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("JOURNEYS_TIMEZONE_ATTRIBUTE", name)
    with pytest.raises(ValidationError, match="JOURNEYS_TIMEZONE_ATTRIBUTE must name a customer attribute"):
        Settings()


# ---- a customer's zone -------------------------------------------------------------------------------------

def test_creating_or_updating_a_customer_refuses_a_zone_that_is_not_an_iana_name(engine: Engine) -> None:
    with pytest.raises(Invalid) as refused:
        customers.create_customer(engine, CustomerIn(id="c1", attributes={"timezone": "Berlin"}))
    assert refused.value.details == {"field": "attributes.timezone"}
    assert "'Berlin' is not an IANA time zone" in refused.value.message
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"timezone": "Europe/Berlin"}))
    for wrong in ("Mars/Olympus", 3, ""):
        with pytest.raises(Invalid) as refused:
            customers.update_customer(engine, "c1", CustomerUpdate(attributes={"timezone": wrong}))
        assert refused.value.details == {"field": "attributes.timezone"}
    assert customers.get_customer(engine, "c1")["attributes"] == {"timezone": "Europe/Berlin"}
    moved = customers.update_customer(engine, "c1", CustomerUpdate(attributes={"timezone": "Asia/Tokyo"}))
    assert moved["attributes"] == {"timezone": "Asia/Tokyo"}
    # Null removes it: the journey's zone or the workspace default applies again.
    assert customers.update_customer(engine, "c1", CustomerUpdate(attributes={"timezone": None}))[
        "attributes"] == {}


def test_the_configured_attribute_is_the_one_checked(engine: Engine, journeys_env: str) -> None:
    zoned = replace(engine, settings=Settings(database_url=journeys_env, demo=False, scheduler=False,
                                              timezone_attribute="tz"))
    created = customers.create_customer(zoned, CustomerIn(id="c1", attributes={"timezone": "local, I guess"}))
    assert created["attributes"] == {"timezone": "local, I guess"}
    with pytest.raises(Invalid) as refused:
        customers.update_customer(zoned, "c1", CustomerUpdate(attributes={"tz": "CET+1"}))
    assert refused.value.details == {"field": "attributes.tz"}


def _operations(engine: Engine, *operations: dict[str, Any]) -> dict[str, Any]:
    with engine.unit_of_work() as uow:
        parsed = [UpdateOperation.model_validate(operation) for operation in operations]
        return customers.apply_operations(uow, "c1", parsed, engine.now())


def test_the_update_steps_set_refuses_a_zone_naming_the_operations_value(engine: Engine) -> None:
    make_customers(engine, "c1")
    with pytest.raises(Invalid) as refused:
        _operations(engine, {"op": "set", "attribute": "stage", "value": "new"},
                    {"op": "set", "attribute": "timezone", "value": "Nowhere/Land"})
    assert refused.value.details == {"field": "operations.1.value"}
    with pytest.raises(Invalid) as refused:
        _operations(engine, {"op": "increment", "attribute": "timezone", "value": 1})
    assert refused.value.details == {"field": "operations.0.value"}
    assert customers.get_customer(engine, "c1")["attributes"] == {}
    assert _operations(engine, {"op": "set", "attribute": "timezone", "value": "America/New_York"})[
        "timezone"] == "America/New_York"
    assert "timezone" not in _operations(engine, {"op": "unset", "attribute": "timezone"})
    assert _operations(engine, {"op": "set", "attribute": "timezone", "value": None})["timezone"] is None


def test_an_import_rejects_the_lines_whose_zone_is_not_a_zone_and_imports_the_rest(engine: Engine) -> None:
    lines = "\n".join(['{"id": "a", "timezone": "Europe/Paris"}', '{"id": "b", "timezone": "Paris"}',
                       '{"id": "c", "attributes": {"timezone": 7}}', '{"id": "d", "timezone": null}'])
    result = customer_import.import_customers(engine, lines, "jsonl")
    assert (result["created"], result["updated"]) == (2, 0)
    not_a_zone = "is not an IANA time zone (such as Europe/Berlin)"
    assert result["rejected"] == [{"line": 2, "reason": f"attributes.timezone: 'Paris' {not_a_zone}"},
                                  {"line": 3, "reason": f"attributes.timezone: '7' {not_a_zone}"}]
    assert customers.get_customer(engine, "a")["attributes"] == {"timezone": "Europe/Paris"}
    csv = "id,timezone,tier\na,Mars/Olympus,gold\ne,Asia/Tokyo,silver\nf,,gold\n"
    result = customer_import.import_customers(engine, csv, "csv")
    assert (result["created"], result["updated"]) == (2, 0)
    assert [line["line"] for line in result["rejected"]] == [2]
    assert customers.get_customer(engine, "a")["attributes"] == {"timezone": "Europe/Paris"}


# ---- a journey's zone --------------------------------------------------------------------------------------

def test_a_journey_keeps_its_zone_and_refuses_one_that_is_not_an_iana_name(engine: Engine) -> None:
    with pytest.raises(Invalid) as refused:
        _journey(engine, timezone="Europe/Atlantis")
    assert refused.value.details == {"field": "timezone"}
    journey_id = _journey(engine, timezone="Europe/Berlin")
    assert lifecycle.get_journey(engine, journey_id).timezone == "Europe/Berlin"
    with pytest.raises(Invalid) as refused:
        lifecycle.update_journey(engine, journey_id, JourneyUpdate(timezone="GMT+2"))
    assert refused.value.details == {"field": "timezone"}
    moved = lifecycle.update_journey(engine, journey_id, JourneyUpdate(timezone="Asia/Tokyo"))
    assert (moved.timezone, moved.version) == ("Asia/Tokyo", 1)
    # Left out: unchanged; sent as null: the workspace default.
    renamed = lifecycle.update_journey(engine, journey_id, JourneyUpdate(name="Renamed"))
    assert renamed.timezone == "Asia/Tokyo"
    assert lifecycle.update_journey(engine, journey_id, JourneyUpdate(timezone=None)).timezone is None
    assert "timezone" not in lifecycle.list_versions(engine, journey_id)[0]


def test_a_journeys_zone_is_structure_it_is_versioned_and_changes_only_while_paused(engine: Engine) -> None:
    journey_id = _journey(engine, timezone="Europe/Berlin")
    lifecycle.change_status(engine, journey_id, "active")
    with pytest.raises(Conflict) as refused:
        lifecycle.update_journey(engine, journey_id, JourneyUpdate(timezone="Asia/Tokyo"))
    assert (refused.value.code, refused.value.details) == ("pause_first", {"fields": ["timezone"]})
    with pytest.raises(Conflict) as refused:
        lifecycle.update_journey(engine, journey_id, JourneyUpdate(timezone=None))
    assert refused.value.details == {"fields": ["timezone"]}
    lifecycle.change_status(engine, journey_id, "paused")
    moved = lifecycle.update_journey(engine, journey_id, JourneyUpdate(timezone="Asia/Tokyo"))
    assert (moved.timezone, moved.version) == ("Asia/Tokyo", 2)
    versions = lifecycle.list_versions(engine, journey_id)
    assert [(v["version"], v["timezone"]) for v in versions] == [(2, "Asia/Tokyo"), (1, "Europe/Berlin")]
    assert lifecycle.update_journey(engine, journey_id, JourneyUpdate(timezone=None)).version == 3


def test_export_import_and_duplicate_carry_the_zone(engine: Engine) -> None:
    journey_id = _journey(engine, timezone="America/New_York")
    exported = lifecycle.export_journey(engine, journey_id)
    assert exported["timezone"] == "America/New_York"
    assert lifecycle.import_journey(engine, exported).timezone == "America/New_York"
    assert lifecycle.duplicate_journey(engine, journey_id).timezone == "America/New_York"
    assert "timezone" not in lifecycle.export_journey(engine, _journey(engine))
    with pytest.raises(Invalid) as refused:
        lifecycle.import_journey(engine, {**exported, "timezone": "New York"})
    assert refused.value.details == {"field": "timezone"}


def test_validation_reports_a_zone_that_is_not_an_iana_name_and_activation_refuses_it(engine: Engine) -> None:
    journey_id = _journey(engine, timezone="Europe/Berlin")
    # A name the tz database no longer knows (written before an update of it, say).
    with engine.session() as s:
        s.execute(update(Journey).where(Journey.id == journey_id).values(timezone="Europe/Kyiv_Old"))
    [issue] = [i for i in lifecycle.validate_journey(engine, journey_id).issues if i.severity == "error"]
    assert (issue.code, issue.message) == (
        "invalid_timezone", "timezone: 'Europe/Kyiv_Old' is not an IANA time zone (such as Europe/Berlin)")
    with pytest.raises(Conflict) as refused:
        lifecycle.change_status(engine, journey_id, "active")
    assert refused.value.code == "validation_failed"
    assert refused.value.details["issues"][0]["code"] == "invalid_timezone"
    unsaved = lifecycle.validate_document(engine, {"steps": [WAIT], "timezone": "Moon/Base"})
    assert [i.code for i in unsaved.issues if i.severity == "error"] == ["invalid_timezone"]
    assert lifecycle.validate_document(engine, {"steps": [WAIT], "timezone": "UTC"}).valid


# ---- the run sees it ---------------------------------------------------------------------------------------

def test_the_live_run_and_the_test_run_see_the_journeys_zone(engine: Engine) -> None:
    channels_admin.create_channel(engine, ChannelCreate(id="inapp", name="In-app", type="in_app"))
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [SHOW_ZONE], timezone="Asia/Tokyo")
    enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    with engine.session() as s:
        [payload] = s.execute(select(Delivery.payload)).scalars()
    assert payload["context"]["journey"]["timezone"] == "Asia/Tokyo"
    tested = simulate(engine, journey_id, customer_attributes={})
    assert tested["trace"][0]["detail"]["preview"]["body"] == "zone Asia/Tokyo"
    drafted = simulate(engine, document={"steps": [SHOW_ZONE], "timezone": "Europe/Lisbon"})
    assert drafted["trace"][0]["detail"]["preview"]["body"] == "zone Europe/Lisbon"
