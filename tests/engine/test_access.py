"""Accounts in the engine: argon2 passwords, sign-in, the bootstrap admin and token from the settings, the
storage secret, and the audit hook that records and polices changes made by an actor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from engine.access import api_keys, audit, bootstrap, passwords, roles, users
from engine.access.roles import Actor, Forbidden, acting_as
from engine.audience import customer_import, customers
from engine.core import Core, session
from engine.journeys import lifecycle
from models.access import ApiKey, AuditEntry, User, UserCreate, UserUpdate
from models.audience import CustomerIn
from models.journey import JourneyCreate

EDITOR = Actor(kind="user", id="usr_ed", name="ed@example.com", role="editor")
VIEWER = Actor(kind="user", id="usr_vi", name="vi@example.com", role="viewer")


def test_passwords_are_hashed_with_argon2_and_verified() -> None:
    hashed = passwords.hash_password("s3cret pass")
    assert hashed.startswith("$argon2id$") and "s3cret" not in hashed
    assert passwords.verify_password(hashed, "s3cret pass")
    assert not passwords.verify_password(hashed, "s3cret Pass")
    assert not passwords.verify_password("not a hash", "s3cret pass")


def test_bootstrap_creates_then_updates_the_configured_admin(engine_core: Core) -> None:
    settings = engine_core.settings.model_copy(
        update={"admin_email": "Boss@Example.com", "admin_password": "first password", "admin_token": ""}
    )
    assert bootstrap.bootstrap(settings).admin_email == "boss@example.com"
    assert users.authenticate("boss@example.com", "first password") is not None
    with session() as s:
        row = s.exec(select(User).where(User.email == "boss@example.com")).one()
        row.role, row.active = "viewer", False
    bootstrap.bootstrap(settings.model_copy(update={"admin_password": "second password"}))
    signed_in = users.authenticate("BOSS@example.com", "second password")
    assert signed_in is not None and signed_in.role == "admin"
    assert users.authenticate("boss@example.com", "first password") is None


def test_without_settings_the_first_start_makes_admin_at_localhost_once(engine_core: Core) -> None:
    bare = engine_core.settings.model_copy(
        update={"admin_email": "", "admin_password": "", "admin_token": ""}
    )
    first = bootstrap.bootstrap(bare)
    assert first.admin_email == "admin@localhost" and first.generated_password
    assert users.authenticate("admin@localhost", first.generated_password) is not None
    again = bootstrap.bootstrap(bare)
    assert again.generated_password is None and again.admin_email is None


@pytest.mark.parametrize(("email", "password"), [("a@b.c", ""), ("", "long enough"), ("a@b.c", "short")])
def test_bootstrap_refuses_half_or_weak_settings(engine_core: Core, email: str, password: str) -> None:
    settings = engine_core.settings.model_copy(update={"admin_email": email, "admin_password": password})
    with pytest.raises(bootstrap.BootstrapError):
        bootstrap.bootstrap(settings)


def test_the_admin_token_is_an_admin_key_replaced_when_it_changes(engine_core: Core) -> None:
    settings = engine_core.settings.model_copy(update={"admin_token": "first-token-value"})
    bootstrap.bootstrap(settings)
    actor = api_keys.actor_for_key("first-token-value")
    assert actor is not None and actor.role == "admin"
    bootstrap.bootstrap(settings)  # the same token again: the same key
    bootstrap.bootstrap(settings.model_copy(update={"admin_token": "second-token-value"}))
    assert api_keys.actor_for_key("first-token-value") is None
    assert api_keys.actor_for_key("second-token-value") is not None
    with session() as s:
        keys = s.exec(select(ApiKey)).all()
        assert len(keys) == 2 and all(len(row.digest) == 64 and "token" not in row.digest for row in keys)


def test_the_storage_secret_is_generated_once_and_kept_private(
    engine_core: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = engine_core.settings.model_copy(update={"storage_secret": ""})
    secret = bootstrap.storage_secret(settings)
    assert len(secret) >= 32 and bootstrap.storage_secret(settings) == secret
    kept = tmp_path / "data" / bootstrap.SECRET_FILE
    assert kept.read_text() == secret and kept.stat().st_mode & 0o077 == 0
    assert bootstrap.storage_secret(settings.model_copy(update={"storage_secret": "given"})) == "given"


def test_changes_without_an_actor_are_the_engines_own_and_not_recorded(engine_core: Core) -> None:
    lifecycle.create_journey(JourneyCreate(name="Quiet"))
    with session() as s:
        assert len(s.exec(select(AuditEntry)).all()) == 0


def test_an_actor_s_change_is_recorded_in_the_same_transaction(engine_core: Core) -> None:
    with acting_as(EDITOR):
        journey = lifecycle.create_journey(JourneyCreate(name="Loud"))
    entries = audit.list_entries(entity_type="journey", entity_id=journey.id)["data"]
    assert [(item["actor"], item["action"], item["entityName"]) for item in entries] == [
        ("user:ed@example.com", "created", "Loud")
    ]


def test_a_refused_change_leaves_neither_the_change_nor_an_entry(engine_core: Core) -> None:
    with pytest.raises(Forbidden) as refused, acting_as(VIEWER):
        lifecycle.create_journey(JourneyCreate(name="Nope"))
    assert refused.value.message == "editors and admins may create journeys; you are a viewer"
    assert lifecycle.list_journeys()["pagination"]["total"] == 0
    with session() as s:
        assert len(s.exec(select(AuditEntry)).all()) == 0


def test_editors_may_not_delete_admins_may(engine_core: Core) -> None:
    journey = lifecycle.create_journey(JourneyCreate(name="Gone"))
    with pytest.raises(Forbidden), acting_as(EDITOR):
        lifecycle.delete_journey(journey.id)
    with acting_as(roles.SYSTEM):
        lifecycle.delete_journey(journey.id)
    assert audit.list_entries()["data"][0]["action"] == "deleted"


def test_role_order() -> None:
    assert roles.allows("admin", "editor") and roles.allows("editor", "editor")
    assert not roles.allows("viewer", "editor") and not roles.allows("owner", "viewer")
    assert (
        roles.needed_for("journey", "archived") == "admin" and roles.needed_for("user", "updated") == "admin"
    )


def test_customers_are_policed_but_not_recorded(engine_core: Core) -> None:
    with acting_as(EDITOR):
        created = customers.create_customer(CustomerIn(id="cus_1", attributes={"age": 30}))
        customer_import.import_customers('{"id": "cus_2"}\n', "jsonl")
    with pytest.raises(Forbidden), acting_as(EDITOR):
        customers.delete_customer(created["id"])
    with pytest.raises(Forbidden) as refused, acting_as(VIEWER):
        customer_import.import_customers('{"id": "cus_3"}\n', "jsonl")
    assert refused.value.message == "editors and admins may create customers; you are a viewer"
    with pytest.raises(Forbidden), acting_as(VIEWER):
        customers.create_customer(CustomerIn(id="cus_4"))
    assert customers.list_customers()["pagination"]["total"] == 2
    assert audit.list_entries()["pagination"]["total"] == 0


def test_a_new_password_or_deactivation_ends_sessions_signed_in_before_it(engine_core: Core) -> None:
    bootstrap.bootstrap(engine_core.settings)  # an admin, so the user may be deactivated
    made = users.create_user(UserCreate(email="ses@example.com", role="viewer", password="first password"))
    assert users.actor_for_user(made.id, 0) is not None
    users.update_user(made.id, UserUpdate(name="Renamed", role="editor"))
    assert users.actor_for_user(made.id, 0) is not None  # other changes keep the sessions
    users.update_user(made.id, UserUpdate(password="second password"))
    assert users.actor_for_user(made.id, 0) is None
    assert users.session_version(made.id) == 1
    users.update_user(made.id, UserUpdate(active=False))
    users.update_user(made.id, UserUpdate(active=True))
    assert users.actor_for_user(made.id, 1) is None and users.actor_for_user(made.id, 2) is not None


def test_a_new_bootstrap_password_ends_the_admin_s_sessions(engine_core: Core) -> None:
    settings = engine_core.settings.model_copy(update={"admin_password": "first password", "admin_token": ""})
    bootstrap.bootstrap(settings)
    admin = users.list_users(search=settings.admin_email)["data"][0]
    bootstrap.bootstrap(settings)
    assert users.session_version(admin["id"]) == 0
    bootstrap.bootstrap(settings.model_copy(update={"admin_password": "second password"}))
    assert users.session_version(admin["id"]) == 1
