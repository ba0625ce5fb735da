"""API keys: `Authorization: Bearer <key>` for automation. A key is shown once, when it is made; only its
SHA-256 digest is kept. Revoking keeps the row (the audit log names it) but the key stops working."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from engine.access.roles import Actor
from engine.engine import Engine
from engine.ids import new_id
from engine.paging import paginate
from engine.records import fetch
from models.access import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from models.common import iso

KEY_PREFIX = "jk_"
SHOWN_CHARS = 10
# `last_used_at` is written at most this often per key: a write per request would contend with the engine.
USE_RESOLUTION = timedelta(minutes=1)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def list_keys(engine: Engine, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Every key, revoked ones too, newest first."""
    statement = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)  # type: ignore[attr-defined]
    with engine.db.reader() as s:
        return paginate(s, statement, limit, offset, lambda row: out(row).model_dump(by_alias=True))


def create_key(engine: Engine, data: ApiKeyCreate, created_by: str) -> ApiKeyCreated:
    """A new key with this name and role; the answer holds the key itself, which is not kept."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.session() as s:
        row = add_key(engine, s, key, data.name, data.role, created_by)
        s.flush()
        return ApiKeyCreated(**out(row).model_dump(), key=key)


def add_key(engine: Engine, s: Session, key: str, name: str, role: str, created_by: str,
            bootstrap: bool = False) -> ApiKey:
    row = ApiKey(
        id=new_id("key"),
        name=name,
        role=role,
        prefix=key[:SHOWN_CHARS],
        digest=digest(key),
        bootstrap=bootstrap,
        created_by=created_by,
        created_at=engine.now(),
    )
    s.add(row)
    return row


def revoke_key(engine: Engine, key_id: str) -> None:
    """Stop the key working (revoking a revoked key changes nothing)."""
    with engine.session() as s:
        row = fetch(s, ApiKey, key_id, "API key")
        if row.revoked_at is None:
            row.revoked_at = engine.now()


def actor_for_key(engine: Engine, key: str) -> Actor | None:
    """The actor a presented key stands for, or None for an unknown or revoked key."""
    with engine.db.reader() as s:
        row = s.execute(select(ApiKey).where(ApiKey.digest == digest(key))).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        found = Actor(kind="key", id=row.id, name=row.name, role=row.role)
        last_used = row.last_used_at
    moment = engine.now()
    if last_used is None or moment - last_used >= USE_RESOLUTION:
        with engine.session() as s:
            s.execute(update(ApiKey).where(ApiKey.id == found.id).values(last_used_at=moment))
    return found


def out(row: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        role=row.role,
        prefix=row.prefix,  # type: ignore[arg-type]
        created_by=row.created_by,
        created_at=iso(row.created_at) or "",
        last_used_at=iso(row.last_used_at),
        revoked_at=iso(row.revoked_at),
    )
