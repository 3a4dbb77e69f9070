"""Queue badges (business time left or overdue) and the "breaching soon" view."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.calendars import schedule_for
from helpdesk.sla.models import BusinessCalendar, SlaMetric, SlaPolicy, TicketSla, WorkingInterval
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Status
from tests.factories import count_queries, make_customer, make_default_sla, make_staff

RIYADH = ZoneInfo("Asia/Riyadh")


def riyadh(*args) -> datetime:
    return datetime(*args, tzinfo=RIYADH).astimezone(UTC)


def always_open_policy(first_response: int = 120, resolution: int = 600) -> SlaPolicy:
    calendar = BusinessCalendar(
        name="Around the clock",
        timezone="UTC",
        intervals=[WorkingInterval(weekday=d, start_minute=0, end_minute=1440) for d in range(7)],
    )
    policy = SlaPolicy(
        name="Everything",
        calendar=calendar,
        first_response_minutes=first_response,
        resolution_minutes=resolution,
    )
    db.session.add(policy)
    db.session.commit()
    return policy


def open_at(when, subject="Late parcel"):
    ticket = tickets.open_ticket(customer=make_customer(), subject=subject, body="?", created_at=when)
    db.session.commit()
    return ticket


def test_summary_counts_business_time_left_and_overdue(app):
    calendar = make_default_sla()
    ticket = open_at(riyadh(2026, 11, 26, 16, 30))  # Thursday; first response due Sunday 10:30
    row = db.session.get(TicketSla, ticket.id)
    schedule = schedule_for(calendar)
    friday = sla.summarize(ticket, row, schedule, riyadh(2026, 11, 27, 12, 0))
    assert (friday.state, friday.metric, friday.business_minutes) == ("running", SlaMetric.FIRST_RESPONSE, 90)
    # 90 of the 120 minutes (75 %) are used at Sunday 10:00: 30 on Thursday, 60 on Sunday.
    assert sla.summarize(ticket, row, schedule, riyadh(2026, 11, 29, 9, 55)).state == "running"
    sunday = sla.summarize(ticket, row, schedule, riyadh(2026, 11, 29, 10, 5))
    assert (sunday.state, sunday.business_minutes) == ("warning", 25)
    thursday = sla.summarize(ticket, row, schedule, riyadh(2026, 11, 26, 16, 40))
    assert (thursday.state, thursday.business_minutes) == ("running", 110)
    late = sla.summarize(ticket, row, schedule, riyadh(2026, 11, 29, 12, 15))
    assert (late.state, late.business_minutes) == ("overdue", 105)
    tickets.change_status(ticket, Status.PENDING, actor=None, at=riyadh(2026, 11, 26, 16, 45))
    assert sla.summarize(ticket, row, schedule, riyadh(2026, 11, 26, 17, 0)).state == "paused"


def test_queue_rows_show_time_left_and_overdue(client, login):
    always_open_policy()
    open_at(utcnow(), subject="fresh case")
    open_at(utcnow() - timedelta(hours=5), subject="old case")
    agent = make_staff(language="en")
    login(agent)
    page = client.get("/agent?view=open").get_data(as_text=True)
    fresh = re.search(r"fresh case.*?</tr>", page, re.S).group(0)
    old = re.search(r"old case.*?</tr>", page, re.S).group(0)
    assert re.search(r'class="badge sla sla-running"[^>]*>(1 hour and 5\d minutes|2 hours) left', fresh)
    assert re.search(r'class="badge sla sla-overdue"[^>]*>Overdue 3 hours', old)
    assert "First response due" in old or "first response due" in old


def test_long_spans_are_said_in_days_and_weeks_in_both_languages(client, login):
    always_open_policy(first_response=60, resolution=60 * 24 * 30)
    open_at(utcnow() - timedelta(days=4, hours=1), subject="four days late")
    open_at(utcnow() - timedelta(days=21, hours=1), subject="three weeks late")
    agent = make_staff(language="en")
    login(agent)
    page = client.get("/agent?view=open").get_data(as_text=True)
    assert re.search(r"four days late.*?>Overdue 4 days<", page, re.S)
    assert re.search(r"three weeks late.*?>Overdue 3 weeks<", page, re.S)
    assert not re.search(r"Overdue \d+ h", page)
    agent.language = "ar"
    db.session.commit()
    page = client.get("/agent?view=open").get_data(as_text=True)
    assert "متأخرة 4 أيام" in page and "متأخرة 3 أسابيع" in page


def test_time_left_is_said_in_words_of_the_page_language(client, login):
    always_open_policy(first_response=60 * 24 * 5, resolution=60 * 24 * 10)
    open_at(utcnow(), subject="plenty of time")
    login(make_staff(language="ar"))
    page = client.get("/agent?view=open").get_data(as_text=True)
    assert "يتبقّى 5 أيام" in page


def test_badges_are_in_arabic_for_arabic_agents(client, login):
    always_open_policy()
    open_at(utcnow() - timedelta(hours=5), subject="old case")
    login(make_staff(language="ar"))
    page = client.get("/agent?view=open").get_data(as_text=True)
    assert "متأخرة" in page


def test_breaching_soon_lists_warned_tickets_and_overdue_lists_the_breached_ones(client, login):
    always_open_policy(first_response=100)
    open_at(utcnow(), subject="plenty of time")
    open_at(utcnow() - timedelta(minutes=80), subject="eighty percent used")
    open_at(utcnow() - timedelta(minutes=200), subject="already late")
    login(make_staff())
    page = client.get("/agent?view=breaching").get_data(as_text=True)
    assert "eighty percent used" in page
    assert "already late" not in page and "plenty of time" not in page
    page = client.get("/agent?view=overdue").get_data(as_text=True)
    assert "already late" in page
    assert "eighty percent used" not in page and "plenty of time" not in page
    counts = dict(re.findall(r'view=(\w+)"[^>]*>\s*[^<]+<span class="count">(\d+)</span>', page))
    assert (counts["breaching"], counts["overdue"]) == ("1", "1")


def test_badges_cost_a_fixed_number_of_queries(client, login):
    always_open_policy()
    agent = make_staff()
    login(agent)
    open_at(utcnow())
    client.get("/agent")  # warm the calendar cache
    with count_queries() as few:
        client.get("/agent")
    for i in range(15):
        open_at(utcnow() - timedelta(minutes=i * 10))
    with count_queries() as many:
        page = client.get("/agent").get_data(as_text=True)
    assert page.count("badge sla ") == 16
    assert len(many) == len(few)
