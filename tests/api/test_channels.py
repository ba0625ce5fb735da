"""Channels over HTTP: per-type validation, secrets masked in every answer and kept on "***", test sends,
non-public destinations refused unless allowlisted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from models.channels import Channel
from tests.delivery_kit import http_receiver, seed_customer, seed_offer

MAIL = {"host": "smtp.example.com", "port": 587, "starttls": True, "username": "shop",
        "password": "hunter2", "fromAddress": "shop@example.com"}
HOOK = {"url": "https://hooks.example.com/in", "headers": {"Authorization": "Bearer s3cret"},
        "timeoutSeconds": 3}


def _create(api: TestClient, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/channels", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _stored(engine: Engine, channel_id: str) -> dict[str, Any]:
    with engine.session() as s:
        return s.get_one(Channel, channel_id).config


def test_email_channel_answers_masked_everywhere(engine: Engine, api: TestClient) -> None:
    created = _create(api, id="ch_mail", name="Mail", type="email", config=MAIL, rateLimit=5)
    expected = {**MAIL, "username": "***", "password": "***"}
    assert created["config"] == expected
    assert created["rateLimit"] == 5
    assert api.get("/api/v1/channels/ch_mail").json()["config"] == expected
    assert api.get("/api/v1/channels").json()["data"][0]["config"] == expected
    assert _stored(engine, "ch_mail")["password"] == "hunter2"


def test_header_values_are_masked_and_kept_when_sent_back(engine: Engine, api: TestClient) -> None:
    created = _create(api, id="ch_hook", name="Hook", type="webhook", config=HOOK)
    assert created["config"]["headers"] == {"Authorization": "***"}
    config = {**created["config"], "url": "https://hooks.example.com/v2",
              "headers": {"Authorization": "***", "X-Team": "growth"}}
    updated = api.put("/api/v1/channels/ch_hook", json={"config": config}).json()
    assert updated["config"]["headers"] == {"Authorization": "***", "X-Team": "***"}
    assert _stored(engine, "ch_hook")["headers"] == {"Authorization": "Bearer s3cret", "X-Team": "growth"}
    assert _stored(engine, "ch_hook")["url"] == "https://hooks.example.com/v2"


def test_password_sent_back_masked_keeps_the_stored_one_and_a_new_one_replaces_it(
    engine: Engine, api: TestClient
) -> None:
    _create(api, id="ch_mail", name="Mail", type="email", config=MAIL)
    api.put("/api/v1/channels/ch_mail", json={"config": {**MAIL, "username": "***", "password": "***"}})
    stored = _stored(engine, "ch_mail")
    assert (stored["username"], stored["password"]) == ("shop", "hunter2")
    api.put("/api/v1/channels/ch_mail", json={"config": {**MAIL, "username": "***", "password": "new"}})
    assert _stored(engine, "ch_mail")["password"] == "new"


def test_mask_without_a_stored_secret_is_invalid(api: TestClient) -> None:
    response = api.post("/api/v1/channels", json={"name": "Mail", "type": "email",
                                                  "config": {**MAIL, "password": "***"}})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "config.password"


@pytest.mark.parametrize(("type", "config", "field"), [
    ("webhook", {"headers": {}}, "config.url"),
    ("sms", {"url": "ftp://x"}, "config.url"),
    ("push", {"url": "https://p.example.com", "timeoutSeconds": 0}, "config.timeoutSeconds"),
    ("webhook", {"url": "https://w.example.com", "headers": {"Bad Name": "x"}}, "config.headers.Bad Name"),
    ("email", {"fromAddress": "shop@example.com"}, "config.host"),
    ("email", {"host": "smtp", "fromAddress": "nobody"}, "config.fromAddress"),
    ("email", {"host": "smtp", "port": 70000, "fromAddress": "a@b.c"}, "config.port"),
    ("in_app", {"url": "https://x.example.com"}, "config.url"),
])
def test_config_is_checked_per_type_naming_the_field(api: TestClient, type: str, config: dict[str, Any],
                                                      field: str) -> None:
    response = api.post("/api/v1/channels", json={"name": "C", "type": type, "config": config})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_unknown_type_and_bad_rate_limit_are_invalid(api: TestClient) -> None:
    assert api.post("/api/v1/channels", json={"name": "C", "type": "fax"}).status_code == 422
    response = api.post("/api/v1/channels", json={"name": "C", "type": "in_app", "rateLimit": 0})
    assert response.json()["error"]["details"]["field"] == "rateLimit"


def test_generated_id_duplicate_id_unknown_id_and_delete(api: TestClient) -> None:
    created = _create(api, name="Inbox", type="in_app")
    assert created["id"].startswith("ch_")
    assert created["config"] == {}
    again = api.post("/api/v1/channels", json={"id": created["id"], "name": "Again", "type": "in_app"})
    assert again.status_code == 409
    assert api.get("/api/v1/channels/ch_nope").status_code == 404
    assert api.put("/api/v1/channels/ch_nope", json={"name": "x"}).status_code == 404
    assert api.delete(f"/api/v1/channels/{created['id']}").status_code == 204
    assert api.get(f"/api/v1/channels/{created['id']}").status_code == 404


def test_changing_type_needs_a_config_for_the_new_type(engine: Engine, api: TestClient) -> None:
    _create(api, id="ch_x", name="X", type="in_app")
    response = api.put("/api/v1/channels/ch_x", json={"type": "webhook"})
    assert response.json()["error"]["details"]["field"] == "config.url"
    changed = api.put("/api/v1/channels/ch_x", json={"type": "sms", "config": HOOK, "rateLimit": None})
    assert changed.json()["type"] == "sms"
    assert changed.json()["config"]["headers"] == {"Authorization": "***"}
    masked = {**HOOK, "headers": {"Authorization": "***"}}
    assert api.put("/api/v1/channels/ch_x", json={"type": "push", "config": masked}).status_code == 200
    assert _stored(engine, "ch_x")["headers"] == {"Authorization": "Bearer s3cret"}
    back = api.put("/api/v1/channels/ch_x", json={"type": "email", "config": {**MAIL, "password": "***"}})
    assert back.json()["error"]["details"]["field"] == "config.password"


def test_list_filters_by_type_and_pages(api: TestClient) -> None:
    for index in range(3):
        _create(api, id=f"ch_{index}", name=f"Inbox {index}", type="in_app")
    _create(api, id="ch_hook", name="Hook", type="webhook", config=HOOK)
    page = api.get("/api/v1/channels", params={"type": "in_app", "limit": 2}).json()
    assert [c["id"] for c in page["data"]] == ["ch_0", "ch_1"]
    assert page["pagination"] == {"total": 3, "limit": 2, "offset": 0, "hasMore": True}
    assert api.get("/api/v1/channels", params={"type": "fax"}).status_code == 422


def test_send_test_queues_a_real_delivery_that_uses_the_stored_secret(
    engine: Engine, api: TestClient
) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    with http_receiver(engine) as receiver:
        _create(api, id="ch_hook", name="Hook", type="webhook", config={**HOOK, "url": receiver.url})
        response = api.post("/api/v1/channels/ch_hook/test",
                            json={"customerId": "cus_ann", "offerId": "off_tea"})
        assert response.status_code == 201, response.text
        queued = response.json()
        assert (queued["status"], queued["channelId"], queued["journeyId"]) == ("queued", "ch_hook", None)
        assert dispatch_due(engine) == 1
    request = receiver.requests[0]
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["Idempotency-Key"].startswith("test:")
    assert (request["json"]["subject"], request["json"]["body"]) == ("Green tea", "Ten percent off green tea")
    assert api.get(f"/api/v1/deliveries/{queued['id']}").json()["status"] == "sent"


def test_send_test_with_unknown_ids_is_not_found(engine: Engine, api: TestClient) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    _create(api, id="ch_inapp", name="Inbox", type="in_app")
    for path, body in (("ch_nope", {"customerId": "cus_ann", "offerId": "off_tea"}),
                       ("ch_inapp", {"customerId": "cus_nope", "offerId": "off_tea"}),
                       ("ch_inapp", {"customerId": "cus_ann", "offerId": "off_nope"})):
        assert api.post(f"/api/v1/channels/{path}/test", json=body).status_code == 404
    assert api.post("/api/v1/channels/ch_inapp/test", json={"customerId": "cus_ann"}).status_code == 422


def _error_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["error"]["details"]["field"])


def test_a_webhook_to_the_cloud_metadata_address_is_refused_naming_the_url(api: TestClient) -> None:
    response = api.post("/api/v1/channels", json={"name": "Meta", "type": "webhook",
                                                  "config": {"url": "http://169.254.169.254/latest"}})
    assert _error_field(response) == "config.url"
    assert "blocked destination" in response.json()["error"]["message"]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/api/v1/journeys", "http://2130706433/", "http://0x7f.1/", "http://[::1]/",
    "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "https://localhost/in", "http://10.0.0.1/",
    "http://user:pw@192.168.1.1/", "http://0177.0.0.1/",  # the last is no URL at all for the HTTP client
])
def test_webhook_sms_and_push_urls_to_non_public_hosts_are_refused(api: TestClient, url: str) -> None:
    for type in ("webhook", "sms", "push"):
        response = api.post("/api/v1/channels", json={"name": "x", "type": type, "config": {"url": url}})
        assert _error_field(response) == "config.url"


def test_an_smtp_host_on_loopback_is_refused_naming_the_host(api: TestClient) -> None:
    response = api.post("/api/v1/channels", json={"name": "Mail", "type": "email",
                                                  "config": {**MAIL, "host": "localhost", "port": 25}})
    assert _error_field(response) == "config.host"


def test_an_update_to_a_blocked_url_is_refused_and_keeps_the_stored_one(
    engine: Engine, api: TestClient
) -> None:
    _create(api, id="ch_hook", name="Hook", type="webhook", config=HOOK)
    response = api.put("/api/v1/channels/ch_hook", json={"config": {**HOOK, "url": "http://10.1.1.1/x"}})
    assert _error_field(response) == "config.url"
    assert _stored(engine, "ch_hook")["url"] == HOOK["url"]


def test_allowlisted_private_destinations_are_accepted(api: TestClient, engine: Engine) -> None:
    engine.settings.outbound_allowlist = "169.254.169.254,10.0.0.0/8,mail.internal"
    _create(api, name="Meta", type="webhook", config={"url": "http://169.254.169.254/latest"})
    _create(api, name="Lan", type="sms", config={"url": "http://10.20.30.40:9000/sms"})
    _create(api, name="Mail", type="email", config={**MAIL, "host": "mail.internal"})


def test_credentials_in_a_url_are_masked_and_kept_when_sent_back(engine: Engine, api: TestClient) -> None:
    url = "https://bot:t0ken@hooks.example.com/in?team=growth"
    created = _create(api, id="ch_hook", name="Hook", type="webhook", config={**HOOK, "url": url})
    shown = "https://***@hooks.example.com/in?team=growth"
    assert created["config"]["url"] == shown
    assert api.get("/api/v1/channels/ch_hook").json()["config"]["url"] == shown
    moved = "https://***@hooks.example.com/v2"
    updated = api.put("/api/v1/channels/ch_hook", json={"config": {**created["config"], "url": moved}}).json()
    assert updated["config"]["url"] == moved
    assert _stored(engine, "ch_hook")["url"] == "https://bot:t0ken@hooks.example.com/v2"
    api.put("/api/v1/channels/ch_hook", json={"config": {**HOOK, "url": "https://hooks.example.com/v3"}})
    response = api.put("/api/v1/channels/ch_hook", json={"config": {**HOOK, "url": moved}})
    assert _error_field(response) == "config.url"  # "***" with no stored credentials to keep


def test_a_masked_header_secret_sent_with_a_new_url_host_is_refused_and_never_sent_there(
        engine: Engine, api: TestClient) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    with http_receiver(engine) as old, http_receiver(engine) as new:
        created = _create(api, id="ch_hook", name="Hook", type="webhook", config={**HOOK, "url": old.url})
        response = api.put("/api/v1/channels/ch_hook", json={"config": {**created["config"], "url": new.url}})
        assert _error_field(response) == "config.headers.Authorization"
        assert "enter it again" in response.json()["error"]["message"]
        assert _stored(engine, "ch_hook")["url"] == old.url
        api.post("/api/v1/channels/ch_hook/test", json={"customerId": "cus_ann", "offerId": "off_tea"})
        assert dispatch_due(engine) == 1
    assert [r["headers"]["Authorization"] for r in old.requests] == ["Bearer s3cret"]
    assert new.requests == []


def test_a_masked_smtp_password_sent_with_a_new_host_or_port_is_refused(
    engine: Engine, api: TestClient
) -> None:
    _create(api, id="ch_mail", name="Mail", type="email", config=MAIL)
    for moved in ({"host": "smtp.example.net"}, {"port": 465}):
        response = api.put("/api/v1/channels/ch_mail",
                           json={"config": {**MAIL, **moved, "username": "shop", "password": "***"}})
        assert _error_field(response) == "config.password"
    assert _stored(engine, "ch_mail") == MAIL
    entered = api.put("/api/v1/channels/ch_mail", json={"config": {**MAIL, "port": 465, "password": "n3w"}})
    assert entered.status_code == 200, entered.text
    assert (_stored(engine, "ch_mail")["port"], _stored(engine, "ch_mail")["password"]) == (465, "n3w")


def test_viewer_test_send_is_refused_and_nothing_queued(engine: Engine, api: TestClient) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    _create(api, id="ch_inapp", name="Inbox", type="in_app")
    key = api.post("/api/v1/api-keys", json={"name": "viewer", "role": "viewer"}).json()["key"]
    response = api.post("/api/v1/channels/ch_inapp/test",
                        json={"customerId": "cus_ann", "offerId": "off_tea"},
                        headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert api.get("/api/v1/deliveries").json()["pagination"]["total"] == 0
