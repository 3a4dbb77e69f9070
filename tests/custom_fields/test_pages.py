"""The admin field editor, the ticket page's fields zone and the queue's field filters, through HTTP."""

from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.custom_fields.models import CustomField, FieldType
from helpdesk.custom_fields.values import active_fields, plain, stored_values
from helpdesk.extensions import db
from tests.custom_fields.helpers import REASONS, make_field
from tests.factories import count_queries, make_customer, make_order, make_staff, make_ticket


def _values(ticket) -> dict:
    stored = stored_values(ticket.id)
    return {f.key: plain(f, stored.get(f.id, [])) for f in active_fields()}


def test_an_admin_defines_a_dropdown_field_with_ordered_bilingual_options(client, login):
    login(make_staff(Role.ADMIN))
    assert client.get("/admin/fields/new").status_code == 200
    response = client.submit(
        "/admin/fields/new",
        {
            "key": "reason",
            "type": "dropdown",
            "scope": "ticket",
            "label_ar": "سبب الإرجاع",
            "label_en": "Reason for return",
            "help_en": "Why the customer sends it back",
            "options": "damaged | تالف | Damaged\nwrong_size | مقاس غير مناسب | Wrong size",
            "visible_to_customers": "y",
        },
    )
    assert response.status_code == 303
    field = db.session.scalar(select(CustomField).where(CustomField.key == "reason"))
    assert [(o.value, o.label_ar, o.label_en) for o in field.options] == [
        ("damaged", "تالف", "Damaged"),
        ("wrong_size", "مقاس غير مناسب", "Wrong size"),
    ]
    assert db.session.scalar(
        select(AuditEvent.action).where(AuditEvent.target == f"custom_field:{field.id}")
    ) == ("custom_field.created")
    page = client.get("/admin/fields").get_data(as_text=True)
    assert "سبب الإرجاع" in page


def test_a_bad_field_definition_is_shown_again_with_the_reason(client, login):
    login(make_staff(Role.ADMIN, language="en"))
    response = client.submit(
        "/admin/fields/new",
        {"key": "Bad Key!", "type": "dropdown", "scope": "ticket", "label_ar": "س", "label_en": "S"},
    )
    assert response.status_code == 400
    assert "lower-case Latin letters" in response.get_data(as_text=True)
    assert db.session.scalar(select(CustomField.id)) is None


def test_agents_cannot_reach_the_field_editor(client, login):
    login(make_staff(Role.AGENT))
    assert client.get("/admin/fields").status_code == 403
    assert client.submit("/admin/fields/new", {"key": "x"}).status_code == 403


def test_the_agent_fills_in_the_fields_on_the_ticket_page_without_javascript(client, login):
    make_field("reason", FieldType.DROPDOWN, options=REASONS, label_en="Reason for return")
    make_field("order_ref", FieldType.ORDER, label_en="Order")
    customer = make_customer()
    order = make_order(customer, number="5501-SO")
    ticket = make_ticket(customer=customer)
    login(make_staff(language="en"))
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert 'name="cf-reason"' in page and "5501-SO" in page
    response = client.submit(
        f"/agent/tickets/{ticket.number}/fields", {"cf-reason": "damaged", "cf-order_ref": str(order.id)}
    )
    assert response.status_code == 303
    assert _values(ticket) == {"reason": "damaged", "order_ref": order.id}
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "<dd><bdi>Damaged</bdi></dd>" in page


def test_with_htmx_the_zone_is_swapped_and_a_wrong_value_is_refused_in_place(client, login):
    make_field("boxes", FieldType.NUMBER, label_en="Boxes")
    ticket = make_ticket()
    login(make_staff(language="en"))
    response = client.submit(
        f"/agent/tickets/{ticket.number}/fields", {"cf-boxes": "many"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("{#") is False and 'id="ticket-fields"' in html
    assert "Boxes: Give a number." in html and 'value="many"' in html
    assert _values(ticket) == {"boxes": None}
    response = client.submit(
        f"/agent/tickets/{ticket.number}/fields", {"cf-boxes": "4"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "<dd><bdi>4</bdi></dd>" in response.get_data(as_text=True)


def test_the_fields_form_needs_its_csrf_token(client, login):
    make_field("boxes", FieldType.NUMBER)
    ticket = make_ticket()
    login(make_staff(language="en"))
    assert client.post(f"/agent/tickets/{ticket.number}/fields", data={"cf-boxes": "4"}).status_code == 400
    assert _values(ticket) == {"boxes": None}


def test_the_queue_filters_by_a_field(client, login):
    make_field("reason", FieldType.DROPDOWN, options=REASONS, label_en="Reason for return")
    from helpdesk.custom_fields import service

    agent = make_staff(language="en")
    damaged = make_ticket(subject="Broken vase")
    late = make_ticket(subject="Late parcel")
    service.set_ticket_fields(damaged, {"reason": "damaged"}, actor=agent, locale="en")
    service.set_ticket_fields(late, {"reason": "late"}, actor=agent, locale="en")
    db.session.commit()
    login(agent)
    page = client.get("/agent?view=open&cf_reason=damaged").get_data(as_text=True)
    assert "Broken vase" in page and "Late parcel" not in page
    assert 'name="cf_reason"' in page
    refused = client.get("/agent?view=open&cf_reason=stolen")
    assert refused.status_code == 400 and "not one of the options" in refused.get_data(as_text=True)


def test_the_ticket_page_and_the_queue_cost_a_fixed_number_of_queries_whatever_the_fields(client, login):
    agent = make_staff(language="en")
    ticket = make_ticket()
    login(agent)
    make_field("first", FieldType.DROPDOWN, options=REASONS)
    client.get(f"/agent/tickets/{ticket.number}")
    with count_queries() as few:
        client.get(f"/agent/tickets/{ticket.number}")
    with count_queries() as queue_few:
        client.get("/agent?view=open")
    from helpdesk.custom_fields import service

    for i in range(8):
        make_field(
            f"field_{i}",
            FieldType.MULTI_SELECT if i % 2 else FieldType.TEXT,
            options=REASONS if i % 2 else (),
        )
    service.set_ticket_fields(
        ticket, {"field_1": ["late", "damaged"], "field_2": "x"}, actor=agent, locale="en"
    )
    db.session.commit()
    with count_queries() as many:
        assert client.get(f"/agent/tickets/{ticket.number}").status_code == 200
    with count_queries() as queue_many:
        assert client.get("/agent?view=open&cf_field_1=late").status_code == 200
    assert len(many) == len(few) <= 25
    assert len(queue_many) == len(queue_few) <= 16
