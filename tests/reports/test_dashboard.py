"""The supervisor dashboard against a small week of tickets whose figures were worked out by hand.

Calendar: the default Riyadh one (Sunday–Thursday 09:00–17:00); no holidays in November 2025.
Period: Sunday 2 – Saturday 8 November 2025. Targets (business minutes): normal 120 first response /
1440 resolution, high 60 / 960, low 240 / 2400.

  T1 Sun 09:00 normal billing portal, Amal: replied 10:00 (60 | 60), solved 13:00 (240 | 240)
  T2 Sun 09:00 normal billing email, Badr: replied 12:00 (180 | 180, late: due 11:00),
     solved Mon 10:00 (480 + 60 = 540 business | 25 h = 1500 calendar)
  T3 Thu 16:00 high shipping portal, Amal: replied Sun 9 Nov 09:30 (60 + 30 = 90 | 3930, late: due Thu 17:00)
  T4 Tue 10:00 low, no queue, agent channel, nobody: never answered (first response due 14:00)
  T5 Wed 09:00 normal billing portal, Badr: replied 09:30 (30), pending 10:00 until the customer
     wrote Thu 09:00, solved Thu 11:00 (60 + 120 = 180 business, pending paused | 26 h = 1560)
  T6 Sat 12:00 normal shipping email, nobody: never answered (due Sun 9 Nov 11:00)
  T7 Thu 30 Oct 12:00 normal billing portal: created before the period; open, so in the backlog, and
     its resolution target (due Tue 4 Nov 12:00) is missed inside the period
"""

import csv
import io
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus, Deflection
from helpdesk.reports import service as reports
from helpdesk.sla.breaches import check_breaches
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Channel, CsatRating, Priority, Status
from tests.factories import count_queries, make_customer, make_default_sla, make_queue, make_staff

RIYADH = ZoneInfo("Asia/Riyadh")
PERIOD = "start=2025-11-02&end=2025-11-08"
NOW = datetime(2025, 11, 9, 12, 30, tzinfo=RIYADH)


def riyadh(*args) -> datetime:
    return datetime(*args, tzinfo=RIYADH).astimezone(UTC)


@pytest.fixture
def week(app):
    make_default_sla()
    lead = make_staff(Role.SUPERVISOR, name="Layla")
    amal, badr = make_staff(name="Amal"), make_staff(name="Badr")
    billing = make_queue("billing", name_en="Billing", name_ar="الفواتير", supervisor_id=lead.id)
    shipping = make_queue("shipping", name_en="Shipping", name_ar="الشحن")

    def ticket(when, priority=Priority.NORMAL, queue=None, channel=Channel.PORTAL, agent=None):
        t = tickets.open_ticket(
            customer=make_customer(),
            subject=f"case {when:%d %H:%M}",
            body="help",
            created_at=when,
            priority=priority,
            queue=queue,
            channel=channel,
        )
        if agent:
            tickets.assign(t, agent, actor=lead)
        return t

    def reply(t, agent, when):
        tickets.add_message(t, author=agent, body="answer", created_at=when)

    t1 = ticket(riyadh(2025, 11, 2, 9, 0), queue=billing, agent=amal)
    reply(t1, amal, riyadh(2025, 11, 2, 10, 0))
    tickets.change_status(t1, Status.SOLVED, actor=amal, at=riyadh(2025, 11, 2, 13, 0))
    t2 = ticket(riyadh(2025, 11, 2, 9, 0), queue=billing, channel=Channel.EMAIL, agent=badr)
    reply(t2, badr, riyadh(2025, 11, 2, 12, 0))
    tickets.change_status(t2, Status.SOLVED, actor=badr, at=riyadh(2025, 11, 3, 10, 0))
    t3 = ticket(riyadh(2025, 11, 6, 16, 0), priority=Priority.HIGH, queue=shipping, agent=amal)
    reply(t3, amal, riyadh(2025, 11, 9, 9, 30))
    t4 = ticket(riyadh(2025, 11, 4, 10, 0), priority=Priority.LOW, channel=Channel.AGENT)
    t5 = ticket(riyadh(2025, 11, 5, 9, 0), queue=billing, agent=badr)
    reply(t5, badr, riyadh(2025, 11, 5, 9, 30))
    tickets.change_status(t5, Status.PENDING, actor=badr, at=riyadh(2025, 11, 5, 10, 0))
    tickets.add_message(t5, author=t5.customer, body="more", created_at=riyadh(2025, 11, 6, 9, 0))
    tickets.change_status(t5, Status.SOLVED, actor=badr, at=riyadh(2025, 11, 6, 11, 0))
    t6 = ticket(riyadh(2025, 11, 8, 12, 0), queue=shipping, channel=Channel.EMAIL)
    ticket(riyadh(2025, 10, 30, 12, 0), queue=billing)

    for t, agent, score in ((t1, amal, 5), (t2, badr, 2), (t5, badr, 4)):
        db.session.add(
            CsatRating(
                ticket_id=t.id,
                customer_id=t.customer_id,
                agent_id=agent.id,
                score=score,
                created_at=t.solved_at,
            )
        )
    article = Article(slug="returns", locale="en", title="Returns", status=ArticleStatus.PUBLISHED)
    db.session.add(article)
    db.session.flush()
    for day in (2, 4, 8):
        db.session.add(Deflection(article_id=article.id, created_at=riyadh(2025, 11, day, 15, 0)))
    db.session.add(Deflection(article_id=article.id, created_at=riyadh(2025, 11, 9, 15, 0)))  # after
    db.session.commit()
    check_breaches(NOW.astimezone(UTC))
    return {"lead": lead, "amal": amal, "badr": badr, "billing": billing, "tickets": [t1, t2, t3, t4, t5, t6]}


