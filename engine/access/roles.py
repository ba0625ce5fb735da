"""Roles, what each may do, and who acts.

viewer < editor < admin. A viewer reads everything; an editor also creates, edits, activates and pauses
journeys, audience, offers and channels; an admin also deletes, archives, and manages users and API keys.

The actor travels with the engine: the API hands each request the engine as its caller
(`engine.as_actor(actor)`, ui/dependencies.py) and a page the engine as its signed-in user, so the sessions
opened through it know who changes what, and the audit hook (engine/access/audit.py) refuses what the role
may not do, in the transaction of the change. Work the engine does on its own (the scheduler) has no actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import JourneysError

ROLES = ("viewer", "editor", "admin")
# What changing an entity needs, by action (and the verb that says it); users and API keys need an admin
# whatever the action.
ACTION_NEEDS = {
    "created": ("create", "editor"),
    "updated": ("change", "editor"),
    "activated": ("activate", "editor"),
    "paused": ("pause", "editor"),
    "resumed": ("resume", "editor"),
    "archived": ("archive", "admin"),
    "deleted": ("delete", "admin"),
    "revoked": ("revoke", "admin"),
}
ADMIN_ENTITIES = frozenset({"user", "api_key"})
# Said to a person who may not do something: who may.
WHO_MAY = {"viewer": "anyone signed in", "editor": "editors and admins", "admin": "admins"}


class Forbidden(JourneysError):
    status = 403
    code = "forbidden"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, an API key, or the system itself (bootstrap)."""

    kind: str  # user | key | system
    id: str
    name: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"


SYSTEM = Actor(kind="system", id="system", name="system", role="admin")


def allows(role: str, needed: str) -> bool:
    """Whether `role` is at least `needed` (an unknown role allows nothing)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def needed_for(entity_type: str, action: str) -> str:
    """The least role that may do `action` to an entity of this type."""
    return "admin" if entity_type in ADMIN_ENTITIES else ACTION_NEEDS.get(action, ("", "admin"))[1]


def verb(action: str) -> str:
    return ACTION_NEEDS.get(action, ("change", ""))[0]


def require(actor: Actor | None, needed: str, what: str) -> None:
    """Forbidden unless the actor's role is at least `needed` (no actor: the engine itself, allowed)."""
    if actor is not None and not allows(actor.role, needed):
        raise Forbidden(refusal(actor.role, needed, what), details={"role": actor.role, "needed": needed})


def refusal(role: str, needed: str, what: str) -> str:
    """Why a role may not: e.g. "admins may delete journeys; you are an editor"."""
    return f"{WHO_MAY[needed]} may {what}; you are {_article(role)} {role}"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"

