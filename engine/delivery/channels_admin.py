"""Channel CRUD with per-type config checks and secret masking, and the "send test" action.

Secrets (email username/password, every webhook/sms/push header value, the user:password part of a URL) are
stored in clear because the dispatcher needs them, but every answer shows them as "***"; an update that
sends "***" back keeps the stored value, but only for the destination it was entered for: with a new
scheme, host or port "***" is refused (422 naming the secret), so whoever may edit a channel cannot send a
secret they never saw somewhere else. A URL or SMTP host that resolves to a non-public address is refused
unless allowed (engine.delivery.outbound).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from engine import counters, signals
from engine.access import roles
from engine.counters import Tally
from engine.delivery import outbound
from engine.delivery.deliveries import delivery_out
from engine.delivery.outbox import queue_delivery
from engine.engine import Engine
from engine.errors import Invalid
from engine.ids import new_id
from engine.paging import paginate
from engine.records import fetch, insert_new
from engine.references import check_unused
from models.audience import Customer
from models.channels import (
    CHANNEL_TYPES,
    CONFIG_SCHEMAS,
    MASK,
    Channel,
    ChannelCreate,
    ChannelUpdate,
    Delivery,
    TestDeliveryIn,
)
from models.common import iso
from models.offers import Offer

EMAIL_SECRETS = ("username", "password")
HEADER_CHANNELS = ("webhook", "sms", "push")


def list_channels(
    engine: Engine, type: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Channels by name, optionally of one type."""
    if type is not None and type not in CHANNEL_TYPES:
        raise Invalid(f"type must be one of {', '.join(CHANNEL_TYPES)}", field="type")
    statement = select(Channel).order_by(Channel.name, Channel.id)
    if type is not None:
        statement = statement.where(Channel.type == type)
    with engine.db.reader() as s:
        return paginate(s, statement, limit, offset, channel_out)


def get_channel(engine: Engine, channel_id: str) -> dict[str, Any]:
    with engine.db.reader() as s:
        return channel_out(_channel(s, channel_id))


def create_channel(engine: Engine, data: ChannelCreate) -> dict[str, Any]:
    with engine.session() as s:
        values = {"name": data.name, "type": data.type,
                  "config": checked_config(engine, data.type, data.config), "rate_limit": data.rate_limit}
        return channel_out(insert_new(s, Channel, "channel", data.id or new_id("ch"), values, engine.now()))


def update_channel(engine: Engine, channel_id: str, data: ChannelUpdate) -> dict[str, Any]:
    """Change the given fields. A new type needs a config for it; "***" keeps a stored secret within the
    same type, or between webhook, sms and push (all keep theirs in headers), while the destination stays."""
    with engine.session() as s:
        row = _channel(s, channel_id)
        new_type = data.type or row.type
        if data.config is not None or new_type != row.type:
            same_secrets = new_type == row.type or {new_type, row.type} <= set(HEADER_CHANNELS)
            stored = row.config if same_secrets else {}
            given = data.config if data.config is not None else {}
            row.config = checked_config(engine, new_type, given, stored)
        row.type = new_type
        if data.name is not None:
            row.name = data.name
        if "rate_limit" in data.model_fields_set:
            row.rate_limit = data.rate_limit
        row.updated_at = engine.now()
        s.add(row)
        return channel_out(row)


def delete_channel(engine: Engine, channel_id: str) -> None:
    """Delete a channel no journey sends through (409 naming the journeys otherwise); deliveries still
    queued for it then fail with "channel not found"."""
    with engine.session() as s:
        row = _channel(s, channel_id)
        check_unused(s, "channel", channel_id)
        s.delete(row)


def send_test(engine: Engine, channel_id: str, data: TestDeliveryIn) -> dict[str, Any]:
    """Queue a real delivery of an offer to a customer through this channel (no journey or contact policy);
    editors and admins only (a delivery row is no audited entity, so the audit hook would not refuse it)."""
    roles.require(engine.actor, "editor", "send test deliveries")
    with engine.unit_of_work() as uow:
        s = uow.session
        _channel(s, channel_id)
        fetch(s, Customer, data.customer_id, "customer", "customerId")
        fetch(s, Offer, data.offer_id, "offer", "offerId")
        tally = Tally()
        queued = queue_delivery(
            uow, tally, customer_id=data.customer_id, channel_id=channel_id, offer_id=data.offer_id,
            journey_id=None, enrollment_id=None, step_id=None, idempotency_key=f"test:{new_id('tst')}",
            template=None, context={}, contact_policy=None, now=engine.now(),
        )
        counters.apply(s, tally)
        s.flush()
        answer = delivery_out(s.get_one(Delivery, queued.id))
    signals.work_available.send(engine=engine)
    return answer


