"""The JSON POST shared by the webhook, sms and push channels."""

from __future__ import annotations

from typing import Any

import httpx

from engine.delivery.channels.base import OutgoingMessage, SendError

# Worth another try: the receiver was busy or broken, not the request.
RETRYABLE_STATUS = frozenset({408, 425, 429})

# One pooled client for every channel: building one per request (TLS context, CA bundle) costs ~50 ms.
_client = httpx.Client(follow_redirects=False)


def post_json(config: dict[str, Any], message: OutgoingMessage, body: dict[str, Any]) -> None:
    """POST `body` to the configured URL with the configured headers and the delivery's Idempotency-Key."""
    headers = {**config.get("headers", {}), "Idempotency-Key": message.idempotency_key}
    try:
        response = _client.post(config["url"], json=body, headers=headers,
                                timeout=float(config.get("timeoutSeconds", 10)))
    except httpx.HTTPError as error:
        raise SendError(f"{type(error).__name__}: {error}") from error
    if response.is_success:
        return
    detail = response.text[:200].strip()
    message_text = f"HTTP {response.status_code}" + (f": {detail}" if detail else "")
    permanent = response.status_code < 500 and response.status_code not in RETRYABLE_STATUS
    raise SendError(message_text, permanent=permanent)
