"""Administration of business calendars, SLA policies, queues and staff accounts."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role, StaffUser
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.models import BusinessCalendar, CalendarHoliday, CalendarOverride, SlaPolicy
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Priority, Queue
from tests.factories import PASSWORD, count_queries, make_customer, make_default_sla, make_queue, make_staff

RIYADH = ZoneInfo("Asia/Riyadh")
WEEK = {
    "hours_6": "09:00-17:00",
    "hours_0": "09:00-17:00",
    "hours_1": "09:00-17:00",
    "hours_2": "09:00-17:00",
}


def riyadh(*args) -> datetime:
    return datetime(*args, tzinfo=RIYADH).astimezone(UTC)


@pytest.fixture
def admin(login):
    user = make_staff(Role.ADMIN, language="en")
    login(user)
    return user


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_admin_creates_a_split_day_calendar(client, admin):
    response = client.submit(
        "/admin/calendars/new",
        {
            "name": "Jeddah shop",
            "timezone": "Asia/Riyadh",
            "holiday_country": "SA",
            "holiday_subdivision": "",
            "hours_6": "09:00-13:00, 16:00-21:00",
            "hours_3": "09:00-13:00",
        },
    )
    assert response.status_code == 303
    calendar = db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.name == "Jeddah shop"))
    assert [(i.weekday, i.start_minute, i.end_minute) for i in calendar.intervals] == [
        (3, 540, 780),
        (6, 540, 780),
        (6, 960, 1260),
    ]
    assert "sla.calendar_created" in actions()
    page = client.get(f"/admin/calendars/{calendar.id}").get_data(as_text=True)
    assert 'value="09:00-13:00, 16:00-21:00"' in page
    assert "National Day" in page or "Founding Day" in page  # the coming year's Saudi holidays


def test_bad_hours_are_refused_with_a_message(client, admin):
    response = client.submit(
        "/admin/calendars/new", {"name": "Broken", "timezone": "Asia/Riyadh", "hours_6": "9 to 5"}
    )
    assert response.status_code == 400
    assert "Write hours like 09:00-13:00, 16:00-21:00." in response.get_data(as_text=True)
    closed = client.submit("/admin/calendars/new", {"name": "Closed", "timezone": "Asia/Riyadh"})
    assert closed.status_code == 400
    assert "at least one day" in closed.get_data(as_text=True)
    assert db.session.scalar(select(BusinessCalendar.id)) is None


def test_calendar_changes_recompute_open_tickets(client, admin):
    calendar = make_default_sla()
    ticket = tickets.open_ticket(
        customer=make_customer(), subject="x", body="y", created_at=riyadh(2026, 11, 26, 16, 0)
    )  # Thursday 16:00: first response due Sunday 10:00
    assert ticket.first_response_due_at == riyadh(2026, 11, 29, 10, 0)
    # Sunday 29 November becomes the team's own holiday: due Monday 10:00.
    response = client.submit(
        f"/admin/calendars/{calendar.id}/holidays", {"holiday-day": "2026-11-29", "holiday-name": "Team day"}
    )
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.first_response_due_at == riyadh(2026, 11, 30, 10, 0)
    # Friday 27 November opens 10:00-12:00: 60 minutes left from Thursday end at Friday 11:00.
    response = client.submit(
        f"/admin/calendars/{calendar.id}/overrides",
        {
            "override-name": "Sale weekend",
            "override-first_day": "2026-11-27",
            "override-last_day": "2026-11-27",
            "override-hours": "10:00-12:00",
        },
    )
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.first_response_due_at == riyadh(2026, 11, 27, 11, 0)
    override = db.session.scalar(select(CalendarOverride))
    holiday = db.session.scalar(select(CalendarHoliday))
    assert (override.first_day, override.intervals) == (date(2026, 11, 27), [[600, 720]])
    client.submit(f"/admin/calendars/{calendar.id}/overrides/{override.id}/delete")
    client.submit(f"/admin/calendars/{calendar.id}/holidays/{holiday.id}/delete")
    db.session.refresh(ticket)
    assert ticket.first_response_due_at == riyadh(2026, 11, 29, 10, 0)
    assert [a for a in actions() if a.startswith("sla.")] == [
        "sla.holiday_added",
        "sla.calendar_override_added",
        "sla.calendar_override_removed",
        "sla.holiday_removed",
    ]


def test_override_with_days_in_the_wrong_order_is_refused(client, admin):
    calendar = make_default_sla()
    response = client.submit(
        f"/admin/calendars/{calendar.id}/overrides",
        {"override-name": "Oops", "override-first_day": "2026-03-10", "override-last_day": "2026-03-01"},
    )
    assert response.status_code == 400
    assert "The last day comes before the first day." in response.get_data(as_text=True)


def test_calendar_in_use_cannot_be_deleted(client, admin):
    calendar = make_default_sla()
    response = client.submit(f"/admin/calendars/{calendar.id}/delete", follow_redirects=True)
    assert "This calendar is used by an SLA policy." in response.get_data(as_text=True)
    assert db.session.get(BusinessCalendar, calendar.id) is not None


def test_admin_creates_a_queue_policy_and_it_applies_first(client, admin):
    calendar = make_default_sla()
    billing = make_queue("billing")
    ticket = tickets.open_ticket(
        customer=make_customer(), subject="x", body="y", queue=billing, created_at=riyadh(2026, 11, 22, 9, 0)
    )
    assert ticket.first_response_due_at == riyadh(2026, 11, 22, 11, 0)
    response = client.submit(
        "/admin/sla/new",
        {
            "name": "Billing first",
            "is_active": "y",
            "calendar_id": calendar.id,
            "match_priority": "",
            "match_queue_id": billing.id,
            "match_tier": "",
            "first_response_minutes": "15",
            "resolution_minutes": "",
            "next_response_minutes": "",
            "pause_when_pending": "y",
            "warn_at_percent": "80",
            "breach_reassign_to_id": "",
        },
    )
    assert response.status_code == 303
    policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == "Billing first"))
    assert (policy.match_queue_id, policy.first_response_minutes, policy.pause_when_on_hold) == (
        billing.id,
        15,
        False,
    )
    assert policy.position == len(sla.DEFAULT_POLICIES) + 1  # appended last: "Normal priority" still wins
    db.session.refresh(ticket)
    assert ticket.first_response_due_at == riyadh(2026, 11, 22, 11, 0)
    for _ in range(len(sla.DEFAULT_POLICIES)):
        assert client.submit(f"/admin/sla/{policy.id}/move", {"direction": "up"}).status_code == 303
    db.session.refresh(ticket)
    assert ticket.first_response_due_at == riyadh(2026, 11, 22, 9, 15)
    listing = client.get("/admin/sla").get_data(as_text=True)
    assert listing.index("Billing first") < listing.index("Urgent")
    queue_page = client.get(f"/admin/queues/{billing.id}").get_data(as_text=True)
    assert "Billing first" in queue_page


def test_policy_needs_a_target_and_a_sane_warning_share(client, admin):
    calendar = make_default_sla()
    base = {"name": "Empty", "calendar_id": calendar.id, "warn_at_percent": "75"}
    response = client.submit("/admin/sla/new", base)
    assert response.status_code == 400 and "Set at least one target." in response.get_data(as_text=True)
    response = client.submit(
        "/admin/sla/new", {**base, "first_response_minutes": "30", "warn_at_percent": "120"}
    )
    assert response.status_code == 400


def test_deleting_a_policy_clears_the_due_times_it_set(client, admin):
    make_default_sla()
    ticket = tickets.open_ticket(
        customer=make_customer(),
        subject="x",
        body="y",
        priority=Priority.LOW,
        created_at=riyadh(2026, 11, 22, 9),
    )
    low = db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == "Low priority"))
    assert client.submit(f"/admin/sla/{low.id}/delete").status_code == 303
    db.session.refresh(ticket)
    assert ticket.next_due_at is None


def test_admin_creates_and_edits_a_queue(client, admin):
    lead = make_staff(Role.SUPERVISOR, name="Lead")
    agent = make_staff(name="Sara")
    response = client.submit(
        "/admin/queues/new",
        {
            "slug": "Returns",
            "name_en": "Returns",
            "name_ar": "المرتجعات",
            "email_address": "Returns@Shop.example",
            "supervisor_id": lead.id,
            "members": [agent.id, lead.id],
            "is_active": "y",
        },
    )
    assert response.status_code == 303
    queue = db.session.scalar(select(Queue).where(Queue.slug == "returns"))
    assert queue.email_address == "returns@shop.example"
    assert queue.supervisor_id == lead.id and {m.id for m in queue.members} == {agent.id, lead.id}
    listing = client.get("/admin/queues").get_data(as_text=True)
    assert "returns@shop.example" in listing and "Lead" in listing
    duplicate = client.submit(
        "/admin/queues/new",
        {"slug": "returns", "name_en": "Again", "name_ar": "مرة", "supervisor_id": "", "is_active": "y"},
    )
    assert duplicate.status_code == 400
    assert "Another queue already uses this short name." in duplicate.get_data(as_text=True)
    # Only supervisors and admins can supervise a queue.
    refused = client.submit(
        f"/admin/queues/{queue.id}",
        {"slug": "returns", "name_en": "Returns", "name_ar": "المرتجعات", "supervisor_id": agent.id},
    )
    assert refused.status_code == 400


def test_admin_adds_a_staff_member_who_can_sign_in(app, client, admin):
    response = client.submit(
        "/admin/staff",
        {
            "new-name": "Noura",
            "new-email": "Noura@Staff.test",
            "new-role": "supervisor",
            "new-language": "ar",
            "new-password": "a long password",
            "new-confirm": "a long password",
        },
    )
    assert response.status_code == 303
    noura = db.session.scalar(select(StaffUser).where(StaffUser.email == "noura@staff.test"))
    assert noura.role == Role.SUPERVISOR and noura.language == "ar"
    other = app.test_client()
    assert (
        other.submit("/staff/login", {"email": "noura@staff.test", "password": "a long password"}).status_code
        == 302
    )
    again = client.submit(
        "/admin/staff",
        {
            "new-name": "Noura 2",
            "new-email": "noura@staff.test",
            "new-role": "agent",
            "new-language": "en",
            "new-password": "another long one",
            "new-confirm": "another long one",
        },
    )
    assert again.status_code == 400
    assert "already exists" in again.get_data(as_text=True)


def test_deactivated_staff_cannot_sign_in_until_reactivated(app, client, admin):
    agent = make_staff()
    assert client.submit(f"/admin/staff/{agent.id}/active", {"active": "0"}).status_code == 303
    db.session.refresh(agent)
    assert not agent.is_active
    other = app.test_client()
    assert other.submit("/staff/login", {"email": agent.email, "password": PASSWORD}).status_code != 302
    client.submit(f"/admin/staff/{agent.id}/active", {"active": "1"})
    db.session.refresh(agent)
    assert agent.is_active
    assert [a for a in actions() if a.startswith("staff.")] == ["staff.deactivated", "staff.reactivated"]


def test_admins_cannot_deactivate_themselves(client, admin):
    response = client.submit(f"/admin/staff/{admin.id}/active", {"active": "0"}, follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_active


@pytest.mark.parametrize(
    "url",
    [
        "/admin/queues",
        "/admin/queues/new",
        "/admin/calendars",
        "/admin/calendars/new",
        "/admin/sla",
        "/admin/sla/new",
    ],
)
def test_admin_pages_are_for_admins_only(client, login_as, url):
    login_as("supervisor")
    assert client.get(url).status_code == 403


def test_admin_lists_use_a_fixed_number_of_queries(client, admin):
    make_default_sla()
    make_queue("one", supervisor_id=make_staff(Role.SUPERVISOR).id)
    urls = ["/admin/queues", "/admin/calendars", "/admin/sla", "/admin"]
    before = {}
    for url in urls:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        before[url] = len(statements)
    calendar = db.session.scalar(select(BusinessCalendar))
    for i in range(5):
        make_queue(f"q{i}", supervisor_id=make_staff(Role.SUPERVISOR).id)
        db.session.add(BusinessCalendar(name=f"Cal {i}", timezone="UTC"))
        db.session.add(SlaPolicy(name=f"Extra {i}", calendar=calendar, first_response_minutes=5, position=99))
    db.session.commit()
    for url in urls:
        with count_queries() as statements:
            client.get(url)
        assert len(statements) == before[url], url


def test_admin_edit_pages_use_a_fixed_number_of_queries(client, admin):
    calendar = make_default_sla()
    queue = make_queue("billing")
    policy = db.session.scalar(select(SlaPolicy))
    urls = [f"/admin/calendars/{calendar.id}", f"/admin/sla/{policy.id}", f"/admin/queues/{queue.id}"]
    before = {}
    for url in urls:
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        before[url] = len(statements)
    for i in range(5):
        db.session.add(CalendarHoliday(calendar=calendar, day=date(2030, 1, i + 1), name=f"Day {i}"))
        db.session.add(
            CalendarOverride(
                calendar=calendar,
                name=f"O{i}",
                first_day=date(2031, 1, i + 1),
                last_day=date(2031, 1, i + 1),
                intervals=[[600, 720]],
            )
        )
        db.session.add(
            SlaPolicy(name=f"Q{i}", calendar=calendar, match_queue_id=queue.id, first_response_minutes=5)
        )
        make_staff()
    db.session.commit()
    for url in urls:
        with count_queries() as statements:
            client.get(url)
        assert len(statements) == before[url], url