def checked_config(
    engine: Engine, type: str, config: dict[str, Any], stored: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`config` checked against its type's schema (errors name `config.<field>`); "***" takes `stored`'s
    secret while `config` goes to the destination `stored` went to."""
    stored = stored or {}
    old, new = _destination(type, stored), _destination(type, config)
    unmasked = _unmask(type, config, stored, moved_from=old if old and new and old != new else None)
    try:
        model = CONFIG_SCHEMAS[type].model_validate(unmasked)
    except ValidationError as error:
        first = error.errors()[0]
        # pydantic marks a bad dict key with a trailing "[key]"; the key itself names the field well enough.
        field = ".".join(["config", *(str(part) for part in first["loc"] if part != "[key]")])
        raise Invalid(f"{field}: {first['msg']}", field=field) from error
    checked = model.model_dump(by_alias=True)
    _check_destination(engine, type, checked)
    return checked


def _check_destination(engine: Engine, type: str, config: dict[str, Any]) -> None:
    """422 naming `config.url` or `config.host` when the destination is refused by the outbound guard."""
    field = "config.url" if type in HEADER_CHANNELS else "config.host"
    try:
        if type in HEADER_CHANNELS and not outbound.is_own_sink(engine, config["url"]):
            outbound.check_at_save(engine, *outbound.url_host_port(config["url"]))
        elif type == "email":
            outbound.check_at_save(engine, config["host"], config["port"])
    except (ValueError, outbound.BlockedDestination) as error:
        raise Invalid(f"{field}: {error}", field=field) from error


def mask(type: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as the API shows it: every secret that is set replaced by "***"."""
    shown = dict(config)
    if type == "email":
        for key in EMAIL_SECRETS:
            if shown.get(key):
                shown[key] = MASK
    if type in HEADER_CHANNELS:
        shown["headers"] = {name: MASK for name in (shown.get("headers") or {})}
        if isinstance(shown.get("url"), str):
            start, userinfo, end = _split_userinfo(shown["url"])
            if userinfo:
                shown["url"] = f"{start}{MASK}@{end}"
    return shown


def channel_out(row: Channel) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "type": row.type, "config": mask(row.type, row.config or {}),
            "rateLimit": row.rate_limit, "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}


def _destination(type: str, config: dict[str, Any]) -> str | None:
    """Where a config sends its secrets (`scheme://host:port`, or `host:port` for SMTP); None when it has
    no readable destination (the schema check names what is wrong with it)."""
    if type == "email" and isinstance(config.get("host"), str):
        return f"{config['host'].lower()}:{config.get('port', 25)}"
    if type in HEADER_CHANNELS and isinstance(config.get("url"), str):
        try:
            host, port = outbound.url_host_port(config["url"])
        except ValueError:
            return None
        return f"{config['url'].partition(':')[0].lower()}://{host}:{port}"
    return None


def _unmask(type: str, config: dict[str, Any], stored: dict[str, Any],
            moved_from: str | None) -> dict[str, Any]:
    unmasked = dict(config)
    if type == "email":
        for key in EMAIL_SECRETS:
            if unmasked.get(key) == MASK:
                unmasked[key] = _kept(stored.get(key), f"config.{key}", moved_from)
    url = unmasked.get("url")
    if type in HEADER_CHANNELS and isinstance(url, str):
        start, userinfo, end = _split_userinfo(url)
        if userinfo == MASK:
            stored_userinfo = _split_userinfo(stored.get("url") or "")[1] or None
            unmasked["url"] = f"{start}{_kept(stored_userinfo, 'config.url', moved_from)}@{end}"
    headers = unmasked.get("headers")
    if type in HEADER_CHANNELS and isinstance(headers, dict):
        stored_headers = stored.get("headers") or {}
        unmasked["headers"] = {
            name: _kept(stored_headers.get(name), f"config.headers.{name}", moved_from) if value == MASK
            else value
            for name, value in headers.items()
        }
    return unmasked


def _split_userinfo(url: str) -> tuple[str, str, str]:
    """(`scheme://`, the `user:password` before the host's "@" or "", the rest from the host on), split
    the way the HTTP client reads a URL (the last "@" of the authority ends the user info)."""
    scheme, separator, after = url.partition("://")
    if not separator:
        return url, "", ""
    authority_end = min([index for index in map(after.find, "/?#") if index >= 0] or [len(after)])
    userinfo, at, host = after[:authority_end].rpartition("@")
    if not at:
        return url, "", ""
    return f"{scheme}://", userinfo, host + after[authority_end:]


def _kept(value: Any, field: str, moved_from: str | None) -> Any:
    """The stored secret `value` that "***" in `field` stands for; Invalid when none is stored, or when the
    config now goes somewhere other than `moved_from`, where the secret was meant to go."""
    if moved_from is not None:
        raise Invalid(f'{field}: the destination is no longer {moved_from}, so "{MASK}" cannot keep the '
                      "stored secret: enter it again for the new destination", field=field)
    if value is None:
        raise Invalid(f'{field}: "{MASK}" keeps a stored secret, but none is stored', field=field)
    return value


def _channel(s: Session, channel_id: str) -> Channel:
    return fetch(s, Channel, channel_id, "channel")