def period(**kw) -> reports.ReportFilters:
    return reports.ReportFilters(date(2025, 11, 2), date(2025, 11, 8), RIYADH, **kw)


def test_sla_compliance(week):
    rows = reports.compliance(period(), NOW).rows
    # First response: T1, T5 met; T2, T3 late; T4, T6 unanswered past due. Resolution: T1, T2, T5 met,
    # T3, T4, T6 still inside their target on Sunday 9 November.
    assert [r[1:] for r in rows] == [[2, 4, 33.3], [3, 0, 100.0]]
    later = reports.compliance(period(), datetime(2026, 1, 1, tzinfo=UTC)).rows
    assert [r[1:] for r in later] == [[2, 4, 33.3], [3, 3, 50.0]]
    billing = reports.compliance(period(queue_id=week["billing"].id), NOW).rows
    assert [r[1:] for r in billing] == [[2, 1, 66.7], [3, 0, 100.0]]


def test_response_and_resolution_times(week):
    first, resolution = reports.response_times(period()).rows
    # Business [30, 60, 90, 180]: median 75, p90 the 4th; calendar [30, 60, 180, 3930].
    assert first[1:] == [4, 75.0, 180.0, 120.0, 3930.0]
    # Business [180, 240, 540]; calendar [240, 1500, 1560].
    assert resolution[1:] == [3, 240.0, 540.0, 1500.0, 1560.0]
    amal_only = reports.response_times(period(agent_id=week["amal"].id)).rows[0]
    assert amal_only[1:] == [2, 75.0, 90.0, 1995.0, 3930.0]


def test_backlog_by_queue_and_age(week):
    with force_locale("en"):
        rows = [[str(r[0]), *r[1:]] for r in reports.backlog(period(), NOW.astimezone(UTC)).rows]
    # Open on Sunday 9 November 12:30: T7 (10 days), T3 (2 days 20 h), T6 (24.5 h), T4 (5 days).
    assert rows == [
        ["Billing", 0, 0, 0, 1, 1],
        ["Shipping", 0, 2, 0, 0, 2],
        ["No queue", 0, 0, 1, 0, 1],
    ]


def test_breaches_in_the_period(week):
    t4, t6 = week["tickets"][3], week["tickets"][5]
    rows = reports.breaches(period()).rows
    # The worker ran on Sunday 9 November 12:30 and found three running clocks past due: T4's first
    # response (Tue 4 Nov 14:00), T7's resolution (300 + 480 + 480 + 180 minutes from Thu 30 Oct 12:00:
    # Tue 4 Nov 12:00) and T6's first response (Sun 9 Nov 11:00, after the period).
    assert [(r[0], r[3]) for r in rows] == [
        (t4.number, riyadh(2025, 11, 4, 14, 0)),
        ("HD-1007", riyadh(2025, 11, 4, 12, 0)),
    ]
    longer = reports.breaches(reports.ReportFilters(date(2025, 11, 2), date(2025, 11, 9), RIYADH)).rows
    assert [r[0] for r in longer] == [t6.number, t4.number, "HD-1007"]


def test_per_agent_figures(week):
    rows = reports.agents(period()).rows
    assert rows == [["Amal", 2, 1, 75.0, 5.0, 1], ["Badr", 2, 2, 105.0, 3.0, 2]]
    assert reports.agents(period(agent_id=week["badr"].id)).rows == [["Badr", 2, 2, 105.0, 3.0, 2]]


def test_csat_deflection_and_volume(week):
    table = reports.csat(period())
    assert table.rows == [["1", 0, 0.0], ["2", 1, 33.3], ["3", 0, 0.0], ["4", 1, 33.3], ["5", 1, 33.3]]
    assert reports.csat_average(period()) == (3.67, 3)
    # 3 deflections in the period ÷ (3 + 3 portal cases: T1, T3, T5).
    assert reports.deflection(period()).rows == [[3, 3, 50.0]]
    with force_locale("en"):
        channels = {str(r[0]): r[1] for r in reports.volume_by_channel(period()).rows}
    assert channels == {"Email": 2, "Portal": 3, "Agent": 1, "API": 0, "WhatsApp": 0}
    days = [r[1] for r in reports.volume_by_day(period()).rows]
    assert days == [2, 0, 1, 1, 1, 0, 1]


