"""The dashboard's breakdowns by request type and by a dropdown field, on the hand-worked week of
``test_dashboard`` (see its docstring for each ticket's figures).

Request types: return = T1, T2; where-is-my-order = T3, T5; T4 and T6 have none.
Reason (dropdown): T1 damaged, T2 wrong size, T3 damaged; T4, T5, T6 not set.
"""

import csv
import io

from flask_babel import force_locale

from helpdesk.auth.models import Role
from helpdesk.custom_fields import service as fields
from helpdesk.custom_fields.models import FieldType
from helpdesk.extensions import db
from helpdesk.reports import service as reports
from helpdesk.tickets import service as tickets
from tests.custom_fields.helpers import REASONS, make_field
from tests.factories import count_queries, make_customer, make_staff
from tests.reports.test_dashboard import NOW, PERIOD, period, riyadh, sign_in_lead


def typed(week):
    admin = make_staff(Role.ADMIN)
    reason = make_field(
        "reason", FieldType.DROPDOWN, options=REASONS, admin=admin, label_ar="سبب الإرجاع", label_en="Reason"
    )
    types = {}
    for key, ar, en in (
        ("return", "إرجاع منتج", "Return an item"),
        ("wismo", "أين طلبي", "Where is my order"),
    ):
        types[key] = fields.save_request_type(None, actor=admin, key=key, name_ar=ar, name_en=en)
    t1, t2, t3, _t4, t5, _t6 = week["tickets"]
    for ticket, kind in ((t1, "return"), (t2, "return"), (t3, "wismo"), (t5, "wismo")):
        fields.set_request_type(ticket, types[kind], actor=None)
    for ticket, value in ((t1, "damaged"), (t2, "wrong_size"), (t3, "damaged")):
        fields.set_ticket_fields(ticket, {"reason": value}, actor=None, locale="en")
    db.session.commit()
    return types, reason


def rows_of(table):
    return [[str(row[0]), *row[1:]] for row in table.rows]


def test_compliance_volume_and_csat_by_request_type(app, week):
    typed(week)
    with force_locale("en"):
        by_type = rows_of(reports.by_request_type(period(), NOW))
        billing = rows_of(reports.by_request_type(period(queue_id=week["billing"].id), NOW))
    # name, tickets, FR met, FR missed, FR %, resolution %, CSAT average, ratings
    assert by_type == [
        ["Return an item", 2, 1, 1, 50.0, 100.0, 3.5, 2],
        ["Where is my order", 2, 1, 1, 50.0, 100.0, 4.0, 1],
        ["No request type", 2, 0, 2, 0.0, None, None, 0],
    ]
    assert billing == [
        ["Return an item", 2, 1, 1, 50.0, 100.0, 3.5, 2],
        ["Where is my order", 1, 1, 0, 100.0, 100.0, 4.0, 1],
    ]


def test_compliance_volume_and_csat_by_a_dropdown_field_keeps_retired_options_that_hold_values(app, week):
    _types, reason = typed(week)
    with force_locale("en"):
        table = reports.by_field(period(field_key="reason"), NOW)
        assert str(table.title) == "By Reason"
        rows = rows_of(table)
    assert rows == [
        ["Damaged", 2, 1, 1, 50.0, 100.0, 5.0, 1],
        ["Wrong size", 1, 0, 1, 0.0, 100.0, 2.0, 1],
        ["Late", 0, 0, 0, None, None, None, 0],
        ["Not set", 3, 1, 2, 33.3, 100.0, 4.0, 1],
    ]
    # Retire "wrong size" and "late": the one tickets hold stays, with its label; the unused one goes.
    fields.save_field(
        reason,
        actor=make_staff(Role.ADMIN),
        options=[REASONS[0]],
        key="reason",
        type=FieldType.DROPDOWN,
        scope=reason.scope,
        label_ar=reason.label_ar,
        label_en=reason.label_en,
    )
    db.session.commit()
    with force_locale("en"):
        rows = rows_of(reports.by_field(period(field_key="reason"), NOW))
    assert [r[0] for r in rows] == [
        "Damaged",
        "Wrong size",
        "Not set",
    ]


