"""Fixtures the engine's channel tests share."""

from __future__ import annotations

import ssl
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.delivery.channels import email as email_channel
from tests.delivery_kit import self_signed_tls


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server TLS context; the email channel is made to trust its self-signed certificate."""
    server, client = self_signed_tls(tmp_path)
    monkeypatch.setattr(email_channel, "ssl", SimpleNamespace(create_default_context=lambda: client))
    return server
