"""Outbound webhooks: events from the services become deliveries in the same transaction; the worker
posts them signed, retries with backoff, and survives a receiver that is down and comes back."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from helpdesk.api import webhooks
from helpdesk.api.endpoints import save_endpoint
from helpdesk.api.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from helpdesk.auth.models import Role
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.sla.breaches import check_breaches
from helpdesk.tickets import service
from helpdesk.tickets.models import MessageKind, Priority, Status
from helpdesk.worker.runner import registered_jobs, run_once
from tests.api.webhook_receiver import Receiver
from tests.factories import (
    count_queries,
    make_customer,
    make_default_sla,
    make_queue,
    make_staff,
    make_ticket,
)

ALL_EVENTS = list(webhooks.EVENTS)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def endpoint_for(url: str, events=ALL_EVENTS) -> WebhookEndpoint:
    return save_endpoint(None, actor=None, url=url, description=None, events=events, is_active=True)


def deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def make_due_now() -> None:
    """Time passes: every waiting retry is due."""
    db.session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_ticket_services_emit_each_event_once_per_transaction(app):
    endpoint_for("http://127.0.0.1:9/hook")
    agent = make_staff()
    ticket = make_ticket()
    service.add_message(ticket, author=agent, body="On it")
    # Three changes in one transaction: one ticket.updated listing all of them.
    service.assign(ticket, agent, actor=agent)
    service.change_priority(ticket, Priority.HIGH, actor=agent)
    service.change_status(ticket, Status.PENDING, actor=agent)
    db.session.commit()
    events = [d.event for d in deliveries()]
    assert events == ["ticket.created", "message.created", "ticket.updated"]
    updated = deliveries()[-1].payload
    assert updated["data"]["changes"] == {
        "assignee_id": {"from": None, "to": agent.id},
        "priority": {"from": "normal", "to": "high"},
        "status": {"from": "open", "to": "pending"},
    }
    assert updated["data"]["ticket"]["status"] == "pending"  # the committed state
    created = deliveries()[0].payload["data"]
    assert created["ticket"]["number"] == ticket.number and created["message"]["kind"] == "reply"


def test_a_ticket_opened_and_changed_in_one_transaction_is_one_ticket_created(app):
    endpoint_for("http://127.0.0.1:9/hook")
    agent = make_staff()
    ticket = service.open_ticket(customer=make_customer(), subject="s", body="b")
    service.assign(ticket, agent, actor=agent)
    db.session.commit()
    [delivery] = deliveries()
    assert delivery.event == "ticket.created"
    assert delivery.payload["data"]["ticket"]["assignee"]["id"] == agent.id


def test_a_rolled_back_change_sends_nothing_and_unsubscribed_events_are_skipped(app):
    endpoint_for("http://127.0.0.1:9/hook", events=["message.created"])
    ticket = make_ticket()  # ticket.created: not subscribed
    service.add_message(ticket, author=make_staff(), body="draft", kind=MessageKind.NOTE)
    db.session.rollback()
    assert deliveries() == []
    service.add_message(ticket, author=make_staff(), body="kept", kind=MessageKind.NOTE)
    db.session.commit()
    assert [d.event for d in deliveries()] == ["message.created"]


def test_a_rolled_back_savepoint_forgets_only_its_own_events(app):
    """E.g. a lost race to create a customer rolls back a savepoint inside a bigger change."""
    endpoint_for("http://127.0.0.1:9/hook", events=["message.created"])
    ticket = make_ticket()
    agent = make_staff()
    service.add_message(ticket, author=agent, body="before", kind=MessageKind.NOTE)
    savepoint = db.session.begin_nested()
    service.add_message(ticket, author=agent, body="inside", kind=MessageKind.NOTE)
    savepoint.rollback()
    with db.session.begin_nested():  # a savepoint that is released keeps its events
        service.add_message(ticket, author=agent, body="kept", kind=MessageKind.NOTE)
    db.session.commit()
    bodies = [d.payload["data"]["message"]["body_text"] for d in deliveries()]
    assert bodies == ["before", "kept"]


def test_delivery_is_signed_with_hmac_sha256(app, receiver):
    endpoint = endpoint_for(receiver.url)
    ticket = make_ticket()
    assert webhooks.deliver_due() == {"delivered": 1, "failed": 0}
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        endpoint.secret.encode(), headers["X-Helpdesk-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Helpdesk-Signature"], f"sha256={expected}")
    assert headers["X-Helpdesk-Event"] == "ticket.created"
    payload = json.loads(body)
    assert payload["event"] == "ticket.created" and payload["data"]["ticket"]["number"] == ticket.number
    [delivery] = deliveries()
    assert (delivery.status, delivery.last_status_code, delivery.attempts) == (
        DeliveryStatus.DELIVERED,
        200,
        1,
    )
    assert headers["X-Helpdesk-Delivery"] == delivery.uuid


def test_a_receiver_that_is_down_and_comes_back_gets_each_event_exactly_once(app, receiver):
    endpoint_for(receiver.url)
    port = receiver.port
    receiver.stop()  # the receiver goes down
    first, second = make_ticket(subject="one"), make_ticket(subject="two")
    assert webhooks.deliver_due() == {"delivered": 0, "failed": 2}
    waiting = deliveries()
    assert all(d.status == DeliveryStatus.QUEUED and d.last_status_code is None for d in waiting)
    assert all(d.next_attempt_at > utcnow() for d in waiting)  # backoff: not retried straight away
    assert webhooks.deliver_due() == {"delivered": 0, "failed": 0}
    make_due_now()
    assert webhooks.deliver_due() == {"delivered": 0, "failed": 2}  # still down

    back = Receiver(port=port).start()  # the receiver comes back on the same address
    try:
        make_due_now()
        assert webhooks.deliver_due() == {"delivered": 2, "failed": 0}
        make_due_now()
        assert webhooks.deliver_due() == {"delivered": 0, "failed": 0}  # nothing is sent twice
        numbers = sorted(json.loads(r["body"])["data"]["ticket"]["number"] for r in back.requests)
        assert numbers == sorted([first.number, second.number])
        done = deliveries()
        assert all(d.status == DeliveryStatus.DELIVERED and d.attempts == 3 for d in done)
        assert [a.status_code for a in done[0].attempt_log] == [None, None, 200]
    finally:
        back.stop()


def test_an_error_status_is_retried_with_growing_delays_then_given_up(app, receiver):
    receiver.answers = [500] * 20
    endpoint_for(receiver.url)
    make_ticket()
    delays = [webhooks.retry_delay(n) for n in range(1, 6)]
    assert delays == sorted(delays) and delays[1] == 2 * delays[0]
    for _ in range(webhooks.MAX_ATTEMPTS):
        make_due_now()
        webhooks.deliver_due()
    [delivery] = deliveries()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert delivery.last_status_code == 500 and "HTTP 500" in delivery.last_error
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_a_claimed_delivery_cannot_be_claimed_by_a_second_worker(app):
    from helpdesk.worker import jobtable

    endpoint_for("http://127.0.0.1:9/hook")
    make_ticket()
    [delivery] = deliveries()
    claims = [
        jobtable.claim(WebhookDelivery, delivery.id, 0, DeliveryStatus.QUEUED, lease=webhooks.CLAIM_LEASE)
        for _ in range(2)
    ]
    assert claims == [True, False]


def test_sla_breach_emits_sla_breached(app):
    riyadh = ZoneInfo("Asia/Riyadh")
    make_default_sla()
    endpoint_for("http://127.0.0.1:9/hook", events=["sla.breached"])
    opened = datetime(2026, 11, 22, 9, 0, tzinfo=riyadh).astimezone(UTC)
    ticket = service.open_ticket(customer=make_customer(), subject="Kettle", body="Leaks", created_at=opened)
    check_breaches(datetime(2026, 11, 22, 11, 0, tzinfo=riyadh).astimezone(UTC))
    [delivery] = deliveries()
    assert delivery.event == "sla.breached"
    assert delivery.payload["data"]["ticket"]["number"] == ticket.number
    assert delivery.payload["data"]["breach"]["metric"] == "first_response"


def test_the_worker_loop_delivers_webhooks(app, receiver):
    assert "api.deliver_webhooks" in {job.name for job in registered_jobs()}
    endpoint_for(receiver.url)
    make_ticket()
    assert run_once(app)["api.deliver_webhooks"] == {"delivered": 1, "failed": 0}
    assert len(receiver.requests) == 1


def test_admin_configures_a_webhook_and_reads_the_delivery_log(client, login, receiver):
    login(make_staff(Role.ADMIN))
    response = client.submit(
        "/admin/webhooks/new",
        {
            "url": receiver.url,
            "description": "Shop",
            "events": ["ticket.created", "ticket.updated"],
            "is_active": "y",
        },
    )
    assert response.status_code == 303
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.events == ["ticket.created", "ticket.updated"] and endpoint.secret.startswith("whsec_")
    assert receiver.url in client.get("/admin/webhooks").get_data(as_text=True)
    edit_page = client.get(f"/admin/webhooks/{endpoint.id}")
    assert edit_page.status_code == 200 and endpoint.secret in edit_page.get_data(as_text=True)
    old_secret = endpoint.secret
    assert client.submit(f"/admin/webhooks/{endpoint.id}/secret").status_code == 303
    db.session.refresh(endpoint)
    assert endpoint.secret != old_secret
    receiver.answers = [503]
    make_ticket()
    webhooks.deliver_due()
    make_due_now()
    webhooks.deliver_due()
    page = client.get("/admin/webhooks/deliveries").get_data(as_text=True)
    assert re.search(r">503</span> · <span[^>]*>200<", page), page[-3000:]
    assert "ticket.created" in page
    filtered = client.get(f"/admin/webhooks/deliveries?webhook={endpoint.id}&status=delivered")
    assert filtered.status_code == 200 and "ticket.created" in filtered.get_data(as_text=True)


@pytest.mark.parametrize("url", ["ftp://example.test/x", "not a url", "javascript:alert(1)"])
def test_webhook_form_refuses_non_http_urls(client, login, url):
    login(make_staff(Role.ADMIN))
    response = client.submit("/admin/webhooks/new", {"url": url, "events": ["ticket.created"]})
    assert response.status_code == 400
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_failed_delivery_can_be_sent_again_by_an_admin(client, login):
    endpoint_for("http://127.0.0.1:9/hook")
    make_ticket()
    db.session.execute(update(WebhookDelivery).values(status=DeliveryStatus.FAILED, attempts=12))
    db.session.commit()
    login(make_staff(Role.ADMIN))
    [delivery] = deliveries()
    assert client.submit(f"/admin/webhooks/deliveries/{delivery.id}/retry").status_code == 303
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 0


def test_a_receiver_that_never_answered_shows_as_no_answer(client, login):
    endpoint_for("http://127.0.0.1:9/hook")
    make_ticket()
    webhooks.deliver_due()
    login(make_staff(Role.ADMIN, language="en"))
    page = client.get("/admin/webhooks/deliveries").get_data(as_text=True)
    assert "no answer" in page and "ConnectError" in page


def test_webhook_pages_use_a_fixed_number_of_queries(client, login):
    login(make_staff(Role.ADMIN))
    endpoint = endpoint_for("http://127.0.0.1:9/hook")
    with count_queries() as few:
        assert client.get("/admin/webhooks").status_code == 200
    for i in range(5):
        endpoint_for(f"http://127.0.0.1:9/hook{i}")
    with count_queries() as many:
        assert client.get("/admin/webhooks").status_code == 200
    assert len(many) == len(few) <= 4
    with count_queries() as edit:
        assert client.get(f"/admin/webhooks/{endpoint.id}").status_code == 200
    assert len(edit) <= 4
    with count_queries() as new:
        assert client.get("/admin/webhooks/new").status_code == 200
    assert len(new) <= 2


def test_delivery_log_uses_a_fixed_number_of_queries(client, login):
    login(make_staff(Role.ADMIN))
    endpoint_for("http://127.0.0.1:9/hook")
    make_ticket()
    webhooks.deliver_due()
    with count_queries() as few:
        assert client.get("/admin/webhooks/deliveries").status_code == 200
    for _ in range(10):
        make_ticket(customer=make_customer(), queue=make_queue(f"q{_}"))
    webhooks.deliver_due()
    with count_queries() as many:
        assert client.get("/admin/webhooks/deliveries").status_code == 200
    assert len(many) == len(few) <= 6
