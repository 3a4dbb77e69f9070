"""The stream server's fan-out: one read of the log per wake for every open stream, each row encoded
once per kind of reader, each stream given only what its subscription may see (a customer: the
public events of the case they follow, never another customer's, never a note), and a deactivated
account's stream closed while open and refused on reconnect."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from helpdesk.admin import service as admin
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.live.feed import Audience
from helpdesk.live.models import LiveEvent
from helpdesk.live.server import Hub, Subscriber, start_in_thread
from helpdesk.tickets import assignment, replies, service
from helpdesk.tickets.models import MessageKind, Priority, Status
from helpdesk.transaction import unit_of_work
from tests.factories import make_customer, make_staff, make_ticket
from tests.live.conftest import free_port


def _cookie(client) -> str:
    return "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())


def _reply(ticket, agent, body="We are on it.", kind=MessageKind.REPLY) -> None:
    with unit_of_work():
        replies.send_reply(ticket, author=agent, body=body, kind=kind, expected_version=None)


def _row(event_id: int, ticket_id: int, customer_id: int, public: bool, kind="message.added") -> dict:
    return {
        "id": event_id,
        "kind": kind,
        "ticket_id": ticket_id,
        "number": f"HD-{ticket_id}",
        "queue_id": None,
        "customer_id": customer_id,
        "public": public,
        "data": {},
    }


def _ids(blob: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb"^id: (\d+)$", blob, re.M)]


def test_dispatch_gives_each_subscription_only_what_it_may_see(app):
    hub = Hub(app)
    everything = [Subscriber(Audience(staff=True), ends=0) for _ in range(3)]
    one_ticket = Subscriber(Audience(staff=True, ticket_id=1), ends=0)
    mine = Subscriber(Audience(staff=False, customer_id=10, ticket_id=1), ends=0)
    theirs = Subscriber(Audience(staff=False, customer_id=20, ticket_id=2), ends=0)
    for sub in [*everything, one_ticket, mine, theirs]:
        hub.add(sub)
        sub.start(0)
    hub.dispatch(
        [
            _row(1, ticket_id=1, customer_id=10, public=False),  # a note on the first customer's case
            _row(2, ticket_id=2, customer_id=20, public=True),  # a reply to the second customer
            _row(3, ticket_id=1, customer_id=10, public=True),  # a reply to the first customer
        ]
    )
    blobs = [sub.take() for sub in everything]
    assert _ids(blobs[0]) == [1, 2, 3]
    assert blobs[0] is blobs[1] is blobs[2]  # one encoding, one blob, shared by every queue stream
    assert _ids(one_ticket.take()) == [1, 3]
    customer = mine.take()
    assert _ids(customer) == [3]
    assert b'"data"' not in customer and b"HD-1" in customer
    assert _ids(theirs.take()) == [2]
    hub.dispatch([_row(3, ticket_id=1, customer_id=10, public=True)])  # read again (lookback)
    assert everything[0].take() == b""


def test_a_stream_holds_what_arrives_during_its_replay_and_sends_nothing_twice():
    sub = Subscriber(Audience(staff=True), ends=0)
    frames = [(5, b"id: 5\n\n"), (6, b"id: 6\n\n")]
    sub.push(b"".join(f for _i, f in frames), frames)  # while the replay (up to 5) is read
    assert sub.start(5) == b"id: 6\n\n"
    sub.push(b"id: 4\n\nid: 7\n\n", [(4, b"id: 4\n\n"), (7, b"id: 7\n\n")])  # a late, older row
    assert sub.take() == b"id: 7\n\n"


def test_a_slow_stream_is_dropped_rather_than_buffered_without_end():
    sub = Subscriber(Audience(staff=True), ends=0)
    sub.start(0)
    frame = b"x" * 4096
    for n in range(1, 400):
        sub.push(frame, [(n, frame)])
    assert sub.overflowed and sub.closed  # it reconnects with Last-Event-ID and replays


def test_one_read_of_the_log_serves_every_open_stream(app, client, login, live_server, open_stream):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    streams = [open_stream(live_server, _cookie(client))[1] for _ in range(20)]
    for stream in streams:
        assert stream.next_event()["kind"] == "hello"
    reads = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "FROM live_events" in statement and "max(" not in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with unit_of_work():
            service.change_priority(ticket, Priority.HIGH, actor=agent)
        for stream in streams:
            assert stream.events_until("ticket.changed", ticket.number)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert 1 <= len(reads) <= 3  # one per wake (a timer tick may add one), not one per stream


def test_a_customers_stream_never_carries_another_customers_events_nor_notes(
    app, client, login, live_server, open_stream
):
    first, second, agent = make_customer(), make_customer(), make_staff()
    mine, theirs = make_ticket(customer=first), make_ticket(customer=second)
    login(first)
    _response, stream = open_stream(live_server, _cookie(client), ticket=mine.number)
    hello = stream.next_event()
    _reply(theirs, agent, "For the second customer")
    with unit_of_work():
        service.change_status(theirs, Status.PENDING, actor=agent)
    _reply(mine, agent, "Internal: check the courier", kind=MessageKind.NOTE)
    with unit_of_work():
        assignment.claim(mine, agent, expected_version=None)  # assignee: staff only
    with unit_of_work():
        service.change_priority(mine, Priority.HIGH, actor=agent)  # priority: staff only
    _reply(mine, agent, "Your parcel ships today.")
    live = stream.events_until("message.added", mine.number)
    public = db.session.scalars(
        select(LiveEvent.id).where(
            LiveEvent.id > int(hello["id"]), LiveEvent.public, LiveEvent.ticket_id == mine.id
        )
    ).all()
    assert [int(e["id"]) for e in live] == public  # the public ones of this case: the reply, a status
    assert {e["number"] for e in live} == {mine.number}
    assert [e["kind"] for e in live].count("message.added") == 1  # the reply, not the note
    assert all(set(e) == {"id", "kind", "number"} for e in live)
    # The same after a reconnect: the replay from the log is filtered the same way.
    _response, again = open_stream(live_server, _cookie(client), ticket=mine.number, last_id=int(hello["id"]))
    replayed = again.events_until("message.added", mine.number)
    assert replayed == live


@pytest.fixture
def rechecking_live_server(app) -> str:
    """The stream server, checking its streams' accounts every half second (a minute by default)."""
    app.config["LIVE_RECHECK_SECONDS"] = 0.5
    port = free_port()
    assert start_in_thread(app, "127.0.0.1", port)
    return f"http://127.0.0.1:{port}"


def test_a_deactivated_agents_stream_is_closed_and_a_reconnect_refused(
    app, client, login, rechecking_live_server, open_stream
):
    admin_user, agent = make_staff(Role.ADMIN), make_staff()
    login(agent)
    cookie = _cookie(client)
    _response, stream = open_stream(rechecking_live_server, cookie)
    assert stream.next_event()["kind"] == "hello"
    with unit_of_work():
        admin.set_active(agent, False, actor=admin_user)
    with pytest.raises(AssertionError, match="the stream ended"):
        stream.next_event()  # keepalives aside, nothing more: the server ended it
    refused, _stream = open_stream(rechecking_live_server, cookie)
    assert refused.status_code == 401
