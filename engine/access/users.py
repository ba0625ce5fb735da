"""Users: who may sign in to the pages, with which role. E-mail addresses are kept in lower case.

There is always at least one active admin: demoting, deactivating or deleting the last one is refused.
A password change or a deactivation bumps the user's `session_version`, which ends every browser session
signed in before it (ui/session.py remembers the version a session signed in with).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from engine.access.passwords import hash_password, needs_rehash, verify_password
from engine.access.roles import Actor
from engine.engine import Engine
from engine.errors import Conflict
from engine.ids import new_id
from engine.paging import paginate
from engine.records import fetch, matching
from models.access import User, UserCreate, UserOut, UserUpdate
from models.common import iso

# Verified against when the e-mail is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = hash_password("not a password anyone has")


def list_users(engine: Engine, limit: int = 50, offset: int = 0, search: str | None = None) -> dict[str, Any]:
    statement = matching(select(User), search, User.email, User.name).order_by(User.email)
    with engine.db.reader() as s:
        return paginate(s, statement, limit, offset, lambda row: out(row).model_dump(by_alias=True))


def get_user(engine: Engine, user_id: str) -> UserOut:
    with engine.db.reader() as s:
        return out(fetch(s, User, user_id, "user"))


def create_user(engine: Engine, data: UserCreate) -> UserOut:
    email = data.email.strip().lower()
    moment = engine.now()
    with engine.session() as s:
        if _by_email(s, email) is not None:
            raise Conflict(f"a user with e-mail {email} already exists", {"field": "email"})
        row = User(
            id=new_id("usr"),
            email=email,
            name=data.name,
            role=data.role,
            password_hash=hash_password(data.password),
            created_at=moment,
            updated_at=moment,
        )
        s.add(row)
        s.flush()
        return out(row)


def update_user(engine: Engine, user_id: str, data: UserUpdate) -> UserOut:
    with engine.session() as s:
        row = fetch(s, User, user_id, "user")
        if data.name is not None:
            row.name = data.name
        if data.password is not None:
            row.password_hash = hash_password(data.password)
            _end_sessions(row)
        if data.role is not None:
            row.role = data.role
        if data.active is not None:
            if row.active and not data.active:
                _end_sessions(row)
            row.active = data.active
        row.updated_at = engine.now()
        _keep_an_admin(s)
        s.flush()
        return out(row)


def delete_user(engine: Engine, user_id: str) -> None:
    with engine.session() as s:
        s.delete(fetch(s, User, user_id, "user"))
        s.flush()
        _keep_an_admin(s)


def authenticate(engine: Engine, email: str, password: str) -> Actor | None:
    """The user these credentials sign in (an active user with this password), or None."""
    with engine.session() as s:
        row = _by_email(s, email.strip().lower())
        if row is None or not row.active:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(row.password_hash, password):
            return None
        if needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        row.last_login_at = engine.now()
        return actor(row)


def actor_for_user(engine: Engine, user_id: str, version: int) -> Actor | None:
    """The user a session signed in as (at session `version`) as an actor with today's role, or None when
    deleted, deactivated or given a new password since."""
    with engine.db.reader() as s:
        row = s.get(User, user_id)
        valid = row is not None and row.active and row.session_version == version
        return actor(row) if valid else None


def session_version(engine: Engine, user_id: str) -> int | None:
    """The version a session of this user signs in at now (None: no such user)."""
    with engine.db.reader() as s:
        row = s.get(User, user_id)
        return row.session_version if row is not None else None


def set_admin(engine: Engine, s: Session, email: str, password: str) -> tuple[User, bool]:
    """Create or update the admin with this e-mail and password (active, role admin); whether it was new."""
    email = email.strip().lower()
    moment = engine.now()
    row = _by_email(s, email)
    if row is None:
        row = User(
            id=new_id("usr"),
            email=email,
            name="Administrator",
            role="admin",
            password_hash=hash_password(password),
            created_at=moment,
            updated_at=moment,
        )
        s.add(row)
        return row, True
    if not verify_password(row.password_hash, password):
        row.password_hash = hash_password(password)
        _end_sessions(row)
    if row.role != "admin" or not row.active:
        row.role, row.active = "admin", True
    if s.is_modified(row):
        row.updated_at = moment
    return row, False


def count(s: Session) -> int:
    return int(s.execute(select(func.count()).select_from(User)).scalar_one())


def actor(row: User) -> Actor:
    return Actor(kind="user", id=row.id, name=row.email, role=row.role)


def out(row: User) -> UserOut:
    return UserOut(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        active=row.active,
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
        last_login_at=iso(row.last_login_at),
    )


def _end_sessions(row: User) -> None:
    row.session_version = (row.session_version or 0) + 1


def _by_email(s: Session, email: str) -> User | None:
    return s.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _keep_an_admin(s: Session) -> None:
    s.flush()
    admins = s.execute(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    ).scalar_one()  # type: ignore[attr-defined]
    if not admins:
        raise Conflict(
            "this would leave no active admin; make another user an admin first", code="last_admin"
        )
