"""REST routes for accounts: API keys and users (admins), the audit log (admins), a journey's own history
and who the caller is (anyone signed in). Who may call what is decided in ui/api/auth.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from engine.access import api_keys, audit, roles, users
from engine.engine import Engine
from engine.journeys import lifecycle
from models.access import ApiKeyCreate, ApiKeyCreated, UserCreate, UserOut, UserUpdate
from models.common import NO_NUL, ErrorEnvelope
from ui import session
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["access"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorEnvelope, "description": "no such id"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorEnvelope, "description": "would leave no admin"}
}


def _actor(engine: Engine) -> roles.Actor:
    actor = engine.actor
    assert actor is not None, "the access middleware lets no anonymous request reach these routes"
    return actor


@router.get("/me")
def who_am_i(engine: EngineDep) -> dict[str, str]:
    """Who the credentials of this request stand for, and their role."""
    actor = _actor(engine)
    return {"kind": actor.kind, "id": actor.id, "name": actor.name, "role": actor.role}


# ---- API keys -------------------------------------------------------------------------------------------


@router.get("/api-keys")
def list_api_keys(engine: EngineDep, page: Paging = Depends(paging)) -> dict[str, Any]:
    """Every key, revoked ones too, newest first; the keys themselves are never shown again."""
    return api_keys.list_keys(engine, page.limit, page.offset)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_api_key(engine: EngineDep, body: ApiKeyCreate) -> Any:
    """A new key with this name and role. The answer's `key` is the only time it is shown: keep it."""
    return api_keys.create_key(engine, body, created_by=_actor(engine).label).model_dump(by_alias=True)


@router.delete("/api-keys/{key_id}", status_code=204, responses=NOT_FOUND)
def revoke_api_key(engine: EngineDep, key_id: str) -> Response:
    """Revoke the key: it stops working at once (it stays listed, with `revokedAt`)."""
    api_keys.revoke_key(engine, key_id)
    return Response(status_code=204)


# ---- users ----------------------------------------------------------------------------------------------


@router.get("/users")
def list_users(
    engine: EngineDep,
    search: str | None = Query(None, pattern=NO_NUL, max_length=255,
                               description="part of the e-mail or name"),
    page: Paging = Depends(paging),
) -> dict[str, Any]:
    return users.list_users(engine, page.limit, page.offset, search)


@router.post("/users", status_code=201, response_model=UserOut, responses={409: CONFLICT[409]})
def create_user(engine: EngineDep, body: UserCreate) -> Any:
    return users.create_user(engine, body).model_dump(by_alias=True)


@router.get("/users/{user_id}", response_model=UserOut, responses=NOT_FOUND)
def get_user(engine: EngineDep, user_id: str) -> Any:
    return users.get_user(engine, user_id).model_dump(by_alias=True)


@router.put("/users/{user_id}", response_model=UserOut, responses={**NOT_FOUND, **CONFLICT})
async def update_user(engine: EngineDep, user_id: str, body: UserUpdate) -> Any:
    """Change name, role, password or `active` (a deactivated user cannot sign in). A new password or a
    deactivation signs the user out of every session but the caller's own."""
    changed = await run_in_threadpool(users.update_user, engine, user_id, body)
    await session.keep_after_change(engine, user_id)
    return changed.model_dump(by_alias=True)


@router.delete("/users/{user_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
def delete_user(engine: EngineDep, user_id: str) -> Response:
    users.delete_user(engine, user_id)
    return Response(status_code=204)


# ---- audit ----------------------------------------------------------------------------------------------


@router.get("/audit")
def list_audit(
    engine: EngineDep,
    entity_type: str | None = Query(
        None,
        alias="entityType",
        max_length=32,
        pattern=NO_NUL,
        description="journey, segment, offer, decision_flow, channel, user, api_key; account and address "
        "for sign-in lockouts",
    ),
    entity_id: str | None = Query(None, alias="entityId", max_length=128, pattern=NO_NUL),
    actor: str | None = Query(None, max_length=255, pattern=NO_NUL,
                              description="e.g. user:ada@example.com or key:ci"),
    page: Paging = Depends(paging),
) -> dict[str, Any]:
    """Who changed what and when, newest first."""
    return audit.list_entries(engine, page.limit, page.offset, entity_type, entity_id, actor)


@router.get("/journeys/{journey_id}/history", responses=NOT_FOUND)
def journey_history(engine: EngineDep, journey_id: str, page: Paging = Depends(paging)) -> dict[str, Any]:
    """The journey's own changes (created, changed, activated, paused, archived), newest first."""
    lifecycle.get_journey(engine, journey_id)  # 404 for an unknown journey
    return audit.list_entries(engine, page.limit, page.offset, "journey", journey_id)
