"""Rules that read a ticket's request type and custom fields, and set a field: validation, the trigger
on a portal case (fields written just after the ticket row), the SQL pass, the editor's pickers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from helpdesk.auth.models import Role
from helpdesk.automations import service
from helpdesk.automations.conditions import rule_to_sql
from helpdesk.automations.models import AutomationRule, RuleKind
from helpdesk.automations.runs import run_automations
from helpdesk.custom_fields import service as fields
from helpdesk.custom_fields.models import FieldType
from helpdesk.custom_fields.values import stored_values
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Priority, Ticket
from tests.automations.test_automation_editor import form_of
from tests.automations.test_automation_rules import automation_events
from tests.custom_fields.helpers import make_field, make_return_type
from tests.factories import make_automation, make_customer, make_order, make_staff, make_ticket


def field_values(ticket: Ticket) -> dict:
    from helpdesk.custom_fields.values import plain

    by_id = {f.id: f for f in fields.active_fields()}
    return {by_id[i].key: plain(by_id[i], rows) for i, rows in stored_values(ticket.id).items()}


def test_a_trigger_on_a_portal_case_reads_its_type_and_fields_and_sets_a_field(app, client, login):
    returns = make_return_type()
    make_field(
        "courier", FieldType.DROPDOWN, options=[("smsa", "سمسا", "SMSA"), ("aramex", "أرامكس", "Aramex")]
    )
    make_automation(
        name="Damaged returns",
        events=["created"],
        conditions={
            "all": [
                {"field": "request_type", "op": "is", "value": [returns.id]},
                {"field": "cf.reason", "op": "is", "value": ["damaged"]},
            ]
        },
        actions=[
            {"type": "set_priority", "value": "high"},
            {"type": "set_field", "value": {"field": "courier", "value": "aramex"}},
        ],
    )
    customer = make_customer(email="sara@example.com")
    make_order(customer, number="SO-9")
    db.session.commit()
    login(customer)
    for reason, subject in (("damaged", "Broken mug"), ("late", "Slow parcel")):
        response = client.submit(
            "/portal/cases/new?type=return",
            {"subject": subject, "body": "Please help.", "cf-order_ref": "SO-9", "cf-reason": reason},
        )
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    damaged = db.session.query(Ticket).filter_by(subject="Broken mug").one()
    late = db.session.query(Ticket).filter_by(subject="Slow parcel").one()
    assert damaged.priority == Priority.HIGH and field_values(damaged)["courier"] == "aramex"
    assert late.priority != Priority.HIGH and "courier" not in field_values(late)
    assert automation_events(damaged) == [
        "Automation «Damaged returns» set priority to High, set the field courier = aramex"
    ]


def test_an_email_ticket_typed_by_its_subject_meets_a_created_trigger_on_its_request_type(app):
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.models import Channel

    returns = make_return_type()
    make_automation(
        name="Returns by email",
        events=["created"],
        conditions={"all": [{"field": "request_type", "op": "is", "value": [returns.id]}]},
        actions=[{"type": "add_tags", "value": ["returns-desk"]}],
    )
    ticket = tickets.open_ticket(
        customer=make_customer(),
        subject="I want to return my shoes",
        body="Too small.",
        channel=Channel.EMAIL,
    )
    db.session.commit()
    assert ticket.request_type_id == returns.id
    assert "returns-desk" in [t.name for t in ticket.tags]


def test_field_conditions_in_python_and_in_sql_agree(app):
    make_return_type()
    make_field("city", FieldType.TEXT)
    make_field("units", FieldType.NUMBER)
    make_field("note", FieldType.LONG_TEXT)
    tickets = [make_ticket(subject=f"t{i}") for i in range(4)]
    values = [
        {"reason": "damaged", "city": "Riyadh", "units": 3, "note": "الزجاج مكسور"},
        {"reason": "late", "city": "Jeddah", "units": 10},
        {"photos": True},
        {},
    ]
    for ticket, filled in zip(tickets, values, strict=True):
        fields.set_ticket_fields(ticket, filled, actor=None, locale="en")
    db.session.commit()
    cases = [
        ({"field": "cf.reason", "op": "is", "value": ["damaged", "late"]}, [0, 1]),
        ({"field": "cf.reason", "op": "is_not", "value": ["damaged"]}, [1, 2, 3]),
        ({"field": "cf.city", "op": "is", "value": ["riyadh"]}, [0]),  # text: regardless of case
        ({"field": "cf.units", "op": "is", "value": ["10"]}, [1]),
        ({"field": "cf.photos", "op": "is", "value": ["yes"]}, [2]),
        ({"field": "cf.reason", "op": "set", "value": None}, [0, 1]),
        ({"field": "cf.reason", "op": "empty", "value": None}, [2, 3]),
        ({"field": "cf.note", "op": "contains", "value": ["مكسور"]}, [0]),
    ]
    from helpdesk.automations.conditions import Facts, rule_holds

    ids = [t.id for t in tickets]
    for condition, expected in cases:
        cleaned = service.clean_conditions({"all": [condition]}, RuleKind.AUTOMATION)
        in_python = [i for i, t in enumerate(tickets) if rule_holds(cleaned, Facts(ticket=t, now=utcnow()))]
        assert in_python == expected, condition
        found = set(db.session.scalars(db.select(Ticket.id).where(rule_to_sql(cleaned, utcnow()))))
        in_sql = [i for i, ticket_id in enumerate(ids) if ticket_id in found]
        if condition["op"] == "contains":
            assert set(expected) <= set(in_sql)  # a superset: Python decides
        else:
            assert in_sql == expected, condition


def test_wrong_field_conditions_and_values_are_refused_in_the_readers_language(app):
    make_return_type()
    bad = [
        ({"all": [{"field": "cf.nope", "op": "is", "value": ["x"]}]}, [], "cannot be used with"),
        ({"all": [{"field": "cf.reason", "op": "is", "value": ["stolen"]}]}, [], "is not one of the options"),
        ({"all": [{"field": "cf.order_ref", "op": "is", "value": ["1"]}]}, [], "cannot be used with"),
        ({"all": [{"field": "request_type", "op": "is", "value": [999]}]}, [], "Unknown request type"),
        ({"all": []}, [{"type": "set_field", "value": {"field": "reason", "value": "stolen"}}], "not one of"),
        ({"all": []}, [{"type": "set_field", "value": {"field": "nope", "value": "x"}}], "a field the rule"),
    ]
    for conditions, actions, message in bad:
        with pytest.raises(service.InvalidRule, match=message), force_locale("en"):
            service.save_rule(
                None,
                actor=None,
                name="Bad",
                kind=RuleKind.TRIGGER,
                events=["created"],
                conditions=conditions,
                actions=actions or [{"type": "add_tags", "value": ["x"]}],
            )
    with (
        pytest.raises(service.InvalidRule, match="ليس من الخيارات المتاحة"),
        force_locale("ar"),
    ):
        service.clean_conditions(
            {"all": [{"field": "cf.reason", "op": "is", "value": ["stolen"]}]}, RuleKind.TRIGGER
        )


def test_an_automation_that_sets_the_field_it_checks_is_safe_and_runs_once(app):
    make_return_type()
    old = make_ticket(subject="Old return")
    fields.set_ticket_fields(old, {"reason": "late"}, actor=None, locale="en")
    old.created_at = utcnow() - timedelta(hours=30)
    db.session.commit()
    rule = make_automation(
        name="Escalate late returns",
        kind="automation",
        conditions={
            "all": [
                {"field": "cf.reason", "op": "is", "value": ["late"]},
                {"field": "hours_since_created", "op": "at_least", "value": {"hours": 24, "business": False}},
            ]
        },
        actions=[{"type": "set_field", "value": {"field": "reason", "value": "damaged"}}],
    )
    assert rule.actions == [{"type": "set_field", "value": {"field": "reason", "value": "damaged"}}]
    run_automations()
    run_automations()
    db.session.expire_all()
    assert field_values(db.session.get(Ticket, old.id))["reason"] == "damaged"
    assert automation_events(old) == ["Automation «Escalate late returns» set the field reason = damaged"]


def test_the_editor_offers_fields_and_request_types_and_a_saved_rule_comes_back(app, client, login):
    returns = make_return_type()
    make_field("tags_multi", FieldType.MULTI_SELECT, options=[("a", "أ", "A"), ("b", "ب", "B")])
    login(make_staff(Role.SUPERVISOR, language="en"))
    html = client.get("/admin/automations/new").get_data(as_text=True)
    assert '<option value="cf.reason:is">Reason for return is</option>' in html
    assert '<option value="cf.reason:empty">Reason for return is empty</option>' in html
    assert '<option value="request_type:is">Request type is</option>' in html
    assert '<option value="set_field.reason">Set the field Reason for return</option>' in html
    assert "set_field.order_ref" not in html  # an order depends on the customer
    picker = client.get("/admin/automations/picker?row=all-0&all-0-condition=cf.reason:is").get_data(
        as_text=True
    )
    assert 'value="damaged"> <bdi>Damaged</bdi>' in picker
    picker = client.get("/admin/automations/picker?row=all-1&all-1-condition=request_type:is").get_data(
        as_text=True
    )
    assert f'value="{returns.id}"> <bdi>Return an item</bdi>' in picker
    picker = client.get("/admin/automations/picker?row=action-0&action-0-type=set_field.photos").get_data(
        as_text=True
    )
    assert '<option value="yes">Yes</option>' in picker

    conditions = {
        "all": [
            {"field": "request_type", "op": "is", "value": [returns.id]},
            {"field": "cf.reason", "op": "is", "value": ["damaged", "late"]},
            {"field": "cf.photos", "op": "empty", "value": None},
        ],
        "any": [],
    }
    actions = [
        {"type": "set_field", "value": {"field": "photos", "value": True}},
        {"type": "set_field", "value": {"field": "tags_multi", "value": ["a", "b"]}},
        {"type": "set_request_type", "value": returns.id},
    ]
    rule = make_automation(name="Fields", conditions=conditions, actions=actions)
    html = client.get(f"/admin/automations/{rule.id}").get_data(as_text=True)
    assert '<option value="cf.reason:is" selected>' in html
    assert (
        '<option value="set_field.photos" selected>' in html
        and '<option value="yes" selected>Yes</option>' in html
    )
    assert (
        client.submit(f"/admin/automations/{rule.id}", form_of(html).to_dict(flat=False)).status_code == 303
    )
    db.session.expire_all()
    saved = db.session.get(AutomationRule, rule.id)
    assert saved.conditions == conditions
    assert saved.actions == actions


def test_the_editor_query_count_does_not_grow_with_fields_or_options(app, client, login, queries):
    make_return_type()
    login(make_staff(Role.SUPERVISOR, language="en"))
    with queries() as few:
        assert client.get("/admin/automations/new").status_code == 200
    for i in range(4):
        make_field(f"extra{i}", FieldType.DROPDOWN, options=[(f"o{j}", f"خ{j}", f"O{j}") for j in range(5)])
    with queries() as many:
        assert client.get("/admin/automations/new").status_code == 200
    assert len(many) == len(few)


def test_the_field_pickers_speak_arabic(app, client, login):
    make_return_type()
    login(make_staff(Role.SUPERVISOR, language="ar"))
    html = client.get("/admin/automations/new").get_data(as_text=True)
    assert "سبب الإرجاع" in html and "نوع الطلب" in html
    assert "تعيين الحقل سبب الإرجاع" in html and "فارغ" in html
