"""The queue's per-view counts, kept per process for VIEW_COUNTS_MAX_AGE seconds (the other tests
run with 0, always fresh): a change made in this process clears them, one made elsewhere waits."""

import re

from sqlalchemy import update

from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Status, Ticket
from tests.factories import count_queries, make_customer, make_staff, make_ticket


def counts_on(page: str) -> dict[str, int]:
    found = re.findall(r'view=(\w+)"[^>]*>\s*[^<]+<span class="count">(\d+)</span>', page)
    return {view: int(n) for view, n in found}


def test_a_second_visit_reads_the_counts_from_memory(app, client, login):
    app.config["VIEW_COUNTS_MAX_AGE"] = 60
    login(make_staff())
    make_ticket()
    with count_queries() as first:
        client.get("/agent")
    with count_queries() as second:
        page = client.get("/agent").get_data(as_text=True)
    assert counts_on(page)["open"] == 1
    assert len(second) == len(first) - 2  # the fixed views' and the queues' counts


def test_a_ticket_change_in_this_process_shows_at_once(app, client, login):
    app.config["VIEW_COUNTS_MAX_AGE"] = 60
    agent = make_staff()
    login(agent)
    ticket = make_ticket()
    assert counts_on(client.get("/agent").get_data(as_text=True))["unassigned"] == 1
    service.assign(ticket, agent, actor=agent)
    make_ticket(customer=make_customer())
    counts = counts_on(client.get("/agent").get_data(as_text=True))
    assert (counts["unassigned"], counts["mine"], counts["open"]) == (1, 1, 2)
    db.session.execute(update(Ticket).values(status=Status.SOLVED))  # a bulk statement counts too
    db.session.commit()
    assert counts_on(client.get("/agent").get_data(as_text=True))["open"] == 0


def test_a_change_from_another_process_waits_for_the_counts_to_expire(app, client, login):
    app.config["VIEW_COUNTS_MAX_AGE"] = 60
    login(make_staff())
    make_ticket()
    assert counts_on(client.get("/agent").get_data(as_text=True))["open"] == 1
    with db.engine.begin() as other:  # not through this process's session, like another worker
        other.execute(update(Ticket).values(status=Status.SOLVED.value))
    page = client.get("/agent").get_data(as_text=True)
    assert counts_on(page)["open"] == 1  # still the kept count
    assert "ticket-row" not in page  # while the list itself is fresh
    app.config["VIEW_COUNTS_MAX_AGE"] = 0
    assert counts_on(client.get("/agent").get_data(as_text=True))["open"] == 0
