"""Accounts: users (signing in to the pages), API keys (automation) and the audit log of who changed what.

Times are naive UTC. Secrets are never stored: passwords as argon2 hashes, API keys as SHA-256 digests (a
key is 256 random bits, so a fast digest is safe and keeps the per-request check cheap).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NaiveDatetime, StrictBool
from sqlalchemy import Index
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.common import CamelModel, json_field

Role = Literal["viewer", "editor", "admin"]
# Loose on purpose: `admin@localhost` (the bootstrap admin) is an address a strict validator refuses.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$"
# PostgreSQL text holds no NUL character.
TEXT_PATTERN = r"^[^\x00]*$"


# ---- tables ---------------------------------------------------------------------------------------------


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is a reserved word on PostgreSQL

    id: str = SQLField(primary_key=True, max_length=64)
    email: str = SQLField(max_length=255, unique=True)
    name: str = SQLField(default="", max_length=255)
    role: str = SQLField(max_length=16)
    password_hash: str = SQLField(max_length=255)
    active: bool = True
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    last_login_at: NaiveDatetime | None = None
    # Bumped when the password changes or the user is deactivated: a browser session remembers the value it
    # signed in with and ends when the two differ (engine/access/users.py, ui/session.py).
    session_version: int = SQLField(default=0, sa_column_kwargs={"server_default": "0"})


class LoginFailure(SQLModel, table=True):
    """Sign-in attempts not (yet) known to have succeeded, per key (`account:<e-mail>` or
    `address:<client address>`), and until when the key must wait (engine/access/throttle.py)."""

    __tablename__ = "login_failure"

    key: str = SQLField(primary_key=True, max_length=320)
    failures: int = 0
    last_at: NaiveDatetime | None = None
    blocked_until: NaiveDatetime | None = None


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: str = SQLField(primary_key=True, max_length=64)
    name: str = SQLField(max_length=255)
    role: str = SQLField(max_length=16)
    # The first characters of the key, shown in lists so a person can tell keys apart.
    prefix: str = SQLField(max_length=16)
    digest: str = SQLField(max_length=64, unique=True)
    # The key made from JOURNEYS_ADMIN_TOKEN: replaced when that setting changes.
    bootstrap: bool = False
    created_by: str = SQLField(default="", max_length=255)
    created_at: NaiveDatetime
    last_used_at: NaiveDatetime | None = None
    revoked_at: NaiveDatetime | None = None


class AuditEntry(SQLModel, table=True):
    """One change: who (`actor`, e.g. `user:ada@example.com` or `key:ci`), did what (`action`) to which
    entity, when, with what details (changed fields, status from/to)."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity_type", "entity_id", "id"),)

    id: int | None = SQLField(default=None, primary_key=True)
    at: NaiveDatetime = SQLField(index=True)
    actor: str = SQLField(max_length=255)
    role: str = SQLField(max_length=16)
    action: str = SQLField(max_length=32)
    entity_type: str = SQLField(max_length=32)
    entity_id: str = SQLField(max_length=128)
    entity_name: str = SQLField(default="", max_length=255)
    details: dict[str, Any] = json_field(dict)


# ---- wire schemas ---------------------------------------------------------------------------------------


class UserCreate(CamelModel):
    email: str = Field(max_length=255, pattern=EMAIL_PATTERN)
    name: str = Field("", max_length=255, pattern=TEXT_PATTERN)
    role: Role
    password: str = Field(min_length=8, max_length=1024)


class UserUpdate(CamelModel):
    """Every field optional; a new password replaces the old one."""

    name: str | None = Field(None, max_length=255, pattern=TEXT_PATTERN)
    role: Role | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)
    active: StrictBool | None = None


class UserOut(CamelModel):
    id: str
    email: str
    name: str
    role: Role
    active: bool
    created_at: str
    updated_at: str
    last_login_at: str | None = None


class ApiKeyCreate(CamelModel):
    name: str = Field(min_length=1, max_length=255, pattern=TEXT_PATTERN)
    role: Role


class ApiKeyOut(CamelModel):
    id: str
    name: str
    role: Role
    prefix: str
    created_by: str
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None


class ApiKeyCreated(ApiKeyOut):
    """The answer to creating a key: the only time the key itself is shown."""

    key: str


class AuditEntryOut(CamelModel):
    id: int
    at: str
    actor: str
    role: str
    action: str
    entity_type: str
    entity_id: str
    entity_name: str
    details: dict[str, Any]
