"""The tickets API: the queue views, opening, updating with optimistic versions, replies and notes."""

from __future__ import annotations

import pytest

from helpdesk.api.models import TokenScope
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Channel, MessageKind, Status, Ticket
from tests.api.api_helpers import ApiClient, api_token
from tests.factories import count_queries, make_customer, make_queue, make_staff, make_ticket


@pytest.fixture
def api(client):
    staff, secret = api_token()
    api = ApiClient(client, secret)
    api.staff = staff
    return api


def test_list_uses_the_agent_queue_views(api):
    mine = make_ticket(subject="assigned to me")
    service.assign(mine, api.staff, actor=api.staff)
    make_ticket(subject="nobody has it")
    make_ticket(subject="all done", status=Status.SOLVED)

    def subjects(query: str) -> set[str]:
        response = api.get(f"/api/v1/tickets{query}")
        assert response.status_code == 200, response.get_json()
        return {t["subject"] for t in response.get_json()["items"]}

    assert subjects("") == {"assigned to me", "nobody has it"}
    assert subjects("?view=unassigned") == {"nobody has it"}
    assert subjects("?view=mine") == {"assigned to me"}
    assert subjects("?view=solved") == {"all done"}
    assert subjects("?view=solved&status=open") == set()


def test_list_filters_by_queue_and_refuses_an_unknown_one(api):
    billing = make_queue("billing")
    make_ticket(subject="in billing", queue=billing)
    make_ticket(subject="elsewhere")
    body = api.get("/api/v1/tickets?queue=billing").get_json()
    assert [t["subject"] for t in body["items"]] == ["in billing"]
    response = api.get("/api/v1/tickets?queue=nope")
    assert response.status_code == 422
    assert "nope" in response.get_json()["errors"]["json"]["queue"][0]


def test_cursor_pagination_walks_every_ticket_once(api):
    customer = make_customer()
    numbers = {make_ticket(customer=customer, subject=f"case {i}").number for i in range(23)}
    seen: list[str] = []
    url = "/api/v1/tickets?limit=10"
    while url:
        body = api.get(url).get_json()
        seen += [t["number"] for t in body["items"]]
        url = f"/api/v1/tickets?limit=10&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert len(seen) == len(set(seen)) == 23 and set(seen) == numbers


