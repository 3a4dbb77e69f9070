"""Refused writes on the agent pages go through one handler per blueprint: rolled back, answered with
the reason, and a write that loses a race at flush time gets the same "what changed" message as the
early version check."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from helpdesk.extensions import db
from helpdesk.tickets.models import Channel, Message, MessageKind, Priority, Ticket
from tests.factories import make_staff, make_ticket


def edit_form(ticket: Ticket, **changes) -> dict:
    return {
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "queue": "",
        "assignee": "",
        "tags": "",
        "version": ticket.version,
        **changes,
    }


def test_a_write_that_loses_the_race_at_flush_time_gets_the_what_changed_message(client, login):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    form = edit_form(ticket, priority="high")
    ticket_id = ticket.id

    raced = []

    def someone_else_commits_first(session, _context, _instances):
        """After our version check passed, just before our UPDATE: a colleague's change commits."""
        if raced or not any(isinstance(o, Ticket) for o in session.dirty):
            return
        raced.append(True)
        with Session(db.engine) as other:
            theirs = other.get(Ticket, ticket_id)
            theirs.priority = Priority.URGENT
            other.add(
                Message(
                    ticket=theirs,
                    kind=MessageKind.EVENT,
                    event="priority_changed",
                    body_text="normal → urgent",
                    channel=Channel.AGENT,
                )
            )
            other.commit()

    event.listen(Session, "before_flush", someone_else_commits_first)
    try:
        response = client.submit(f"/agent/tickets/{ticket.number}/edit", form)
    finally:
        event.remove(Session, "before_flush", someone_else_commits_first)
    assert raced and response.status_code == 409
    page = response.get_data(as_text=True)
    assert "عدّل شخص آخر التذكرة" in page  # the stale-write message, in the reader's language
    assert "عاجلة" in page or "urgent" in page.lower()  # and what the colleague changed
    db.session.expire_all()
    assert db.session.get(Ticket, ticket_id).priority == Priority.URGENT  # theirs kept, ours refused


def test_a_refused_reply_keeps_the_agents_draft(client, login):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    stale = ticket.version
    other = make_staff()
    from helpdesk.tickets import service

    service.assign(ticket, other, actor=other)
    db.session.commit()
    response = client.submit(
        f"/agent/tickets/{ticket.number}/reply",
        {"body": "My careful answer", "kind": "reply", "version": stale},
    )
    assert response.status_code == 409
    assert "My careful answer" in response.get_data(as_text=True)


def test_a_refused_status_change_goes_back_to_the_ticket_with_the_reason(client, login):
    from helpdesk.tickets.models import Status

    agent = make_staff()
    ticket = make_ticket(status=Status.CLOSED)
    login(agent)
    response = client.submit(
        f"/agent/tickets/{ticket.number}/status", {"status": "open", "version": ticket.version}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(ticket.number)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "لا يمكن" in page  # "A ticket cannot go from Closed to Open", in the reader's language
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == Status.CLOSED


def test_a_reply_refused_as_stale_can_be_sent_again_from_the_page_it_left(client, login):
    """The 409 page shows the colleague's change and carries the version it shows: sending the kept
    draft again (the form as it stands) goes through instead of being refused a second time."""
    import re

    from helpdesk.tickets import service

    agent, other = make_staff(), make_staff()
    ticket = make_ticket()
    login(agent)
    stale = ticket.version
    service.change_priority(ticket, Priority.HIGH, actor=other)
    db.session.commit()
    url, draft = f"/agent/tickets/{ticket.number}/reply", {"body": "My careful answer", "kind": "reply"}
    refused = client.submit(url, {**draft, "version": stale})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    form = re.search(r'<form[^>]*id="reply-form".*?</form>', page, re.S).group(0)
    carried = int(re.search(r'name="version"[^>]*value="(\d+)"', form).group(1))
    db.session.expire_all()
    assert carried == db.session.get(Ticket, ticket.id).version > stale
    again = client.submit(url, {**draft, "version": carried})
    assert again.status_code == 303
    db.session.expire_all()
    bodies = [m.body_text for m in db.session.get(Ticket, ticket.id).messages if m.kind == MessageKind.REPLY]
    assert bodies.count("My careful answer") == 1
