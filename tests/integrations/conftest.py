"""The connectors' settings pointed at a local peer (tests/integrations/peer.py)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from cryptography.fernet import Fernet

from tests.integrations.peer import Peer

SALLA_SECRET = "salla-webhook-secret"
ZID_SECRET = "zid-webhook-password"


@pytest.fixture
def peer():
    with Peer() as running:
        yield running


@pytest.fixture
def shops(app, peer):
    app.config.update(
        SHOP_TOKEN_KEY=Fernet.generate_key().decode(),
        SALLA_CLIENT_ID="salla-client",
        SALLA_CLIENT_SECRET="salla-client-secret",
        SALLA_WEBHOOK_SECRET=SALLA_SECRET,
        SALLA_OAUTH_URL=peer.url,
        SALLA_API_URL=f"{peer.url}/admin/v2",
        ZID_CLIENT_ID="zid-client",
        ZID_CLIENT_SECRET="zid-client-secret",
        ZID_WEBHOOK_SECRET=ZID_SECRET,
        ZID_OAUTH_URL=peer.url,
        ZID_API_URL=f"{peer.url}/v1",
    )
    return peer


def salla_post(client, payload: dict, *, secret: str | None = SALLA_SECRET, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Salla-Security-Strategy": "Signature"}
    if secret is not None:
        headers["X-Salla-Signature"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/integrations/salla/webhook", data=body, headers=headers)
