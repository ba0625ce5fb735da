"""Accounts at start, from the settings, so `python main.py` still comes up in one command:

- `JOURNEYS_ADMIN_EMAIL` + `JOURNEYS_ADMIN_PASSWORD`: that admin is created, or updated (role admin,
  active, this password);
- `JOURNEYS_ADMIN_TOKEN`: that value is an admin API key (replacing the key an earlier value made);
- none of them, and no user yet: `admin@localhost` with a generated password, which is returned once so the
  caller can print it — only its hash is kept.

Also the storage secret that signs session cookies: `JOURNEYS_STORAGE_SECRET`, or generated once and kept
in the data folder.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from engine.access import api_keys, users
from engine.access.roles import SYSTEM
from engine.engine import Engine
from engine.settings import Settings, data_dir
from models.access import ApiKey

DEFAULT_ADMIN = "admin@localhost"
MIN_PASSWORD = 8
SECRET_FILE = "storage-secret"


class BootstrapError(ValueError):
    """The accounts settings cannot be used as given."""


@dataclass
class Bootstrap:
    """What the start did: the admin it set up, and a generated password to show once (or None)."""

    admin_email: str | None = None
    generated_password: str | None = None
    token_key_id: str | None = None


def bootstrap(engine: Engine, settings: Settings) -> Bootstrap:
    email, password, token = (
        settings.admin_email.strip(),
        settings.admin_password,
        settings.admin_token.strip(),
    )
    if bool(email) != bool(password):
        raise BootstrapError(
            "JOURNEYS_ADMIN_EMAIL and JOURNEYS_ADMIN_PASSWORD are set together or not at all"
        )
    if password and len(password) < MIN_PASSWORD:
        raise BootstrapError(f"JOURNEYS_ADMIN_PASSWORD needs at least {MIN_PASSWORD} characters")
    result = Bootstrap()
    engine = engine.as_actor(SYSTEM)
    with engine.session() as s:
        if email:
            users.set_admin(engine, s, email, password)
            result.admin_email = email.lower()
        elif not token and users.count(s) == 0:
            result.generated_password = secrets.token_urlsafe(12)
            users.set_admin(engine, s, DEFAULT_ADMIN, result.generated_password)
            result.admin_email = DEFAULT_ADMIN
        result.token_key_id = _token_key(engine, s, token)
    return result


def _token_key(engine: Engine, s: Session, token: str) -> str | None:
    """The admin key made from the token; keys an earlier token made are revoked."""
    wanted = api_keys.digest(token) if token else None
    kept = None
    for row in s.execute(select(ApiKey).where(ApiKey.bootstrap.is_(True))).scalars():  # type: ignore[attr-defined]
        if row.digest == wanted and row.revoked_at is None:
            kept = row
        elif row.revoked_at is None:
            row.revoked_at = engine.now()
    if wanted is None:
        return None
    if kept is None:
        existing = s.execute(select(ApiKey).where(ApiKey.digest == wanted)).scalar_one_or_none()
        if existing is not None:  # the same value was an earlier (since revoked) bootstrap or ordinary key
            existing.revoked_at, existing.role, existing.bootstrap = None, "admin", True
            kept = existing
        else:
            kept = api_keys.add_key(engine, s, token, "JOURNEYS_ADMIN_TOKEN", "admin", "system",
                                    bootstrap=True)
    return kept.id


def storage_secret(settings: Settings) -> str:
    """The secret signing session cookies: the setting, or one generated at first start and kept (owner-only)
    in the data folder, so sessions survive restarts."""
    if settings.storage_secret:
        return settings.storage_secret
    path: Path = data_dir() / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret)
    return secret
