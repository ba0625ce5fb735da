"""Accounts in the engine: argon2 passwords, sign-in, the bootstrap admin and token from the settings, the
storage secret, and the audit hook that records and polices changes made by an actor."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import select

from engine.access import api_keys, audit, bootstrap, passwords, roles, users
from engine.access.roles import Actor, Forbidden
from engine.audience import customer_import, customers
from engine.clock import VirtualClock
from engine.engine import Engine
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


def test_bootstrap_creates_then_updates_the_configured_admin(engine: Engine) -> None:
    settings = engine.settings.model_copy(
        update={"admin_email": "Boss@Example.com", "admin_password": "first password", "admin_token": ""}
    )
    assert bootstrap.bootstrap(engine, settings).admin_email == "boss@example.com"
    assert users.authenticate(engine, "boss@example.com", "first password") is not None
    with engine.session() as s:
        row = s.exec(select(User).where(User.email == "boss@example.com")).one()
        row.role, row.active = "viewer", False
    bootstrap.bootstrap(engine, settings.model_copy(update={"admin_password": "second password"}))
    signed_in = users.authenticate(engine, "BOSS@example.com", "second password")
    assert signed_in is not None and signed_in.role == "admin"
    assert users.authenticate(engine, "boss@example.com", "first password") is None


def test_without_settings_the_first_start_makes_admin_at_localhost_once(engine: Engine) -> None:
    bare = engine.settings.model_copy(
        update={"admin_email": "", "admin_password": "", "admin_token": ""}
    )
    first = bootstrap.bootstrap(engine, bare)
    assert first.admin_email == "admin@localhost" and first.generated_password
    assert users.authenticate(engine, "admin@localhost", first.generated_password) is not None
    again = bootstrap.bootstrap(engine, bare)
    assert again.generated_password is None and again.admin_email is None


@pytest.mark.parametrize(("email", "password"), [("a@b.c", ""), ("", "long enough"), ("a@b.c", "short")])
def test_bootstrap_refuses_half_or_weak_settings(engine: Engine, email: str, password: str) -> None:
    settings = engine.settings.model_copy(update={"admin_email": email, "admin_password": password})
    with pytest.raises(bootstrap.BootstrapError):
        bootstrap.bootstrap(engine, settings)


def test_the_admin_token_is_an_admin_key_replaced_when_it_changes(engine: Engine) -> None:
    settings = engine.settings.model_copy(update={"admin_token": "first-token-value"})
    bootstrap.bootstrap(engine, settings)
    actor = api_keys.actor_for_key(engine, "first-token-value")
    assert actor is not None and actor.role == "admin"
    bootstrap.bootstrap(engine, settings)  # the same token again: the same key
    bootstrap.bootstrap(engine, settings.model_copy(update={"admin_token": "second-token-value"}))
    assert api_keys.actor_for_key(engine, "first-token-value") is None
    assert api_keys.actor_for_key(engine, "second-token-value") is not None
    with engine.session() as s:
        keys = s.exec(select(ApiKey)).all()
        assert len(keys) == 2 and all(len(row.digest) == 64 and "token" not in row.digest for row in keys)


def test_the_storage_secret_is_generated_once_and_kept_private(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = engine.settings.model_copy(update={"storage_secret": ""})
    secret = bootstrap.storage_secret(settings)
    assert len(secret) >= 32 and bootstrap.storage_secret(settings) == secret
    kept = tmp_path / "data" / bootstrap.SECRET_FILE
    assert kept.read_text() == secret and kept.stat().st_mode & 0o077 == 0
    assert bootstrap.storage_secret(settings.model_copy(update={"storage_secret": "given"})) == "given"


def test_changes_without_an_actor_are_the_engines_own_and_not_recorded(engine: Engine) -> None:
    lifecycle.create_journey(engine, JourneyCreate(name="Quiet"))
    with engine.session() as s:
        assert len(s.exec(select(AuditEntry)).all()) == 0


def test_an_actor_s_change_is_recorded_in_the_same_transaction(engine: Engine) -> None:
    journey = lifecycle.create_journey(engine.as_actor(EDITOR), JourneyCreate(name="Loud"))
    entries = audit.list_entries(engine, entity_type="journey", entity_id=journey.id)["data"]
    assert [(item["actor"], item["action"], item["entityName"]) for item in entries] == [
        ("user:ed@example.com", "created", "Loud")
    ]


def test_each_engine_stamps_the_changes_made_through_it_by_its_own_clock(engine: Engine) -> None:
    # Two engines on one database (pages and a worker, a test and its app): whichever connected last, each
    # records its own sessions' changes at its own time.
    other = Engine.open(engine.settings, clock=VirtualClock(datetime(2030, 6, 1, 12, 0, 0)))
    try:
        audit.connect(other)
        lifecycle.create_journey(engine.as_actor(EDITOR), JourneyCreate(name="Here"))
        lifecycle.create_journey(other.as_actor(EDITOR), JourneyCreate(name="There"))
        entries = audit.list_entries(engine)["data"]
        assert sorted((item["entityName"], item["at"]) for item in entries) == [
            ("Here", "2026-01-05T09:00:00.000Z"), ("There", "2030-06-01T12:00:00.000Z")]
    finally:
        other.close()


def test_a_refused_change_leaves_neither_the_change_nor_an_entry(engine: Engine) -> None:
    with pytest.raises(Forbidden) as refused:
        lifecycle.create_journey(engine.as_actor(VIEWER), JourneyCreate(name="Nope"))
    assert refused.value.message == "editors and admins may create journeys; you are a viewer"
    assert lifecycle.list_journeys(engine)["pagination"]["total"] == 0
    with engine.session() as s:
        assert len(s.exec(select(AuditEntry)).all()) == 0


def test_editors_may_not_delete_admins_may(engine: Engine) -> None:
    journey = lifecycle.create_journey(engine, JourneyCreate(name="Gone"))
    with pytest.raises(Forbidden):
        lifecycle.delete_journey(engine.as_actor(EDITOR), journey.id)
    lifecycle.delete_journey(engine.as_actor(roles.SYSTEM), journey.id)
    assert audit.list_entries(engine)["data"][0]["action"] == "deleted"


def test_role_order() -> None:
    assert roles.allows("admin", "editor") and roles.allows("editor", "editor")
    assert not roles.allows("viewer", "editor") and not roles.allows("owner", "viewer")
    assert (
        roles.needed_for("journey", "archived") == "admin" and roles.needed_for("user", "updated") == "admin"
    )


def test_customers_are_policed_but_not_recorded(engine: Engine) -> None:
    editor = engine.as_actor(EDITOR)
    created = customers.create_customer(editor, CustomerIn(id="cus_1", attributes={"age": 30}))
    customer_import.import_customers(editor, '{"id": "cus_2"}\n', "jsonl")
    with pytest.raises(Forbidden):
        customers.delete_customer(engine.as_actor(EDITOR), created["id"])
    with pytest.raises(Forbidden) as refused:
        customer_import.import_customers(engine.as_actor(VIEWER), '{"id": "cus_3"}\n', "jsonl")
    assert refused.value.message == "editors and admins may create customers; you are a viewer"
    with pytest.raises(Forbidden):
        customers.create_customer(engine.as_actor(VIEWER), CustomerIn(id="cus_4"))
    assert customers.list_customers(engine)["pagination"]["total"] == 2
    assert audit.list_entries(engine)["pagination"]["total"] == 0


def test_a_new_password_or_deactivation_ends_sessions_signed_in_before_it(engine: Engine) -> None:
    bootstrap.bootstrap(engine, engine.settings)  # an admin, so the user may be deactivated
    made = users.create_user(engine, UserCreate(email="ses@example.com", role="viewer",
                                                password="first password"))
    assert users.actor_for_user(engine, made.id, 0) is not None
    users.update_user(engine, made.id, UserUpdate(name="Renamed", role="editor"))
    assert users.actor_for_user(engine, made.id, 0) is not None  # other changes keep the sessions
    users.update_user(engine, made.id, UserUpdate(password="second password"))
    assert users.actor_for_user(engine, made.id, 0) is None
    assert users.session_version(engine, made.id) == 1
    users.update_user(engine, made.id, UserUpdate(active=False))
    users.update_user(engine, made.id, UserUpdate(active=True))
    assert users.actor_for_user(engine, made.id, 1) is None
    assert users.actor_for_user(engine, made.id, 2) is not None


def test_a_new_bootstrap_password_ends_the_admin_s_sessions(engine: Engine) -> None:
    settings = engine.settings.model_copy(update={"admin_password": "first password", "admin_token": ""})
    bootstrap.bootstrap(engine, settings)
    admin = users.list_users(engine, search=settings.admin_email)["data"][0]
    bootstrap.bootstrap(engine, settings)
    assert users.session_version(engine, admin["id"]) == 0
    bootstrap.bootstrap(engine, settings.model_copy(update={"admin_password": "second password"}))
    assert users.session_version(engine, admin["id"]) == 1
