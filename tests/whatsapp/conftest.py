"""A queue connected to WhatsApp, pointed at the local Cloud API (tests/whatsapp/peer.py)."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.transaction import unit_of_work
from helpdesk.whatsapp.accounts import Settings, connect
from tests.factories import make_queue
from tests.whatsapp import payloads
from tests.whatsapp.peer import CloudPeer


@pytest.fixture
def cloud():
    with CloudPeer() as running:
        yield running


@pytest.fixture
def account(app, cloud, monkeypatch):
    monkeypatch.setenv("WA_TOKEN", payloads.ACCESS_TOKEN)
    monkeypatch.setenv("WA_APP_SECRET", payloads.APP_SECRET)
    monkeypatch.setenv("WA_VERIFY", payloads.VERIFY_TOKEN)
    queue = make_queue(slug="whatsapp-sales")
    with unit_of_work():
        connected = connect(
            queue,
            Settings(
                phone_number_id=payloads.PHONE_NUMBER_ID,
                token_env="WA_TOKEN",
                app_secret_env="WA_APP_SECRET",
                verify_token_env="WA_VERIFY",
                graph_url=cloud.url,
                template_name="case_update",
            ),
        )
    db.session.expire_all()
    return connected


def post(client, payload: dict, *, secret: str = payloads.APP_SECRET):
    body, headers = payloads.signed(payload, secret)
    return client.post("/channels/whatsapp/webhook", data=body, headers=headers)
