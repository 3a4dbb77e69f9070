import re
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.extensions import db
from helpdesk.sla.models import BusinessCalendar, SlaPolicy, WorkingInterval
from helpdesk.tickets import service
from helpdesk.tickets.models import Channel, Priority, Status, Ticket
from tests.factories import count_queries, make_customer, make_queue, make_staff, make_ticket

ROW = re.compile(r'/agent/tickets/(HD-\d+)" dir="ltr"')


def numbers(page: str) -> list[str]:
    return ROW.findall(page)


def walk(client, url: str) -> list[str]:
    seen: list[str] = []
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += numbers(page)
        nxt = re.search(r'href="(/agent\?[^"]*after=[^"]+)"', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    return seen


def always_open_policy(queue=None, first_response: int = 120) -> SlaPolicy:
    calendar = BusinessCalendar(
        name=f"Around the clock {queue.slug if queue else ''}",
        timezone="UTC",
        intervals=[WorkingInterval(weekday=d, start_minute=0, end_minute=1440) for d in range(7)],
    )
    policy = SlaPolicy(
        name=f"policy {queue.slug if queue else 'all'}",
        calendar=calendar,
        match_queue=queue,
        position=0 if queue else 10,
        first_response_minutes=first_response,
    )
    db.session.add(policy)
    db.session.commit()
    return policy


def test_every_view_and_queue_has_its_count(client, login):
    agent = make_staff()
    orders = make_queue("orders")
    make_ticket(queue=orders)
    make_ticket(queue=orders, status=Status.PENDING)
    make_ticket(status=Status.ON_HOLD)
    old = make_ticket(status=Status.SOLVED)
    old.solved_at = datetime.now(UTC) - timedelta(days=30)
    db.session.commit()
    login(agent)
    page = client.get("/agent").get_data(as_text=True)
    counts = dict(re.findall(r'view=([\w-]+)"[^>]*>\s*[^<]+<span class="count">(\d+)</span>', page))
    assert counts["pending"] == "1" and counts["on_hold"] == "1"
    assert counts["open"] == "3"
    assert counts[f"queue-{orders.id}"] == "2"
    assert counts["solved"] == "0"  # solved a month ago is not "recently solved"
    queue_page = client.get(f"/agent?view=queue-{orders.id}").get_data(as_text=True)
    assert len(numbers(queue_page)) == 2


def test_filters_narrow_the_view(client, login):
    agent = make_staff()
    other = make_staff()
    rich = make_customer(name="Layla Haddad", email="layla@shop.test")
    queue = make_queue("returns")
    wanted = make_ticket(
        customer=rich, queue=queue, priority=Priority.URGENT, channel=Channel.EMAIL, tags=["refund"]
    )
    service.assign(wanted, other, actor=other)
    make_ticket(priority=Priority.URGENT)
    make_ticket(customer=rich, tags=["refund"])
    login(agent)
    for query in (
        f"priority=urgent&queue={queue.id}",
        "tag=refund&channel=email",
        f"assignee={other.id}&customer=layla",
        "customer=LAYLA%40SHOP&priority=urgent",
        "status=open&tag=refund&customer=haddad",
    ):
        page = client.get(f"/agent?view=open&{query}").get_data(as_text=True)
        assert numbers(page) == [wanted.number], query
    unassigned = numbers(client.get("/agent?view=open&assignee=none").get_data(as_text=True))
    assert wanted.number not in unassigned and len(unassigned) == 2


def test_created_range_filter(client, login):
    login(make_staff())
    march = make_ticket(created_at=datetime(2026, 3, 10, 12, tzinfo=UTC))
    make_ticket(created_at=datetime(2026, 4, 2, 12, tzinfo=UTC))
    page = client.get("/agent?view=open&from=2026-03-01&to=2026-03-10").get_data(as_text=True)
    assert numbers(page) == [march.number]


@pytest.mark.parametrize(
    "query", ["status=nope", "priority=x", "queue=abc", "assignee=me", "from=yesterday", "sort=random"]
)
def test_bad_filters_are_a_clear_400(client, login_as, query):
    login_as("agent")
    response = client.get(f"/agent?{query}")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("sort", ["due", "updated", "created", "priority"])
def test_every_sort_pages_through_every_ticket_once_in_order(client, login, sort):
    always_open_policy()
    customer = make_customer()
    start = datetime.now(UTC) - timedelta(hours=5)
    for i in range(110):
        make_ticket(
            customer=customer,
            created_at=start + timedelta(minutes=i // 3),  # ties on purpose
            priority=list(Priority)[i % 4],
        )
    for ticket in db.session.scalars(db.select(Ticket).limit(20)):  # some without a due time
        service.change_status(ticket, Status.PENDING, actor=None)
        ticket.next_due_at = None
    db.session.commit()
    login(make_staff())
    url = "/agent?view=open" + ("" if sort == "due" else f"&sort={sort}")
    seen = walk(client, url)
    assert len(seen) == len(set(seen)) == 110
    tickets = {t.number: t for t in db.session.scalars(db.select(Ticket))}
    rows = [tickets[n] for n in seen]
    if sort == "due":
        keys = [(t.next_due_at is None, t.next_due_at or start, t.id) for t in rows]
        assert keys == sorted(keys)
    elif sort == "priority":
        keys = [(-t.priority.rank, -t.id) for t in rows]
        assert keys == sorted(keys)
    else:
        keys = [(getattr(t, f"{sort}_at"), t.id) for t in rows]
        assert keys == sorted(keys, reverse=True)


def test_sla_due_is_the_default_order(client, login):
    always_open_policy()
    late = make_ticket(created_at=datetime.now(UTC) - timedelta(minutes=100))
    fresh = make_ticket()
    login(make_staff())
    assert numbers(client.get("/agent").get_data(as_text=True))[:2] == [late.number, fresh.number]


def test_htmx_filter_answers_with_the_results_fragment_only(client, login):
    login(make_staff())
    ticket = make_ticket(subject="fragment me")
    response = client.get(
        "/agent?view=open&status=new", headers={"HX-Request": "true", "HX-Target": "queue-results"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="queue-results"') and "<html" not in page
    assert ticket.number in page
    assert 'id="view-list"' in page and 'hx-swap-oob="true"' in page  # the counts refresh too


def test_bulk_assign_status_priority_and_tag(client, login):
    agent = make_staff()
    other = make_staff()
    tickets = [make_ticket() for _ in range(3)]
    ids = [str(t.id) for t in tickets]
    login(agent)
    for action, value in (
        ("assign", str(other.id)),
        ("priority", "high"),
        ("tag", "Courier"),
        ("status", "pending"),
    ):
        response = client.submit("/agent/bulk", {"action": action, "value": value, "ticket": ids})
        assert response.status_code == 303, action
    for ticket in tickets:
        db.session.refresh(ticket)
        assert ticket.assignee_id == other.id
        assert ticket.priority == Priority.HIGH
        assert [t.name for t in ticket.tags] == ["courier"]
        assert ticket.status == Status.PENDING


def test_bulk_reports_tickets_it_could_not_change(client, login):
    login(make_staff())
    closed = make_ticket(status=Status.CLOSED)
    fine = make_ticket()
    response = client.submit(
        "/agent/bulk",
        {"action": "status", "value": "open", "ticket": [str(closed.id), str(fine.id)]},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert closed.number in page and "لا يمكن تغيير حالة التذكرة" in page
    db.session.refresh(fine)
    assert fine.status == Status.OPEN


def test_bulk_merge_moves_messages_into_the_target(client, login):
    login(make_staff())
    target = make_ticket(body="first")
    a, b = make_ticket(body="dup a"), make_ticket(body="dup b")
    client.submit(
        "/agent/bulk", {"action": "merge", "value": target.number, "ticket": [str(a.id), str(b.id)]}
    )
    db.session.expire_all()
    bodies = [m.body_text for m in db.session.get(Ticket, target.id).messages]
    assert {"first", "dup a", "dup b"} <= set(bodies)
    assert db.session.get(Ticket, a.id).merged_into_id == target.id


def test_bulk_with_unknown_value_is_a_400(client, login):
    login(make_staff())
    ticket = make_ticket()
    response = client.submit("/agent/bulk", {"action": "status", "value": "gone", "ticket": [str(ticket.id)]})
    assert response.status_code == 400


def test_queue_page_queries_stay_fixed_with_filters_and_queues(client, login):
    login(make_staff())
    queues = [make_queue(f"q{i}") for i in range(2)]
    for i in range(3):
        make_ticket(queue=queues[i % 2], tags=["a"])
    url = "/agent?view=open&tag=a&sort=priority"
    with count_queries() as few:
        assert client.get(url).status_code == 200
    queues += [make_queue(f"more{i}") for i in range(5)]
    for i in range(45):
        make_ticket(customer=make_customer(), queue=queues[i % 7], tags=["a", f"t{i}"])
    with count_queries() as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few) <= 12


def test_queue_page_has_shortcut_help_and_its_script(client, login):
    login(make_staff())
    page = client.get("/agent").get_data(as_text=True)
    assert "js/workspace.js" in page and 'id="shortcut-help"' in page
    assert "onclick" not in page and "<script>" not in page
