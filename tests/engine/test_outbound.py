"""The outbound guard: non-public destinations in every spelling are refused at send, unless allowlisted;
DNS is resolved once per connection and the connection goes to the checked address; redirects are not
followed; lastError shows a remote answer's status line and nothing more."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import pytest

from engine.delivery import outbound
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from tests.delivery_kit import (
    LOCAL_ADDRESS,
    attempts,
    delivery,
    http_config,
    http_receiver,
    mail_config,
    outbound_allowed,
    queue,
    seed_channel,
    seed_customer,
    seed_offer,
    smtp_server,
)

CREATIVE = {"subject": "Hi {{ customer.name }}", "body": "{{ offer.name }}"}


@pytest.fixture(autouse=True)
def _audience(engine: Engine) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea", creatives={"webhook": CREATIVE, "email": CREATIVE})


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A scripted resolver for names under `.test`: `dns[name]` lists answers (each comma-separated
    addresses), a lookup takes the next while several are left; other names go to the real resolver.
    Lookups are recorded in `dns["lookups"]`."""
    answers: dict[str, Any] = {"lookups": []}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if not host.endswith(".test"):
            return real(host, port, *args, **kwargs)
        answers["lookups"].append(host)
        queued = answers[host]
        answer = queued.pop(0) if len(queued) > 1 else queued[0]
        return [(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (address, port)) for address in answer.split(",")]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(("host", "reason"), [
    ("127.0.0.1", "loopback"),
    ("2130706433", "loopback"),          # decimal
    ("017700000001", "loopback"),        # octal
    ("0x7f.1", "loopback"),              # hex, short form
    ("::ffff:127.0.0.1", "loopback"),    # IPv4-mapped IPv6
    ("::1", "loopback"),
    ("localhost", "loopback"),           # a name that resolves to loopback
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("169.254.169.254", "link-local"),   # cloud metadata
    ("fe80::1", "link-local"),
    ("10.1.2.3", "private"),
    ("192.168.0.10", "private"),
    ("fd00::1", "private"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("100.64.0.1", "non-public"),        # carrier-grade NAT
    ("2002:7f00:1::1", "loopback"),      # 6to4 wrapping 127.0.0.1
])
def test_non_public_addresses_in_any_spelling_are_blocked(engine: Engine, host: str, reason: str) -> None:
    with pytest.raises(outbound.BlockedDestination, match=f"blocked destination: .* is a {reason} address"):
        outbound.checked_addresses(engine, host, 80)


def test_public_addresses_pass(engine: Engine) -> None:
    assert outbound.checked_addresses(engine, "93.184.216.34", 443) == ["93.184.216.34"]
    assert outbound.checked_addresses(engine, "2606:4700::1111", 443) == ["2606:4700::1111"]


def test_a_name_is_blocked_when_any_of_its_addresses_is_private(engine: Engine, dns: dict[str, Any]) -> None:
    dns["mixed.test"] = ["93.184.216.34,93.184.216.35"]
    assert outbound.checked_addresses(engine, "mixed.test", 80) == ["93.184.216.34", "93.184.216.35"]
    dns["mixed.test"] = ["93.184.216.34,10.0.0.7"]
    with pytest.raises(outbound.BlockedDestination, match=r"mixed.test \(10.0.0.7\) is a private address"):
        outbound.checked_addresses(engine, "mixed.test", 80)


def test_allowlist_takes_cidrs_addresses_and_host_names(engine: Engine) -> None:
    engine.settings.outbound_allowlist = " 10.0.0.0/8, ::1 ,localhost., bad/cidr "
    assert outbound.checked_addresses(engine, "10.200.0.1", 80) == ["10.200.0.1"]
    assert outbound.checked_addresses(engine, "::1", 80) == ["::1"]
    assert outbound.checked_addresses(engine, "LOCALHOST", 80)  # by name, whatever it resolves to
    for blocked in ("127.0.0.1", "192.168.1.1"):
        with pytest.raises(outbound.BlockedDestination):
            outbound.checked_addresses(engine, blocked, 80)


def test_the_apps_own_sink_url_and_nothing_else_is_exempt(engine: Engine) -> None:
    engine.settings.port = 8123
    assert outbound.own_sink_url(engine) == "http://127.0.0.1:8123/api/v1/sink/webhook"
    assert outbound.is_own_sink(engine, "http://127.0.0.1:8123/api/v1/sink/webhook")
    assert outbound.is_own_sink(engine, "http://[::1]:8123/api/v1/sink/webhook")
    for other in ("http://127.0.0.1:8123/api/v1/journeys", "http://127.0.0.1:8124/api/v1/sink/webhook",
                  "https://127.0.0.1:8123/api/v1/sink/webhook", "http://u:p@127.0.0.1:8123/api/v1/sink/webhook",
                  "http://2130706433:8123/api/v1/sink/webhook", "http://sink.test:8123/api/v1/sink/webhook"):
        assert not outbound.is_own_sink(engine, other), other


def test_a_local_http_server_is_refused_without_the_allowlist_and_reached_with_it(engine: Engine) -> None:
    with http_receiver(engine, allow=False) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        blocked = queue(engine, "k1")
        dispatch_due(engine)
        assert receiver.requests == []
        with outbound_allowed(engine, LOCAL_ADDRESS):
            sent = queue(engine, "k2")
            dispatch_due(engine)
    row = delivery(engine, blocked.id)
    assert (row.status, row.attempts) == ("failed", 1)  # permanent: no retry can help
    assert row.last_error.startswith("blocked destination: 127.0.0.1 is a loopback address")
    assert delivery(engine, sent.id).status == "sent"
    assert [request["headers"]["Idempotency-Key"] for request in receiver.requests] == ["k2"]


def test_a_local_smtp_server_is_refused_without_the_allowlist_and_reached_with_it(engine: Engine) -> None:
    with smtp_server(engine, allow=False) as (port, messages):
        seed_channel(engine, "ch_mail", "email", mail_config(port))
        blocked = queue(engine, "k1", channel_id="ch_mail")
        dispatch_due(engine)
        assert messages == []
        with outbound_allowed(engine, "127.0.0.0/8"):
            sent = queue(engine, "k2", channel_id="ch_mail")
            dispatch_due(engine)
    row = delivery(engine, blocked.id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "blocked destination" in row.last_error
    assert delivery(engine, sent.id).status == "sent"
    assert len(messages) == 1


def test_dns_is_checked_again_at_send_so_a_rebound_name_is_refused(
        engine: Engine, dns: dict[str, Any]) -> None:
    dns["hooks.test"] = ["93.184.216.34"]
    outbound.check_at_save(engine, "hooks.test", 80)  # public when the channel is saved
    dns["hooks.test"] = [LOCAL_ADDRESS]       # ... then rebound to loopback
    with http_receiver(engine, allow=False) as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        seed_channel(engine, "ch_hook", "webhook", http_config(f"http://hooks.test:{port}/hook"))
        queued = queue(engine)
        dispatch_due(engine)
    assert receiver.requests == []
    error = delivery(engine, queued.id).last_error
    assert error.startswith("blocked destination: hooks.test (127.0.0.1) is a loopback address")


def test_a_name_that_rebinds_between_lookups_is_resolved_once_and_the_checked_address_is_used(
        engine: Engine, dns: dict[str, Any]) -> None:
    """The first answer is checked and connected to; a second lookup (the rebinding trick: public for the
    check, private for the connect) would have answered the private address."""
    with http_receiver(engine, allow=False) as receiver, outbound_allowed(engine, LOCAL_ADDRESS):
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        dns["local.test"] = [LOCAL_ADDRESS, "10.9.9.9"]
        seed_channel(engine, "ch_hook", "webhook", http_config(f"http://local.test:{port}/hook"))
        queued = queue(engine)
        dispatch_due(engine)
    assert delivery(engine, queued.id).status == "sent"
    assert dns["lookups"] == ["local.test"]
    # The request went to the checked address but still names the configured host.
    assert receiver.requests[0]["headers"]["Host"] == f"local.test:{port}"


def test_redirects_are_not_followed(engine: Engine) -> None:
    redirect = {"Location": "http://169.254.169.254/latest"}
    with http_receiver(engine, statuses=[302], headers=redirect) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = queue(engine)
        dispatch_due(engine)
    assert len(receiver.requests) == 1
    row = delivery(engine, queued.id)
    assert (row.status, row.last_error) == ("failed", "HTTP 302 Found")


def test_last_error_shows_the_status_line_and_never_the_answers_body(engine: Engine) -> None:
    with http_receiver(engine, statuses=[503], answer=b"internal: db=10.0.0.5 password=hunter2") as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = queue(engine)
        dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert (row.status, row.last_error) == ("queued", "HTTP 503 Service Unavailable")
    assert [attempt.error for attempt in attempts(engine, queued.id)] == ["HTTP 503 Service Unavailable"]


def test_a_non_http_answer_is_named_without_quoting_it(engine: Engine) -> None:
    """A port that speaks another protocol (here a raw banner) must not be read back through lastError."""
    with socket.socket() as listener:
        listener.bind((LOCAL_ADDRESS, 0))
        listener.listen()
        port = listener.getsockname()[1]
        seed_channel(engine, "ch_hook", "webhook", http_config(f"http://{LOCAL_ADDRESS}:{port}/"))
        queued = queue(engine)

        def banner() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                # A complete (blank-line ended) answer head: the client judges it at once instead of
                # waiting for more, so the outcome never depends on a read timeout under load.
                connection.sendall(b"-ERR secret-banner-text\r\n\r\n")
                connection.settimeout(5)
                with contextlib.suppress(OSError):
                    while connection.recv(65536):  # hold the line until the client gives up on the answer
                        pass

        server = threading.Thread(target=banner, daemon=True)
        server.start()
        with outbound_allowed(engine, LOCAL_ADDRESS):
            dispatch_due(engine)
        server.join(5)
    error = delivery(engine, queued.id).last_error
    assert "secret-banner-text" not in error
    assert error == "RemoteProtocolError"
