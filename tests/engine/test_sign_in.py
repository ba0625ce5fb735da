"""Signing in under throttling: per account and per client address, after `login_free_failures` wrong
passwords each further attempt waits a delay doubling from `login_delay_seconds` up to
`login_max_delay_seconds`; a waiting attempt is refused unchecked and told how long; a success resets the
account. Time is the virtual clock's."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.access import audit, bootstrap, sign_in, users
from engine.access.throttle import Throttled
from engine.clock import VirtualClock
from engine.engine import Engine
from models.access import UserCreate
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

HERE = "10.0.0.1"
WRONG = "not the password"


@pytest.fixture
def accounts(engine: Engine) -> Iterator[Engine]:
    bootstrap.bootstrap(engine, engine.settings)
    yield engine


def fail(engine: Engine, times: int, email: str = ADMIN_EMAIL, address: str = HERE) -> None:
    for _ in range(times):
        assert sign_in.sign_in(engine, email, WRONG, address) is None


def refusal(
    engine: Engine, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, address: str = HERE
) -> Throttled:
    with pytest.raises(Throttled) as raised:
        sign_in.sign_in(engine, email, password, address)
    return raised.value


def test_after_five_wrong_passwords_even_the_right_one_waits_and_is_told_how_long(
    engine: Engine, accounts: Engine, clock: VirtualClock
) -> None:
    fail(engine, 5)
    refused = refusal(engine)
    assert refused.message == "Too many failed sign-ins: try again in 1 second"
    assert refused.status == 429 and refused.retry_after == 1
    clock.advance(seconds=1)
    assert sign_in.sign_in(engine, ADMIN_EMAIL, ADMIN_PASSWORD, HERE) is not None


def test_sixty_four_wrong_passwords_then_the_right_one_does_not_sign_in(
    engine: Engine, accounts: Engine
) -> None:
    """The issue's report: no number of wrong passwords ever stopped the right one."""
    for _ in range(64):
        with contextlib.suppress(Throttled):
            sign_in.sign_in(engine, ADMIN_EMAIL, WRONG, HERE)
    refusal(engine)


def test_the_wait_doubles_with_each_further_failure_up_to_the_cap(
    engine: Engine, accounts: Engine, clock: VirtualClock
) -> None:
    accounts.settings = accounts.settings.model_copy(update={"login_max_delay_seconds": 10.0})
    fail(engine, 5)
    waits = []
    for _ in range(6):
        waits.append(refusal(engine, password=WRONG).retry_after)
        clock.advance(seconds=waits[-1])
        fail(engine, 1)
    assert waits == [1, 2, 4, 8, 10, 10]
    assert refusal(engine).message == "Too many failed sign-ins: try again in 10 seconds"


def test_a_refused_attempt_does_not_check_the_password(
    engine: Engine, accounts: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail(engine, 5)
    checked: list[str] = []
    monkeypatch.setattr(users, "authenticate", lambda engine, email, password: checked.append(password))
    refusal(engine)
    assert checked == []


def test_long_waits_are_said_in_minutes(engine: Engine, accounts: Engine, clock: VirtualClock) -> None:
    accounts.settings = accounts.settings.model_copy(update={"login_delay_seconds": 150.0})
    fail(engine, 5)
    assert refusal(engine).message == "Too many failed sign-ins: try again in 3 minutes"
    clock.advance(seconds=31)
    assert refusal(engine).message == "Too many failed sign-ins: try again in 119 seconds"


def test_a_success_resets_the_account_s_counter(engine: Engine, accounts: Engine) -> None:
    fail(engine, 4, address="10.0.0.2")
    assert sign_in.sign_in(engine, ADMIN_EMAIL, ADMIN_PASSWORD, "10.0.0.3") is not None
    fail(engine, 4, address="10.0.0.4")
    assert sign_in.sign_in(engine, ADMIN_EMAIL, ADMIN_PASSWORD, "10.0.0.5") is not None


def test_one_address_trying_many_accounts_waits_however_it_spreads_them(
    engine: Engine, accounts: Engine
) -> None:
    users.create_user(engine, UserCreate(email="ada@example.com", role="viewer", password="ada's password"))
    for number in range(5):
        fail(engine, 1, email=f"guess{number}@example.com")
    assert refusal(engine, email="ada@example.com", password="ada's password").retry_after == 1
    assert sign_in.sign_in(engine, "ada@example.com", "ada's password", "10.9.9.9") is not None


def test_one_account_tried_from_many_addresses_waits(engine: Engine, accounts: Engine) -> None:
    for number in range(5):
        fail(engine, 1, address=f"10.1.0.{number}")
    assert refusal(engine, address="10.1.0.99").retry_after == 1


def test_unknown_accounts_are_throttled_like_known_ones(engine: Engine, accounts: Engine) -> None:
    fail(engine, 5, email="nobody@example.com")
    assert refusal(engine, email="nobody@example.com", address="10.2.0.1").retry_after == 1


def test_counters_are_forgotten_after_a_quiet_day(
    engine: Engine, accounts: Engine, clock: VirtualClock
) -> None:
    fail(engine, 4)
    clock.advance(days=1, seconds=1)
    fail(engine, 4)
    assert sign_in.sign_in(engine, ADMIN_EMAIL, ADMIN_PASSWORD, HERE) is not None


def test_concurrent_attempts_get_no_more_tries_than_the_free_ones(
    engine: Engine, accounts: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each attempt is counted before its password is checked, so attempts racing each other cannot all
    slip into the free ones."""
    release = threading.Event()
    checked: list[str] = []
    refused: list[Throttled] = []
    lock = threading.Lock()

    def slow_wrong(engine: Engine, email: str, password: str) -> None:
        with lock:
            checked.append(password)
        release.wait(timeout=30)

    def attempt() -> None:
        try:
            sign_in.sign_in(engine, ADMIN_EMAIL, WRONG, HERE)
        except Throttled as error:
            with lock:
                refused.append(error)

    monkeypatch.setattr(users, "authenticate", slow_wrong)
    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    while len(checked) + len(refused) < len(threads):
        threads[0].join(timeout=0.05)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert (len(checked), len(refused)) == (5, 7)


def test_a_lockout_is_audited_once_per_key_with_the_address_and_the_wait(
    engine: Engine, accounts: Engine
) -> None:
    fail(engine, 5)
    refusal(engine)  # waiting: refused, and not audited again
    entries = [entry for entry in audit.list_entries(engine)["data"] if entry["action"] == "locked"]
    assert sorted((entry["entityType"], entry["entityId"]) for entry in entries) == [
        ("account", ADMIN_EMAIL), ("address", HERE)]
    assert {entry["actor"] for entry in entries} == {f"address:{HERE}"}
    assert entries[0]["details"] == {"failures": 5, "waitSeconds": 1}


def test_settings_are_read_when_the_attempt_is_made(
    engine: Engine, accounts: Engine, clock: VirtualClock
) -> None:
    accounts.settings = accounts.settings.model_copy(update={"login_free_failures": 2})
    fail(engine, 2)
    assert refusal(engine).retry_after == 1
    clock.advance(timedelta(seconds=1))
    assert sign_in.sign_in(engine, ADMIN_EMAIL, ADMIN_PASSWORD, HERE) is not None
