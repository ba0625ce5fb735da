"""The JSON POST shared by the webhook, sms and push channels, through the outbound guard."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import httpcore
import httpx

from engine.delivery import outbound
from engine.delivery.channels.base import OutgoingMessage, SendError
from engine.engine import Engine

# Worth another try: the receiver was busy or broken, not the request.
RETRYABLE_STATUS = frozenset({408, 425, 429})
# A status line's reason phrase is the most of a remote answer lastError ever shows.
REASON_CHARS = 100


class GuardedBackend(httpcore.SyncBackend):
    """Opens every connection to an address the outbound guard checked (the URL's host stays the Host
    header and the TLS server name), by the rules of `engine`'s settings."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            addresses = outbound.checked_addresses(self.engine, host, port)
        except OSError as error:  # the name does not resolve: maybe later
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # getaddrinfo answers at least one address or raises
        raise failure


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on a connection pool whose connections go through GuardedBackend."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        # httpx takes no network backend; its pool is the one place to plug one in.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), max_connections=100,
                                             max_keepalive_connections=20, keepalive_expiry=5.0,
                                             network_backend=GuardedBackend(engine))


# One pooled client per engine for every channel: building one per request (TLS context, CA bundle) costs
# ~50 ms. No proxies from the environment (a proxy would resolve the host, out of the guard's sight) and no
# redirects (a redirect could point anywhere).
_clients: WeakKeyDictionary[Engine, httpx.Client] = WeakKeyDictionary()


def _client(engine: Engine) -> httpx.Client:
    client = _clients.get(engine)
    if client is None:
        client = _clients.setdefault(
            engine, httpx.Client(transport=GuardedTransport(engine), follow_redirects=False, trust_env=False))
    return client


# Only for the app's own demo sink (outbound.is_own_sink): a literal loopback URL, nothing to resolve.
_own_sink_client = httpx.Client(follow_redirects=False, trust_env=False)


def post_json(engine: Engine, config: dict[str, Any], message: OutgoingMessage, body: dict[str, Any]) -> None:
    """POST `body` to the configured URL with the configured headers and the delivery's Idempotency-Key."""
    headers = {**config.get("headers", {}), "Idempotency-Key": message.idempotency_key}
    client = _own_sink_client if outbound.is_own_sink(engine, config["url"]) else _client(engine)
    try:
        response = client.post(config["url"], json=body, headers=headers,
                               timeout=float(config.get("timeoutSeconds", 10)))
    except outbound.BlockedDestination as error:
        raise SendError(str(error), permanent=True) from error
    except (httpx.ConnectError, httpx.TimeoutException) as error:
        raise SendError(f"{type(error).__name__}: {error}") from error
    except httpx.HTTPError as error:
        # Other transport errors may quote what the remote sent (a non-HTTP service's banner): name only.
        raise SendError(type(error).__name__) from error
    if response.is_success:
        return
    status_line = f"HTTP {response.status_code} {response.reason_phrase[:REASON_CHARS]}".strip()
    permanent = response.status_code < 500 and response.status_code not in RETRYABLE_STATUS
    raise SendError(status_line, permanent=permanent)