@pytest.mark.parametrize("cursor", ["garbage", "2026-01-01T00:00:00_1", "12_x", "9" * 40 + "_1"])
def test_a_bad_cursor_is_a_clear_400(api, cursor):
    response = api.get(f"/api/v1/tickets?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.get_json()["message"]


def test_list_uses_a_fixed_number_of_queries(api):
    for _ in range(3):
        make_ticket(tags=["a", "b"])
    api.get("/api/v1/tickets")  # the token's first use is recorded once
    with count_queries() as few:
        assert api.get("/api/v1/tickets").status_code == 200
    for _ in range(30):
        make_ticket(customer=make_customer(), tags=["c"], queue=None)
    with count_queries() as many:
        assert len(api.get("/api/v1/tickets").get_json()["items"]) == 33
    assert len(many) == len(few) <= 6


def test_open_a_ticket_for_a_customer(api):
    customer = make_customer()
    make_queue("orders")
    response = api.post(
        "/api/v1/tickets",
        {
            "customer_id": customer.id,
            "subject": "لم يصل طلبي",
            "body": "Order 1234 is late.",
            "priority": "high",
            "queue": "orders",
            "tags": ["Late", "shipping"],
            "assignee_id": api.staff.id,
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["subject"] == "لم يصل طلبي" and body["channel"] == "api" and body["priority"] == "high"
    assert body["queue"]["slug"] == "orders" and body["assignee"]["id"] == api.staff.id
    assert body["tags"] == ["late", "shipping"] and body["status"] == "open"
    ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == body["number"]))
    assert ticket.messages[0].author_customer_id == customer.id
    assert ticket.first_response_due_at is not None or ticket.next_due_at is None  # the SLA service ran


def test_open_refuses_unknown_references_and_invalid_fields(api):
    response = api.post("/api/v1/tickets", {"customer_id": 999999, "subject": "x", "body": "y"})
    assert response.status_code == 422 and "customer_id" in response.get_json()["errors"]["json"]
    response = api.post("/api/v1/tickets", {"subject": "", "body": "y\x00", "colour": "red"})
    errors = response.get_json()["errors"]["json"]
    assert response.status_code == 422
    assert {"customer_id", "subject", "body", "colour"} <= set(errors)


def test_update_applies_every_change_in_one_version(api):
    ticket = make_ticket()
    version = ticket.version
    other = make_staff()
    response = api.patch(
        f"/api/v1/tickets/{ticket.number}",
        {
            "version": version,
            "status": "pending",
            "priority": "urgent",
            "assignee_id": other.id,
            "tags": ["vip"],
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["priority"], body["assignee"]["id"], body["tags"]) == (
        "pending",
        "urgent",
        other.id,
        ["vip"],
    )
    assert body["version"] > version


def test_a_stale_version_is_a_409_that_changes_nothing(api):
    ticket = make_ticket()
    version = ticket.version
    service.change_priority(ticket, ticket.priority.__class__("high"), actor=None)
    db.session.commit()
    response = api.patch(f"/api/v1/tickets/{ticket.number}", {"version": version, "status": "solved"})
    assert response.status_code == 409
    assert ticket.number in response.get_json()["message"]
    db.session.refresh(ticket)
    assert ticket.status == Status.NEW


def test_an_illegal_transition_is_a_409(api):
    ticket = make_ticket(status=Status.CLOSED)
    response = api.patch(f"/api/v1/tickets/{ticket.number}", {"version": ticket.version, "status": "open"})
    assert response.status_code == 409
    response = api.post(f"/api/v1/tickets/{ticket.number}/replies", {"body": "hello"})
    assert response.status_code == 409 and "closed" in response.get_json()["message"].lower()


def test_update_needs_something_to_change(api):
    ticket = make_ticket()
    response = api.patch(f"/api/v1/tickets/{ticket.number}", {"version": ticket.version})
    assert response.status_code == 422


def test_reply_and_note_go_through_the_service(api):
    ticket = make_ticket()
    reply = api.post(f"/api/v1/tickets/{ticket.number}/replies", {"body": "On its way."})
    assert reply.status_code == 201 and reply.get_json()["kind"] == "reply"
    note = api.post(f"/api/v1/tickets/{ticket.number}/notes", {"body": "Called the courier."})
    assert note.status_code == 201 and note.get_json()["kind"] == "note"
    db.session.refresh(ticket)
    assert ticket.first_response_at is not None and ticket.status == Status.OPEN
    thread = api.get(f"/api/v1/tickets/{ticket.number}/messages").get_json()
    assert [m["kind"] for m in thread] == ["reply", "reply", "note"]
    assert thread[1]["author_staff_id"] == api.staff.id and thread[1]["channel"] == Channel.API.value
    assert {m.kind for m in ticket.messages} >= {MessageKind.NOTE}


def test_unknown_ticket_is_a_json_404(api):
    for url in ("/api/v1/tickets/HD-999999", "/api/v1/tickets/not-a-number", "/api/v1/nothing-here"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.get_json()["code"] == 404, url


def test_a_read_token_cannot_write(client):
    _staff, secret = api_token(scope=TokenScope.READ)
    api = ApiClient(client, secret)
    ticket = make_ticket()
    assert api.get(f"/api/v1/tickets/{ticket.number}").status_code == 200
    response = api.post(f"/api/v1/tickets/{ticket.number}/notes", {"body": "x"})
    assert response.status_code == 403 and "read-only" in response.get_json()["message"]


def test_a_body_over_the_size_limit_is_a_413(app, api):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    ticket = make_ticket()
    response = api.post(f"/api/v1/tickets/{ticket.number}/notes", {"body": "x" * 5000})
    assert response.status_code == 413 and response.get_json()["code"] == 413
