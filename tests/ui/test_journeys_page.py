"""The journeys list: status and counts, search and filter, create, duplicate, export, archive, delete."""

from __future__ import annotations

import json
from typing import Any

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from engine.engine import Engine
from engine.journeys import lifecycle
from models.journey import JourneyCreate

STEPS = [{"id": "bye", "type": "exit", "name": "Bye", "config": {"reason": "done"}}]


def make(engine: Engine, name: str, steps: list[dict[str, Any]] | None = None) -> str:
    document = {"name": name, "steps": steps or []}
    return lifecycle.create_journey(engine, JourneyCreate.model_validate(document)).id


async def test_home_lists_journeys_with_status_version_and_enrolled_count(engine: Engine, user: User) -> None:
    draft = make(engine, "Onboarding")
    live = make(engine, "Winback", STEPS)
    lifecycle.change_status(engine, live, "active")
    await user.open("/")
    await user.should_see("Onboarding")
    await user.should_see("Winback")
    await user.should_see(marker=f"open-{draft}")
    await user.should_see("active")
    await user.should_see("enrolled now · 0 entered")


async def test_search_and_status_filter_narrow_the_list(engine: Engine, user: User) -> None:
    make(engine, "Onboarding")
    live = make(engine, "Winback", STEPS)
    lifecycle.change_status(engine, live, "active")
    await user.open("/journeys")
    user.find(marker="search").type("win")
    await user.should_see("Winback")
    await user.should_not_see("Onboarding")
    user.find(marker="search").clear()
    with user.client:
        next(iter(user.find(marker="status-filter").elements)).value = "draft"
    await user.should_see("Onboarding")
    await user.should_not_see("Winback")


async def test_new_journey_dialog_creates_a_draft_and_opens_the_editor(engine: Engine, user: User) -> None:
    await user.open("/journeys")
    user.find(marker="new-journey").click()
    user.find(marker="new-name").type("Birthday")
    user.find(marker="create").click()
    await user.should_see(marker="canvas")
    created = lifecycle.list_journeys(engine, search="Birthday")["data"]
    assert [j["status"] for j in created] == ["draft"]


async def test_duplicate_makes_a_draft_copy(engine: Engine, user: User) -> None:
    original = make(engine, "Onboarding", STEPS)
    await user.open("/journeys")
    user.find(marker=f"duplicate-{original}").click()
    await user.should_see("Created Onboarding (copy)")
    names = sorted(j["name"] for j in lifecycle.list_journeys(engine)["data"])
    assert names == ["Onboarding", "Onboarding (copy)"]


async def test_export_downloads_the_document_as_json(engine: Engine, user: User) -> None:
    original = make(engine, "Onboarding", STEPS)
    await user.open("/journeys")
    user.find(marker=f"export-{original}").click()
    download = await user.download.next()
    document = json.loads(download.content)
    assert (document["name"], document["steps"][0]["id"]) == ("Onboarding", "bye")


async def test_an_active_journey_offers_no_delete_and_says_why(engine: Engine, user: User) -> None:
    live = make(engine, "Winback", STEPS)
    draft = make(engine, "Onboarding", STEPS)
    lifecycle.change_status(engine, live, "active")
    await user.open("/journeys")
    [button] = user.find(marker=f"delete-{live}").elements
    assert button.props.get("disable") is True
    [reason] = user.find(marker=f"delete-reason-{live}").elements
    tips = [tip.text for tip in user.find(kind=ui.tooltip).elements
            if tip.props["target"] == f"#{reason.html_id}"]
    assert tips == ["The journey is active: archive it first to delete it"]
    user.find(marker=f"delete-{live}").click()
    await user.should_not_see(marker="confirm-delete")
    assert lifecycle.get_journey(engine, live).status == "active"
    [enabled] = user.find(marker=f"delete-{draft}").elements
    assert not enabled.props.get("disable")


async def test_archive_then_delete(engine: Engine, user: User) -> None:
    live = make(engine, "Winback", STEPS)
    lifecycle.change_status(engine, live, "active")
    await user.open("/journeys")
    user.find(marker=f"archive-{live}").click()
    user.find(marker="confirm-archive").click()
    await user.should_see("Archived")
    assert lifecycle.get_journey(engine, live).status == "archived"
    user.find(marker=f"delete-{live}").click()
    user.find(marker="confirm-delete").click()
    await user.should_see("No journeys yet")
    assert lifecycle.list_journeys(engine)["data"] == []


async def test_import_turns_an_exported_document_into_a_new_draft(engine: Engine, user: User) -> None:
    original = make(engine, "Onboarding", STEPS)
    lifecycle.change_status(engine, original, "active")
    exported = json.dumps(lifecycle.export_journey(engine, original)).encode()
    await user.open("/journeys")
    user.find(marker="import").click()
    upload = next(iter(user.find(marker="import-upload").elements))
    file = SmallFileUpload(name="onboarding.json", content_type="application/json", _data=exported)
    await upload.handle_uploads([file])  # type: ignore[attr-defined]
    await user.should_see("Imported as a new draft: Onboarding")
    copies = [j for j in lifecycle.list_journeys(engine)["data"] if j["id"] != original]
    assert [(j["name"], j["status"], j["steps"]) for j in copies] == [("Onboarding", "draft", STEPS)]


async def test_import_of_a_broken_file_explains_why(engine: Engine, user: User) -> None:
    await user.open("/journeys")
    user.find(marker="import").click()
    upload = next(iter(user.find(marker="import-upload").elements))
    file = SmallFileUpload(name="x.json", content_type="application/json", _data=b'{"steps": []}')
    await upload.handle_uploads([file])  # type: ignore[attr-defined]
    await user.should_see("Import failed")
    assert lifecycle.list_journeys(engine)["data"] == []


async def test_each_row_links_to_its_monitor(engine: Engine, user: User) -> None:
    journey_id = make(engine, "Winback", STEPS)
    await user.open("/journeys")
    await user.should_see(marker=f"monitor-{journey_id}")
    targets = {link.props.get("href") for link in user.find(ui.link).elements}
    assert f"/journeys/{journey_id}/monitor" in targets