def test_dashboard_page_shows_the_figures(client, login, week):
    week["lead"].language = "en"
    db.session.commit()
    login(week["lead"])
    page = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    assert "33.3%" in page and "50.0%" in page  # first response, resolution (as of today)
    assert "1 hour and 15 minutes" in page  # median first response in business time
    assert "3.67" in page  # CSAT average
    assert "Amal" in page and "Badr" in page and "Billing" in page
    assert page.count('<img src="/reports/chart/') == 6
    assert re.search(r'href="/reports/export/agents\.csv\?start=2025-11-02&amp;end=2025-11-08"', page)
    # "All queues" / "All agents" submit an empty value, which the page takes as no filter.
    assert '<option selected value="">All agents</option>' in page
    refiltered = client.get(f"/reports?{PERIOD}&queue=&agent=").get_data(as_text=True)
    assert "33.3%" in refiltered


def test_dashboard_is_in_arabic_for_arabic_supervisors(client, login, week):
    week["lead"].language = "ar"
    db.session.commit()
    login(week["lead"])
    page = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "الفواتير" in page and "لوحة المشرف" in page


def test_every_table_exports_as_csv(client, login, week):
    login(week["lead"])
    for name in reports.TABLES:
        response = client.get(f"/reports/export/{name}.csv?{PERIOD}")
        assert response.status_code == 200, name
        assert response.mimetype == "text/csv"
        assert f'filename="{name}-2025-11-02-2025-11-08.csv"' in response.headers["Content-Disposition"]
    agents = client.get(f"/reports/export/agents.csv?{PERIOD}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(agents.lstrip("\ufeff"))))
    assert rows[1:] == [["Amal", "2", "1", "75.0", "5", "1"], ["Badr", "2", "2", "105.0", "3", "2"]]


def test_csv_cells_cannot_become_formulas(client, login, week):
    t1 = week["tickets"][0]
    t1.subject = "=HYPERLINK(1)"
    db.session.commit()
    login(week["lead"])
    t4 = week["tickets"][3]
    t4.subject = "=cmd|' /C calc'!A0"
    db.session.commit()
    body = client.get(f"/reports/export/breaches.csv?{PERIOD}").get_data(as_text=True)
    assert "'=cmd" in body and "\n=cmd" not in body


def test_charts_are_accessible_svg_without_script(client, login, week):
    week["lead"].language = "en"
    db.session.commit()
    login(week["lead"])
    for name in ("compliance", "days", "channels", "backlog", "csat"):
        response = client.get(f"/reports/chart/{name}.svg?{PERIOD}")
        assert response.status_code == 200, name
        assert response.mimetype == "image/svg+xml"
        svg = response.get_data(as_text=True)
        assert "<script" not in svg and "javascript" not in svg.lower()
        assert re.search(r'<svg [^>]*role="img"[^>]*aria-labelledby="[^"]+-title [^"]+-desc"', svg)
        assert "matrix(-1 0 0 1" not in svg
    channels = client.get(f"/reports/chart/channels.svg?{PERIOD}").get_data(as_text=True)
    assert "<title" in channels and ">Tickets by channel</title>" in channels
    assert "Email: 2; Portal: 3; Agent: 1; API: 0" in channels


def test_charts_are_mirrored_in_arabic(client, login, week):
    login(week["lead"])  # no language saved: Arabic is the default
    svg = client.get(f"/reports/chart/channels.svg?{PERIOD}").get_data(as_text=True)
    assert '<g transform="matrix(-1 0 0 1 720 0)">' in svg
    assert ">التذاكر حسب القناة</title>" in svg
    assert "text { direction: rtl; }" in svg


def test_reports_are_for_supervisors_and_admins(client, login, login_as):
    assert client.get("/reports").status_code == 302  # to the staff login
    login_as("agent")
    assert client.get("/reports").status_code == 403
    assert client.get("/reports/chart/days.svg").status_code == 403
    assert client.get("/reports/export/agents.csv").status_code == 403
    login(make_staff(Role.ADMIN))
    assert client.get("/reports").status_code == 200


def test_bad_filters_are_a_clear_400(client, login_as):
    login_as("supervisor")
    assert client.get("/reports?start=yesterday").status_code == 400
    assert client.get("/reports?start=2025-11-08&end=2025-11-01").status_code == 400
    assert client.get("/reports?queue=999").status_code == 400
    assert client.get("/reports/chart/days.svg?start=yesterday").status_code == 400
    assert client.get("/reports/export/agents.csv?queue=999").status_code == 400
    assert client.get("/reports/chart/nope.svg").status_code == 404
    assert client.get("/reports/export/nope.csv").status_code == 404


def sign_in_lead(login, week, language: str) -> None:
    week["lead"].language = language
    db.session.commit()
    login(week["lead"])


def test_bad_filters_show_the_dashboard_with_the_problem_beside_the_form(client, login, week):
    sign_in_lead(login, week, "en")
    response = client.get("/reports?start=yesterday&queue=999")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<form method="get" action="/reports" class="card report-filters">' in page
    assert "The report filters are not valid" in page and "Showing the default period instead." in page
    assert page.count('class="field has-error"') == 2  # the start date and the queue
    assert "Not a valid date value." in page and "Not a valid choice." in page
    assert page.count('<img src="/reports/chart/') == 6  # the default period's figures
    reversed_period = client.get("/reports?start=2025-11-08&end=2025-11-01").get_data(as_text=True)
    assert "The start date must not be after the end date." in reversed_period
    week["lead"].language = "ar"
    db.session.commit()
    arabic = client.get("/reports?start=2025-11-08&end=2025-11-01").get_data(as_text=True)
    assert "يجب ألا يكون تاريخ البداية بعد تاريخ النهاية." in arabic
    assert "نعرض الفترة الافتراضية بدلًا من ذلك." in arabic


def test_a_chart_address_names_its_language_so_a_cached_chart_never_outlives_a_switch(client, login, week):
    sign_in_lead(login, week, "en")
    english = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    english_src = re.search(r'<img src="(/reports/chart/channels\.svg[^"]+)"', english).group(1)
    assert "lang=en" in english_src
    client.submit("/language", {"language": "ar"})
    arabic = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    arabic_src = re.search(r'<img src="(/reports/chart/channels\.svg[^"]+)"', arabic).group(1)
    assert arabic_src != english_src and "lang=ar" in arabic_src
    svg = client.get(arabic_src.replace("&amp;", "&"))
    assert ">التذاكر حسب القناة</title>" in svg.get_data(as_text=True)
    assert svg.headers["Content-Language"] == "ar" and "Cookie" in svg.headers["Vary"]
    # The address alone decides: the English address still answers in English.
    old = client.get(english_src.replace("&amp;", "&")).get_data(as_text=True)
    assert ">Tickets by channel</title>" in old


def test_dashboard_query_count_does_not_grow_with_data(client, login, week):
    login(week["lead"])
    with count_queries() as few:
        client.get(f"/reports?{PERIOD}")
    customer = make_customer()
    for i in range(20):
        tickets.open_ticket(
            customer=customer,
            subject=f"more {i}",
            body="x",
            created_at=riyadh(2025, 11, 3, 9, i),
            queue=week["billing"],
        )
    db.session.commit()
    with count_queries() as many:
        client.get(f"/reports?{PERIOD}")
    assert len(many) == len(few)


def test_first_response_by_channel(client, login, week):
    """Email: T2 answered late (180 | 180), T6 unanswered past due; portal: T1 (60), T3 late (90 |
    3930), T5 (30); agent: T4 unanswered past due. Then a WhatsApp ticket answered in 45 minutes."""
    with force_locale("en"):
        rows = {str(r[0]): r[1:] for r in reports.first_response_by_channel(period(), NOW).rows}
    assert rows == {
        "Email": [1, 180.0, 180.0, 180.0, 0.0],
        "Portal": [3, 60.0, 90.0, 60.0, 66.7],
        "Agent": [0, None, None, None, 0.0],
        "API": [0, None, None, None, None],
        "WhatsApp": [0, None, None, None, None],
    }
    whatsapp = tickets.open_ticket(
        customer=make_customer(),
        subject="وين طلبي؟",
        body="وين طلبي؟",
        created_at=riyadh(2025, 11, 3, 9, 0),
        channel=Channel.WHATSAPP,
    )
    tickets.add_message(
        whatsapp, author=week["amal"], body="أبشر", created_at=riyadh(2025, 11, 3, 9, 45), notify=False
    )
    db.session.commit()
    with force_locale("en"):
        rows = {str(r[0]): r[1:] for r in reports.first_response_by_channel(period(), NOW).rows}
    assert rows["WhatsApp"] == [1, 45.0, 45.0, 45.0, 100.0]
    week["lead"].language = "en"
    db.session.commit()
    login(week["lead"])
    page = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    section = page.split("First response by channel")[1].split("</table>")[0]
    assert "WhatsApp" in section and "45 minutes" in section and "100.0%" in section
    csv_file = client.get(f"/reports/export/first_response_channels.csv?{PERIOD}")
    assert csv_file.status_code == 200 and "WhatsApp,1,45" in csv_file.get_data(as_text=True)
