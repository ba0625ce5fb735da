"""Every page needs a session: the `user` fixture (NiceGUI's simulated browser) signs in through the login
page before the test starts, as the bootstrap admin unless a module or test overrides `sign_in_as` (None:
stay signed out)."""

from __future__ import annotations

import pytest
from nicegui.testing import User

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
