"""Signing in with NiceGUI's simulated browser: pages need a session, the login form signs the bootstrap
admin in and back to the page asked for, the user menu signs out; roles see what they may not do disabled
and told why; admins see the audit log and manage users and keys; the monitor shows the journey's history."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from nicegui.testing import User

from engine.access import audit, users
from engine.access import sign_in as signing
from engine.access.roles import SYSTEM
from engine.access.throttle import Throttled
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.journeys import lifecycle
from models.access import UserCreate, UserUpdate
from models.journey import JourneyCreate
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.ui.conftest import sign_in
from tests.ui.kit import eventually, one

STEPS = [{"id": "bye", "type": "exit", "name": "Bye", "config": {"reason": "done"}}]


def add_user(engine: Engine, role: str) -> tuple[str, str]:
    email, password = f"{role}@example.com", f"{role} password"
    users.create_user(engine, UserCreate(email=email, role=role, password=password))  # type: ignore[arg-type]
    return email, password


class TestSignedOut:
    @pytest.fixture
    def sign_in_as(self) -> None:
        return None

    async def test_a_page_without_a_session_leads_to_the_login_form(self, user: User) -> None:
        await user.open("/journeys")
        await user.should_see(marker="login-email")
        await user.should_see("Sign in to continue")

    async def test_the_login_form_marks_its_parts(self, user: User) -> None:
        await user.open("/login")
        props = {name: user.find(marker=f"login-{name}").elements.pop().props.get("data-login")
                 for name in ("email", "password", "submit")}
        assert props == {"email": "email", "password": "password", "submit": "submit"}

    async def test_a_wrong_password_is_refused_and_said(self, user: User) -> None:
        await user.open("/login")
        user.find(marker="login-email").type(ADMIN_EMAIL)
        user.find(marker="login-password").type("wrong password")
        user.find(marker="login-submit").click()
        await user.should_see("Wrong e-mail or password", retries=200)

    async def test_after_five_wrong_passwords_the_right_one_waits_and_the_form_says_how_long(
        self, engine: Engine, user: User
    ) -> None:
        clock = VirtualClock()
        engine.clock = clock
        for _ in range(5):
            assert signing.sign_in(engine, ADMIN_EMAIL, "wrong password", "10.0.0.1") is None
        await user.open("/login")
        user.find(marker="login-email").type(ADMIN_EMAIL)
        user.find(marker="login-password").type(ADMIN_PASSWORD)
        user.find(marker="login-submit").click()
        await user.should_see("Too many failed sign-ins: try again in 1 second", retries=200)
        clock.advance(seconds=1)
        user.find(marker="login-password").type(ADMIN_PASSWORD)
        user.find(marker="login-submit").click()
        await user.should_not_see(marker="login-submit", retries=200)

    async def test_the_form_counts_failures_against_the_browser_s_address(
        self, engine: Engine, user: User
    ) -> None:
        engine.clock = VirtualClock()
        await user.open("/login")
        for number in range(5):
            user.find(marker="login-email").clear().type(f"guess{number}@example.com")
            user.find(marker="login-password").type("wrong password")
            user.find(marker="login-submit").click()
            await eventually(lambda: one(user, "login-password").value == "", seconds=30)
        with pytest.raises(Throttled):
            signing.sign_in(engine, ADMIN_EMAIL, ADMIN_PASSWORD, "127.0.0.1")

    async def test_signing_in_returns_to_the_page_asked_for(self, engine: Engine, user: User) -> None:
        journey = lifecycle.create_journey(engine, JourneyCreate(name="Deep link"))
        await user.open(f"/login?redirect_to=/journeys/{journey.id}/monitor")
        user.find(marker="login-email").type(ADMIN_EMAIL)
        user.find(marker="login-password").type(ADMIN_PASSWORD)
        user.find(marker="login-submit").click()
        await user.should_see("Changes to this journey", retries=200)

    async def test_a_redirect_elsewhere_is_ignored(self, user: User) -> None:
        await sign_in(user, ADMIN_EMAIL, ADMIN_PASSWORD)
        await user.open("/login?redirect_to=//evil.example/x")
        await user.should_see(marker="new-journey", retries=100)


async def test_signed_in_the_list_shows_and_the_menu_signs_out(engine: Engine, user: User) -> None:
    lifecycle.create_journey(engine, JourneyCreate(name="Visible when signed in"))
    await user.open("/journeys")
    await user.should_see("Visible when signed in")
    await user.should_see(f"{ADMIN_EMAIL} · admin")
    user.find(marker="sign-out").click()
    await user.should_see(marker="login-email")
    await user.open("/journeys")
    await user.should_see(marker="login-email")


class TestOtherRoles:
    @pytest.fixture
    def sign_in_as(self) -> None:
        return None

    async def test_a_viewer_sees_changes_disabled_and_why(self, engine: Engine, user: User) -> None:
        lifecycle.create_journey(engine, JourneyCreate(name="Look only"))
        await sign_in(user, *add_user(engine, "viewer"))
        await user.open("/journeys")
        await user.should_see("Look only")
        await user.should_see(marker="role-notice")
        for marker in ("new-journey", "import"):
            assert not user.find(marker=marker).elements.pop().enabled
        await user.open("/audit")
        await user.should_see(marker="admins-only")
        await user.should_not_see(marker="menu-audit")

    async def test_an_editor_creates_but_may_not_delete_or_archive(self, engine: Engine, user: User) -> None:
        journey = lifecycle.create_journey(engine, JourneyCreate(name="Editable"))
        await sign_in(user, *add_user(engine, "editor"))
        await user.open("/journeys")
        assert user.find(marker="new-journey").elements.pop().enabled
        assert not user.find(marker=f"delete-{journey.id}").elements.pop().enabled
        assert not user.find(marker=f"archive-{journey.id}").elements.pop().enabled
        await user.should_see("deleting and archiving, users and API keys are for admins")


async def test_what_a_page_does_is_recorded_as_the_signed_in_user(engine: Engine, user: User) -> None:
    """The page's engine call runs on run.io_bound's worker thread: the signed-in user goes with it."""
    await user.open("/journeys")
    user.find(marker="new-journey").click()
    user.find(marker="new-name").type("Made on the page")
    user.find(marker="create").click()
    await user.should_see(marker="title", retries=200)  # the editor of the new journey
    entry = audit.list_entries(engine)["data"][0]
    assert (entry["actor"], entry["action"], entry["entityName"]) == (
        f"user:{ADMIN_EMAIL}", "created", "Made on the page")


async def test_the_audit_page_lists_who_did_what(engine: Engine, user: User) -> None:
    journey = lifecycle.create_journey(engine.as_actor(SYSTEM), JourneyCreate(name="Audited", steps=STEPS))  # type: ignore[arg-type]
    lifecycle.change_status(engine.as_actor(SYSTEM), journey.id, "active")
    await user.open("/audit")
    await user.should_see(marker="audit-log")
    rows = user.find(marker="audit-log").elements.pop().rows
    assert [(row["actor"], row["action"], row["details"]) for row in rows[:2]] == [
        ("system:system (admin)", "activated", "draft → active"), ("system:system (admin)", "created", "")]


async def test_the_monitor_shows_the_journeys_own_history(engine: Engine, user: User) -> None:
    journey = lifecycle.create_journey(engine.as_actor(SYSTEM), JourneyCreate(name="Tracked"))
    lifecycle.update_journey(engine.as_actor(SYSTEM), journey.id, lifecycle.JourneyUpdate(description="why"))
    other = lifecycle.create_journey(engine, JourneyCreate(name="Other"))
    await user.open(f"/journeys/{journey.id}/monitor")
    await user.should_see(marker="journey-history")
    rows = user.find(marker="journey-history").elements.pop().rows
    assert [(row["action"], row["details"]) for row in rows] == [
        ("updated", "changed description; version 1"), ("created", "")]
    assert other.id not in str(rows)


async def test_admins_make_users_and_keys_on_the_admin_page(engine: Engine, user: User) -> None:
    await user.open("/admin")
    await user.should_see(marker="users")
    user.find(marker="new-user").click()
    user.find(marker="user-email").type("new@example.com")
    user.find(marker="user-password").type("a long password")
    user.find(marker="create-user").click()
    # The dialog's own e-mail field shows the address at once: wait for the table's row (argon2 is slow).
    await eventually(lambda: "new@example.com" in str(one(user, "users").rows), seconds=30)
    user.find(marker="new-key").click()
    user.find(marker="key-name").type("nightly export")
    user.find(marker="create-key").click()
    await user.should_see(marker="new-key-value", retries=100)
    key = user.find(marker="new-key-value").elements.pop().value
    assert key.startswith("jk_")
    entries = audit.list_entries(engine)["data"]
    assert [(item["actor"], item["entityType"], item["action"]) for item in entries[:2]] == [
        (f"user:{ADMIN_EMAIL}", "api_key", "created"), (f"user:{ADMIN_EMAIL}", "user", "created")]


async def test_a_password_change_ends_the_user_s_other_sessions_but_not_the_one_that_made_it(
    engine: Engine, user: User, create_user: Callable[[], User]
) -> None:
    elsewhere = create_user()
    await sign_in(elsewhere, ADMIN_EMAIL, ADMIN_PASSWORD)
    await user.open("/admin")
    await eventually(lambda: ADMIN_EMAIL in str(one(user, "users").rows), seconds=30)
    [me] = [row for row in one(user, "users").rows if row["email"] == ADMIN_EMAIL]
    user.find(marker="users").trigger("change", me)
    user.find(marker="change-password").type("a brand new password")
    user.find(marker="save-user").click()
    await eventually(
        lambda: users.authenticate(engine, ADMIN_EMAIL, "a brand new password") is not None, seconds=30)
    await elsewhere.open("/journeys")
    await elsewhere.should_see(marker="login-email")
    await user.open("/journeys")
    await user.should_see(marker="new-journey")


async def test_deactivation_ends_every_session_for_good(
    engine: Engine, user: User, create_user: Callable[[], User]
) -> None:
    email, password = add_user(engine, "editor")
    elsewhere = create_user()
    await sign_in(elsewhere, email, password)
    [editor] = [row for row in users.list_users(engine)["data"] if row["email"] == email]
    system = engine.as_actor(SYSTEM)
    users.update_user(system, editor["id"], UserUpdate(active=False))
    users.update_user(system, editor["id"], UserUpdate(active=True))  # back, but not its old sessions
    await elsewhere.open("/journeys")
    await elsewhere.should_see(marker="login-email")


async def _create_on_a_page_opened_before(
    engine: Engine, elsewhere: User, caplog: pytest.LogCaptureFixture, change: UserUpdate, name: str,
    refusal: str,
) -> None:
    """Open the journeys page as a new editor, `change` that editor, then try to create `name` on the page
    still open: refused with `refusal` (logged as an error: expected here), and nothing made."""
    email, password = add_user(engine, "editor")
    await sign_in(elsewhere, email, password)
    await elsewhere.open("/journeys")
    [editor] = [row for row in users.list_users(engine)["data"] if row["email"] == email]
    users.update_user(engine.as_actor(SYSTEM), editor["id"], change)
    elsewhere.find(marker="new-journey").click()
    elsewhere.find(marker="new-name").type(name)
    elsewhere.find(marker="create").click()
    await eventually(lambda: any(refusal in str(r.exc_info) for r in caplog.records), seconds=30)
    caplog.clear()
    assert name not in str(lifecycle.list_journeys(engine))


async def test_an_open_page_of_a_deactivated_user_changes_nothing(
    engine: Engine, user: User, create_user: Callable[[], User], caplog: pytest.LogCaptureFixture
) -> None:
    """A page stays open without new requests: its engine calls check the session themselves."""
    await _create_on_a_page_opened_before(engine, create_user(), caplog, UserUpdate(active=False),
                                          "Made after deactivation", "session has ended")


async def test_an_open_page_of_a_demoted_user_acts_with_no_role_it_no_longer_has(
    engine: Engine, user: User, create_user: Callable[[], User], caplog: pytest.LogCaptureFixture
) -> None:
    """The page got the engine as its user at load; a role changed since is not acted with."""
    elsewhere = create_user()
    await _create_on_a_page_opened_before(engine, elsewhere, caplog, UserUpdate(role="viewer"),
                                          "Made after demotion", "reload the page")
    await elsewhere.open("/journeys")  # reloaded: a viewer now, and the page offers no "new"
    await elsewhere.should_see(marker="new-journey")
    assert not elsewhere.find(marker="new-journey").elements.pop().enabled
