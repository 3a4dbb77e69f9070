"""A customer closes, reopens and rates their own case; the case page says when to expect a reply."""

from datetime import timedelta

from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.sla.models import BusinessCalendar, SlaPolicy, WorkingInterval
from helpdesk.tickets import service
from helpdesk.tickets.models import CsatRating, Status
from tests.factories import make_customer, make_ticket


def test_customer_closes_their_case(client, login):
    ticket = make_ticket()
    login(ticket.customer)
    assert client.submit(f"/portal/cases/{ticket.number}/close").status_code == 303
    db.session.refresh(ticket)
    assert ticket.status == Status.CLOSED


def test_only_a_solved_case_can_be_reopened(client, login):
    ticket = make_ticket()
    login(ticket.customer)
    client.submit(f"/portal/cases/{ticket.number}/reopen")
    db.session.refresh(ticket)
    assert ticket.status == Status.NEW
    service.change_status(ticket, Status.SOLVED, actor=None)
    client.submit(f"/portal/cases/{ticket.number}/reopen")
    db.session.refresh(ticket)
    assert ticket.status == Status.OPEN


def test_csat_after_solved_once_per_case_and_revisable(client, login, queries):
    ticket = make_ticket()
    login(ticket.customer)
    assert client.submit(f"/portal/cases/{ticket.number}/rating", {"score": "5"}).status_code == 303
    assert db.session.scalars(select(CsatRating)).all() == []  # not solved yet
    service.change_status(ticket, Status.SOLVED, actor=None)
    db.session.commit()
    with queries() as statements:
        page = client.get(f"/portal/cases/{ticket.number}").get_data(as_text=True)
    assert len(statements) <= 20
    assert "csat" in page
    client.submit(f"/portal/cases/{ticket.number}/rating", {"score": "2", "comment": "slow"})
    client.submit(f"/portal/cases/{ticket.number}/rating", {"score": "4"})
    rating = db.session.scalars(select(CsatRating)).one()
    assert (rating.score, rating.comment) == (4, None)
    assert client.submit(f"/portal/cases/{ticket.number}/rating", {"score": "9"}).status_code == 400


def test_case_page_shows_the_expected_reply_time(client, login):
    calendar = BusinessCalendar(
        name="Around the clock",
        timezone="UTC",
        intervals=[WorkingInterval(weekday=d, start_minute=0, end_minute=1440) for d in range(7)],
    )
    db.session.add(SlaPolicy(name="Everyone", calendar=calendar, first_response_minutes=240))
    db.session.commit()
    ticket = make_ticket()
    login(ticket.customer)
    client.submit("/language", {"language": "en"})
    page = client.get(f"/portal/cases/{ticket.number}").get_data(as_text=True)
    assert "We usually reply within 4 h" in page


def test_another_customers_case_actions_are_404(client, login):
    ticket = make_ticket()
    login(make_customer())
    for action in ("close", "reopen", "rating"):
        assert client.submit(f"/portal/cases/{ticket.number}/{action}", {"score": "5"}).status_code == 404


def test_auto_close_leaves_last_update_alone_so_an_active_case_stays_on_top(client, login):
    customer = make_customer()
    now = utcnow()
    active = make_ticket(customer=customer, subject="Still waiting", created_at=now - timedelta(days=9))
    service.add_message(active, author=customer, body="Any news?", created_at=now - timedelta(days=2))
    done = make_ticket(customer=customer, subject="Old question", created_at=now - timedelta(days=10))
    service.change_status(done, Status.SOLVED, actor=None, at=now - timedelta(days=6))
    last_activity = done.updated_at
    assert service.close_solved_tickets(older_than=timedelta(days=4)) == 1
    db.session.commit()
    db.session.refresh(done)
    assert done.status == Status.CLOSED and done.updated_at == last_activity
    login(customer)
    page = client.get("/portal/cases").get_data(as_text=True)
    assert page.index("Still waiting") < page.index("Old question")
