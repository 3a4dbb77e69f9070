"""The WhatsApp channel outside its own pages (issue 25, item 5): the agents' queue filter, the REST
API (representation, filter, OpenAPI) and outbound webhook payloads name it."""

from __future__ import annotations

import time

from sqlalchemy import select

from helpdesk.api.models import WebhookDelivery, WebhookEndpoint
from helpdesk.extensions import db
from helpdesk.tickets.models import Channel, Ticket
from helpdesk.whatsapp import inbound
from tests.api.api_helpers import ApiClient, api_token
from tests.factories import make_staff, make_ticket
from tests.whatsapp import payloads
from tests.whatsapp.conftest import post

NOW = int(time.time())


def _whatsapp_ticket(client) -> Ticket:
    post(client, payloads.text("وين طلبي؟", wamid="wamid.E1", ts=NOW - 60))
    assert inbound.process_due() == 1
    db.session.expire_all()
    return db.session.scalar(select(Ticket).where(Ticket.channel == Channel.WHATSAPP))


def test_the_queue_filters_by_the_whatsapp_channel(app, client, login, account):
    whatsapp = _whatsapp_ticket(client)
    email = make_ticket(channel=Channel.EMAIL, queue=whatsapp.queue)
    login(make_staff(language="en"))
    page = client.get("/agent", query_string={"view": "open", "channel": "whatsapp"}).get_data(as_text=True)
    assert whatsapp.number in page and email.number not in page
    assert '<option value="whatsapp" selected>WhatsApp</option>' in page


def test_the_api_shows_and_filters_the_channel_and_documents_it(app, client, account):
    whatsapp = _whatsapp_ticket(client)
    email = make_ticket(channel=Channel.EMAIL)
    _staff, secret = api_token()
    api = ApiClient(client, secret)
    one = api.get(f"/api/v1/tickets/{whatsapp.number}").get_json()
    assert one["channel"] == "whatsapp" and one["customer"]["id"] == whatsapp.customer_id
    listed = api.get("/api/v1/tickets", query_string={"channel": "whatsapp"}).get_json()["items"]
    assert [t["number"] for t in listed] == [whatsapp.number]
    emailed = api.get("/api/v1/tickets", query_string={"channel": "email"}).get_json()["items"]
    assert [t["number"] for t in emailed] == [email.number]
    assert api.get("/api/v1/tickets", query_string={"channel": "pigeon"}).status_code == 422
    document = client.get("/api/v1/openapi.json").get_json()
    ticket_schema = document["components"]["schemas"]["Ticket"]
    assert "whatsapp" in ticket_schema["properties"]["channel"]["enum"]
    parameters = document["paths"]["/api/v1/tickets"]["get"]["parameters"]
    channel = next(p for p in parameters if p["name"] == "channel")
    assert "whatsapp" in channel["schema"]["enum"]


def test_outbound_webhooks_carry_the_whatsapp_channel(app, client, account):
    db.session.add(
        WebhookEndpoint(
            url="https://hooks.example.test/in", secret="s", events=["ticket.created", "message.created"]
        )
    )
    db.session.commit()
    whatsapp = _whatsapp_ticket(client)
    post(client, payloads.text("ومتى يوصل؟", wamid="wamid.E2", ts=NOW - 30))
    assert inbound.process_due() == 1
    deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [d.event for d in deliveries] == ["ticket.created", "message.created"]
    for delivery in deliveries:
        assert delivery.payload["data"]["ticket"]["number"] == whatsapp.number
        assert delivery.payload["data"]["ticket"]["channel"] == "whatsapp"
    assert deliveries[1].payload["data"]["message"]["channel"] == "whatsapp"
