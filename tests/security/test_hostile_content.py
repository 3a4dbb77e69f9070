"""Hostile text through every input we have ends as inert text on every page that shows it."""

from __future__ import annotations

import io

import pytest

from helpdesk.tickets import service
from helpdesk.tickets.models import MessageKind, Ticket
from tests.factories import make_customer, make_staff, make_ticket
from tests.security.hostile import HOSTILE, executable_content


def assert_inert(page: str, where: str) -> None:
    problems = executable_content(page)
    assert not problems, f"{where}: {problems[:5]}"


def test_the_checker_finds_what_it_should():
    assert executable_content('<p onclick="x()">a</p>')
    assert executable_content('<a href=" javascript:alert(1)">a</a>')
    assert executable_content("<script>alert(1)</script>")
    assert executable_content('<iframe src="/x"></iframe>')
    assert not executable_content('<script src="/static/js/helpdesk.js" defer></script><p>&lt;script&gt;</p>')


@pytest.mark.parametrize("payload", HOSTILE)
def test_portal_case_with_hostile_text_is_shown_inert_to_customer_and_agent(client, login, payload):
    customer = make_customer(name=payload[:200])
    login(customer)
    response = client.submit(
        "/portal/cases/new",
        {
            "subject": payload[:200],
            "body": payload,
            "files": [(io.BytesIO(b"hello"), f"{payload[:80]}.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    ticket = Ticket.query.one()
    assert ticket.subject  # kept, never dropped
    reply = client.submit(f"/portal/cases/{ticket.number}/reply", {"body": payload})
    assert reply.status_code == 303
    for url in ("/portal/cases", f"/portal/cases/{ticket.number}"):
        assert_inert(client.get(url).get_data(as_text=True), url)

    agent = make_staff(name="Agent")
    service.add_message(ticket, author=agent, body=payload, kind=MessageKind.NOTE)
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    login(agent)
    for url in ("/agent", "/agent?view=unassigned", f"/agent/tickets/{ticket.number}"):
        page = client.get(url).get_data(as_text=True)
        assert_inert(page, url)


def test_hostile_text_is_kept_and_shown_as_text(client, login):
    payload = "<script>alert('x')</script> و <b>bold</b>"
    ticket = make_ticket(subject="Hostile", body=payload)
    login(ticket.customer)
    page = client.get(f"/portal/cases/{ticket.number}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; و &lt;b&gt;bold&lt;/b&gt;" in page
    assert ticket.messages[0].body_text == payload
