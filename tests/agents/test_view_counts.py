"""The queue's per-view counts, kept per process for VIEW_COUNTS_MAX_AGE seconds (the other tests
run with 0, always fresh): a change made in this process clears them, one made elsewhere waits —
unless Redis is shared, when a change on any node clears them everywhere."""

import re

from sqlalchemy import select, update

from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Status, Ticket
from tests.factories import REDIS_URL, count_queries, make_customer, make_staff, make_ticket


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


def test_with_redis_a_change_on_another_node_shows_at_once(app, app_config, client, login, redis_prefix):
    """Two apps (two nodes) that share the database and Redis: the counts one keeps are keyed by
    the shared generation of ticket changes, which a commit on the other moves on."""
    shared = {"VIEW_COUNTS_MAX_AGE": 60, "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": redis_prefix}
    app.config.update(shared)
    login(make_staff())
    make_ticket()
    assert counts_on(client.get("/agent").get_data(as_text=True))["open"] == 1
    other_node = create_app({**app_config, **shared})
    with other_node.app_context():
        ticket = db.session.scalars(select(Ticket)).one()
        service.change_status(ticket, Status.SOLVED, actor=None)
        db.session.commit()
        db.session.remove()
    assert counts_on(client.get("/agent").get_data(as_text=True))["open"] == 0
    with count_queries() as kept:  # unchanged since: the counts come from memory again
        client.get("/agent")
    with count_queries() as fresh:
        app.config["VIEW_COUNTS_MAX_AGE"] = 0
        client.get("/agent")
    assert len(kept) == len(fresh) - 2


def test_without_an_answer_from_redis_the_counts_are_computed_afresh(app, client, login):
    app.config.update(VIEW_COUNTS_MAX_AGE=60, REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens
    login(make_staff())
    make_ticket()
    assert counts_on(client.get("/agent").get_data(as_text=True))["open"] == 1
    with db.engine.begin() as other:
        other.execute(update(Ticket).values(status=Status.SOLVED.value))
    assert counts_on(client.get("/agent").get_data(as_text=True))["open"] == 0
