import re

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import MessageKind, Status, Ticket
from tests.factories import count_queries, make_customer, make_staff, make_ticket


def test_views_show_counts_and_the_right_tickets(client, login):
    agent = make_staff()
    mine = make_ticket(subject="assigned to me")
    service.assign(mine, agent, actor=agent)
    make_ticket(subject="nobody has it")
    make_ticket(subject="all done", status=Status.SOLVED)
    login(agent)
    unassigned = client.get("/agent?view=unassigned").get_data(as_text=True)
    assert "nobody has it" in unassigned and "assigned to me" not in unassigned
    mine_page = client.get("/agent?view=mine").get_data(as_text=True)
    assert "assigned to me" in mine_page and "nobody has it" not in mine_page
    solved = client.get("/agent?view=solved").get_data(as_text=True)
    assert "all done" in solved
    counts = dict(re.findall(r'view=(\w+)"[^>]*>\s*[^<]+<span class="count">(\d+)</span>', unassigned))
    assert counts == {
        "unassigned": "1",
        "mine": "1",
        "open": "2",
        "pending": "0",
        "on_hold": "0",
        "breaching": "0",
        "overdue": "0",
        "solved": "1",
    }


def test_unknown_view_is_404(client, login_as):
    login_as("agent")
    response = client.get("/agent?view=nope")
    assert response.status_code == 404
    # Staff are sent back to their queue, not to the customers' help centre.
    assert _error_page_links(response) == ["/agent"]


def test_a_visitors_404_leads_to_the_help_centre(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert _error_page_links(response) == ["/"]


def _error_page_links(response) -> list[str]:
    section = response.get_data(as_text=True).split('class="card error-page"', 1)[1].split("</section>")[0]
    return re.findall(r'href="([^"]*)"', section)


def test_bad_cursor_is_a_clear_400(client, login_as):
    login_as("agent")
    response = client.get("/agent?after=garbage")
    assert response.status_code == 400
    assert "مؤشر الصفحة غير صالح" in response.get_data(as_text=True)


def test_keyset_pagination_walks_every_ticket_once(client, login):
    customer = make_customer()
    numbers = {make_ticket(customer=customer, subject=f"case {i}").number for i in range(120)}
    login(make_staff())
    seen: list[str] = []
    url = "/agent?view=open"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r'/agent/tickets/(HD-\d+)" dir="ltr"', page)
        nxt = re.search(r'href="(/agent\?view=open&amp;after=[^"]+)"', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert len(seen) == len(set(seen)) == 120
    assert set(seen) == numbers


def test_queue_page_query_count_does_not_grow_with_rows(client, login):
    agent = make_staff()
    login(agent)
    for _ in range(3):
        make_ticket()
    with count_queries() as few:
        assert client.get("/agent").status_code == 200
    for _ in range(40):
        make_ticket(customer=make_customer())
    with count_queries() as many:
        assert client.get("/agent").status_code == 200
    # + the agent's queues (whom a view can be shared with) and the saved views they see
    assert len(many) == len(few) <= 11


def test_ticket_page_query_count_does_not_grow_with_messages(client, login):
    agent = make_staff()
    login(agent)
    ticket = make_ticket()
    client.get(f"/agent/tickets/{ticket.number}")  # the first visit inserts the presence row
    with count_queries() as few:
        client.get(f"/agent/tickets/{ticket.number}")
    for i in range(30):
        service.add_message(ticket, author=agent if i % 2 else ticket.customer, body=f"m{i}")
    db.session.commit()
    with count_queries() as many:
        assert client.get(f"/agent/tickets/{ticket.number}").status_code == 200
    assert len(many) == len(few) <= 22  # as tests/agents/test_ticket_page.py, without a customer history


def test_agent_replies_and_notes_from_the_ticket_page(client, login):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    r = client.submit(
        f"/agent/tickets/{ticket.number}/reply",
        {"body": "On its way", "kind": "reply", "version": ticket.version},
    )
    assert r.status_code == 303
    db.session.refresh(ticket)
    r = client.submit(
        f"/agent/tickets/{ticket.number}/reply",
        {"body": "courier called", "kind": "note", "version": ticket.version},
    )
    assert r.status_code == 303
    db.session.refresh(ticket)
    kinds = [(m.kind, m.body_text) for m in ticket.messages if m.kind != MessageKind.EVENT]
    assert kinds[-2:] == [(MessageKind.REPLY, "On its way"), (MessageKind.NOTE, "courier called")]
    assert ticket.first_response_at is not None
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "message-note" in page and "courier called" in page


def test_stale_reply_is_refused_with_an_explanation(client, login):
    agent, other = make_staff(), make_staff()
    ticket = make_ticket()
    login(agent)
    stale_version = ticket.version
    service.assign(ticket, other, actor=other)
    r = client.submit(
        f"/agent/tickets/{ticket.number}/reply", {"body": "late", "kind": "reply", "version": stale_version}
    )
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert ticket.number in page and "عدّل شخص آخر التذكرة" in page
    assert "late" not in [m.body_text for m in db.session.get(Ticket, ticket.id).messages]


def test_claim_and_status_change(client, login):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    client.submit(f"/agent/tickets/{ticket.number}/claim", {"version": ticket.version})
    db.session.refresh(ticket)
    assert ticket.assignee_id == agent.id
    client.submit(f"/agent/tickets/{ticket.number}/status", {"status": "solved", "version": ticket.version})
    db.session.refresh(ticket)
    assert ticket.status == Status.SOLVED


def test_illegal_status_change_shows_a_message(client, login):
    ticket = make_ticket(status=Status.CLOSED)
    login(make_staff(Role.SUPERVISOR))
    r = client.submit(
        f"/agent/tickets/{ticket.number}/status",
        {"status": "open", "version": ticket.version},
        follow_redirects=True,
    )
    assert "لا يمكن تغيير حالة التذكرة" in r.get_data(as_text=True)
    assert ticket.status == Status.CLOSED


def test_missing_ticket_is_404(client, login_as):
    login_as("agent")
    assert client.get("/agent/tickets/HD-999999").status_code == 404
