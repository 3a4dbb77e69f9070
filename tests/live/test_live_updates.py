"""Live updates: logged only at commit, checked per subscription, replayed after a reconnect, and
delivered by a real stream server (a thread of this process, or another process woken by PostgreSQL
NOTIFY / by reading the SQLite log)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.live.models import LiveEvent
from helpdesk.tickets import assignment, replies, service
from helpdesk.tickets.models import MessageKind, Status
from helpdesk.transaction import unit_of_work
from tests.factories import make_customer, make_staff, make_ticket


def _log_size() -> int:
    return db.session.scalar(select(func.count()).select_from(LiveEvent))


def _cookie(client) -> str:
    """The signed-in session, for the stream (the same user agent: see conftest.USER_AGENT)."""
    return "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())


def _reply(ticket, agent, body="We are on it.", kind=MessageKind.REPLY):
    with unit_of_work():
        replies.send_reply(ticket, author=agent, body=body, kind=kind, expected_version=None)


def test_a_committed_change_is_logged_and_a_rolled_back_one_is_not(app):
    agent, ticket = make_staff(), make_ticket()
    before = _log_size()
    with pytest.raises(RuntimeError), unit_of_work():
        service.change_status(ticket, Status.PENDING, actor=agent)
        raise RuntimeError("changed my mind")
    assert _log_size() == before
    _reply(ticket, agent)
    row = db.session.scalars(select(LiveEvent).order_by(LiveEvent.id.desc())).first()
    assert (row.kind, row.ticket_number, row.public) == ("message.added", ticket.number, True)


def test_an_internal_note_is_logged_for_staff_only(app):
    agent, ticket = make_staff(), make_ticket()
    _reply(ticket, agent, "Refund approved?", kind=MessageKind.NOTE)
    row = db.session.scalars(select(LiveEvent).order_by(LiveEvent.id.desc())).first()
    assert (row.kind, row.data["message_kind"], row.public) == ("message.added", "note", False)


def test_agent_poll_sees_every_queue_change_after_the_given_id(app, client, login):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    start = client.get("/live/agent/poll").get_json()["last_id"]
    with unit_of_work():
        assignment.claim(ticket, agent, expected_version=None)
    body = client.get(f"/live/agent/poll?after={start}").get_json()
    assert [(e["kind"], e["number"]) for e in body["events"]] == [("ticket.changed", ticket.number)]
    assert body["events"][0]["data"]["fields"] == ["assignee", "status"] or "assignee" in str(body)
    assert client.get("/live/agent/poll?after=abc").status_code == 400


def test_customer_poll_gets_public_replies_on_own_case_but_no_notes(app, client, login):
    customer, agent = make_customer(), make_staff()
    ticket = make_ticket(customer=customer)
    login(customer)
    start = client.get(f"/live/cases/{ticket.number}/poll").get_json()["last_id"]
    _reply(ticket, agent, "Internal: VIP", kind=MessageKind.NOTE)
    _reply(ticket, agent, "Your parcel ships today.")
    events = client.get(f"/live/cases/{ticket.number}/poll?after={start}").get_json()["events"]
    assert [e["kind"] for e in events] == ["message.added"]
    assert set(events[0]) == {"id", "kind", "number"}  # nothing else about the ticket


def test_subscriptions_are_refused_to_the_wrong_people(app, client, login):
    owner, other = make_customer(), make_customer()
    ticket = make_ticket(customer=owner)
    assert client.get("/live/agent/poll").status_code == 302  # signed out: to the sign-in page
    login(other)
    assert client.get(f"/live/cases/{ticket.number}/poll").status_code == 404
    assert client.get("/live/agent/poll").status_code == 403


def test_stream_pushes_to_an_agent_and_replays_after_a_reconnect(
    app, client, login, live_server, open_stream
):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    response, stream = open_stream(live_server, _cookie(client))
    assert response.headers["content-type"].startswith("text/event-stream")
    hello = stream.next_event()
    assert hello["kind"] == "hello"
    _reply(ticket, agent)
    pushed = stream.events_until("message.added", ticket.number)[-1]
    # Asleep: two changes happen; the reconnect with Last-Event-ID gets both, in order.
    with unit_of_work():
        service.change_status(ticket, Status.PENDING, actor=agent)
    _reply(ticket, agent, "Anything else?", kind=MessageKind.NOTE)
    _response, again = open_stream(live_server, _cookie(client), last_id=int(pushed["id"]))
    replayed = [again.next_event(), again.next_event()]
    assert [e["kind"] for e in replayed] == ["ticket.changed", "message.added"]
    assert int(replayed[0]["id"]) > int(pushed["id"])


def test_stream_for_a_customer_carries_only_their_cases_public_events(
    app, client, login, live_server, open_stream
):
    customer, agent = make_customer(), make_staff()
    mine, theirs = make_ticket(customer=customer), make_ticket()
    login(customer)
    refused, _stream = open_stream(live_server, _cookie(client), ticket=theirs.number)
    assert refused.status_code == 404
    queue, _stream = open_stream(live_server, _cookie(client))
    assert queue.status_code == 403
    _response, stream = open_stream(live_server, _cookie(client), ticket=mine.number)
    assert stream.next_event()["kind"] == "hello"
    _reply(theirs, agent, "not for you")
    _reply(mine, agent, "note", kind=MessageKind.NOTE)
    _reply(mine, agent, "Shipped.")
    event = stream.next_event()
    assert (event["kind"], event["number"]) == ("message.added", mine.number)
    assert "data" not in event


def test_stream_refuses_the_signed_out_and_foreign_origins(app, live_server, open_stream):
    signed_out, _stream = open_stream(live_server, "")
    assert signed_out.status_code == 401
    import httpx

    foreign = httpx.get(f"{live_server}/live/stream", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_another_process_pushes_what_this_one_commits(app, client, login, live_process, open_stream):
    """Two processes: the stream server (`helpdesk live`) and this one, which commits. On PostgreSQL
    the NOTIFY sent at commit wakes the other process; on SQLite it reads the log every second."""
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    response, stream = open_stream(live_process, _cookie(client), ticket=ticket.number)
    assert response.status_code == 200, response.read()
    assert stream.next_event()["kind"] == "hello"
    with unit_of_work():
        assignment.claim(ticket, agent, expected_version=None)
    event = stream.next_event()
    assert (event["kind"], event["number"]) == ("ticket.changed", ticket.number)


def test_a_colleagues_case_is_followed_only_where_the_portal_shows_it(app, client, login):
    """The subscription follows the portal's rule: a company's colleague's case only when the
    company lets this customer see colleagues' cases."""
    from helpdesk.companies import service as companies
    from helpdesk.customers.models import Tier

    admin_user = make_staff(Role.ADMIN)
    company = companies.save_company(
        None, actor=admin_user, name="Al Noor", domain="alnoor.sa", tier=Tier.GOLD
    )
    huda, fahad = make_customer(email="huda@alnoor.sa"), make_customer(email="fahad@alnoor.sa")
    colleague_case = make_ticket(customer=fahad)
    db.session.commit()
    login(huda)
    assert client.get(f"/live/cases/{colleague_case.number}/poll").status_code == 404
    companies.set_member(company, huda, actor=admin_user, sees_company_cases=True)
    db.session.commit()
    start = client.get(f"/live/cases/{colleague_case.number}/poll").get_json()["last_id"]
    _reply(colleague_case, make_staff(), "Your pallet is on its way.")
    events = client.get(f"/live/cases/{colleague_case.number}/poll?after={start}").get_json()["events"]
    assert [(e["kind"], e["number"]) for e in events] == [("message.added", colleague_case.number)]
