"""Every page needs a session: the `user` fixture (NiceGUI's simulated browser) signs in through the login
page before the test starts, as the bootstrap admin unless a module or test overrides `sign_in_as` (None:
stay signed out).

The pages run on the engine main.py built for `user`'s app: `engine` here is that one, so what a test
creates or reads goes through the database and clock the pages see. A test that builds an app of its own,
without `user`, takes `own_engine`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nicegui import app
from nicegui.testing import User

from engine.clock import VirtualClock
from engine.engine import Engine
from engine.settings import Settings
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


@pytest.fixture
def sign_in_as() -> tuple[str, str] | None:
    """(e-mail, password) the `user` fixture signs in with; None: not signed in."""
    return ADMIN_EMAIL, ADMIN_PASSWORD


async def sign_in(user: User, email: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    await user.open("/login")
    user.find(marker="login-email").type(email)
    user.find(marker="login-password").type(password)
    user.find(marker="login-submit").click()
    await user.should_not_see(marker="login-submit", retries=200)  # argon2 takes a moment on a busy machine


@pytest.fixture
async def user(user: User, sign_in_as: tuple[str, str] | None) -> User:
    """NiceGUI's `user`, signed in as `sign_in_as`."""
    if sign_in_as is not None:
        await sign_in(user, *sign_in_as)
    return user


@pytest.fixture
def engine(user: User) -> Engine:
    """The engine main.py built for `user`'s app (ui.api.mount put it on the app)."""
    return app.state.engine


@pytest.fixture
def own_engine(journeys_env: str, clock: VirtualClock) -> Iterator[Engine]:
    """An engine of the test's own on the test's database, for an app the test builds without `user`."""
    opened = Engine.open(Settings(database_url=journeys_env, demo=False, scheduler=False), clock=clock)
    yield opened
    opened.close()