def test_without_dropdown_fields_the_field_breakdown_says_so(app, week):
    with force_locale("en"):
        table = reports.by_field(period(), NOW)
        assert table.rows == [] and str(table.note) == "No dropdown field is defined yet."


def test_dashboard_shows_compliance_by_request_type_and_by_the_chosen_field(client, login, week):
    typed(week)
    other = make_field("courier", FieldType.DROPDOWN, options=[("smsa", "سمسا", "SMSA")], label_en="Courier")
    sign_in_lead(login, week, "en")
    page = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    assert 'id="table-by_type"' in page and "<caption>By request type</caption>" in page
    assert '<th scope="row">Return an item</th><td>2</td><td>1</td><td>1</td><td>50.0%</td>' in page
    assert "<caption>By Reason</caption>" in page  # the first dropdown field by default
    assert '<img src="/reports/chart/by_type.svg?' in page
    chosen = client.get(f"/reports?{PERIOD}&field=courier").get_data(as_text=True)
    assert "<caption>By Courier</caption>" in chosen and "SMSA" in chosen
    assert f'<option selected value="{other.key}">Courier</option>' in chosen
    assert (
        'href="/reports/export/by_field.csv?start=2025-11-02&amp;end=2025-11-08&amp;field=courier"' in chosen
    )
    unknown = client.get(f"/reports?{PERIOD}&field=nope")
    assert unknown.status_code == 400 and "<caption>By Reason</caption>" in unknown.get_data(as_text=True)


def test_breakdowns_in_arabic_and_as_csv_and_chart(client, login, week):
    typed(week)
    sign_in_lead(login, week, "ar")
    page = client.get(f"/reports?{PERIOD}").get_data(as_text=True)
    assert "<caption>حسب نوع الطلب</caption>" in page and "إرجاع منتج" in page
    assert "<caption>حسب سبب الإرجاع</caption>" in page and "بلا نوع طلب" in page and "غير محدد" in page
    body = client.get(f"/reports/export/by_type.csv?{PERIOD}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][0] == "نوع الطلب"
    assert rows[1] == ["إرجاع منتج", "2", "1", "1", "50.0", "100.0", "3.5", "2"]
    by_reason = client.get(f"/reports/export/by_field.csv?{PERIOD}&field=reason").get_data(as_text=True)
    assert "تالف,2,1,1,50.0,50.0,5,1" in by_reason  # T3 is past its resolution target by now
    svg = client.get(f"/reports/chart/by_type.svg?{PERIOD}&lang=en").get_data(as_text=True)
    assert ">SLA compliance by request type (%)</title>" in svg
    assert "Return an item: 50" in svg and "<script" not in svg


def test_breakdown_queries_do_not_grow_with_types_options_or_tickets(client, login, week):
    typed(week)
    login(week["lead"])
    with count_queries() as few:
        assert client.get(f"/reports?{PERIOD}").status_code == 200
    admin = make_staff(Role.ADMIN)
    many_options = [(f"o{i}", f"خيار {i}", f"Option {i}") for i in range(8)]
    make_field("extra", FieldType.DROPDOWN, options=many_options, admin=admin)
    for i in range(5):
        kind = fields.save_request_type(
            None, actor=admin, key=f"kind{i}", name_ar=f"نوع {i}", name_en=f"Kind {i}"
        )
        t = tickets.open_ticket(
            customer=make_customer(), subject=f"more {i}", body="x", created_at=riyadh(2025, 11, 3, 9, i)
        )
        fields.set_request_type(t, kind, actor=None)
        fields.set_ticket_fields(t, {"reason": "late", "extra": f"o{i}"}, actor=None, locale="en")
    db.session.commit()
    with count_queries() as many:
        assert client.get(f"/reports?{PERIOD}").status_code == 200
    assert len(many) == len(few)
    with count_queries() as chosen:
        assert client.get(f"/reports?{PERIOD}&field=extra").status_code == 200
    assert len(chosen) == len(few)
