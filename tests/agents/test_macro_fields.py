"""Macros that fill in custom fields and use them as ``{{ field_<key> }}`` placeholders."""

from helpdesk.auth.models import Role
from helpdesk.custom_fields import service as fields
from helpdesk.custom_fields.models import FieldType
from helpdesk.custom_fields.values import active_fields, plain, stored_values
from helpdesk.extensions import db
from helpdesk.tickets.models import Macro, MessageKind, Ticket
from tests.agents.test_macros import macro_form
from tests.custom_fields.helpers import make_field, make_return_type
from tests.factories import count_queries, make_staff, make_ticket


def values_of(ticket: Ticket) -> dict:
    by_id = {f.id: f for f in active_fields()}
    return {by_id[i].key: plain(by_id[i], rows) for i, rows in stored_values(ticket.id).items()}


def test_a_supervisor_saves_a_macro_that_fills_fields_and_it_comes_back(client, login):
    make_return_type()
    make_field(
        "courier", FieldType.DROPDOWN, options=[("smsa", "سمسا", "SMSA"), ("aramex", "أرامكس", "Aramex")]
    )
    login(make_staff(Role.SUPERVISOR, language="en"))
    page = client.get("/agent/macros/new").get_data(as_text=True)
    assert "Fill in fields" in page and 'name="cf-courier"' in page
    assert 'name="cf-order_ref"' not in page  # an order depends on the customer
    assert "{{ field_courier }}" in page and "the field «Courier»" in page
    sent = macro_form(**{"cf-courier": "aramex", "cf-photos": "yes", "cf-reason": ""})
    assert client.submit("/agent/macros/new", sent).status_code == 303
    macro = db.session.scalar(db.select(Macro))
    assert macro.set_fields == {"courier": "aramex", "photos": True}
    page = client.get(f"/agent/macros/{macro.id}").get_data(as_text=True)
    assert '<option value="aramex" selected>Aramex</option>' in page
    assert '<option value="yes" selected>Yes</option>' in page


def test_a_wrong_field_value_refuses_the_macro_with_the_fields_name(client, login):
    make_return_type()
    login(make_staff(Role.SUPERVISOR, language="ar"))
    response = client.submit("/agent/macros/new", macro_form(**{"cf-reason": "stolen"}))
    assert response.status_code == 400
    assert "سبب الإرجاع" in response.get_data(
        as_text=True
    ) and "ليس من الخيارات المتاحة" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Macro)) is None


def test_applying_a_macro_sets_its_fields_and_fills_field_placeholders(client, login):
    make_return_type()
    make_field(
        "courier", FieldType.DROPDOWN, options=[("smsa", "سمسا", "SMSA"), ("aramex", "أرامكس", "Aramex")]
    )
    ticket = make_ticket()
    fields.set_ticket_fields(ticket, {"reason": "damaged"}, actor=None, locale="en")
    arabic = Macro(
        name="شحن",
        locale="ar",
        body="سبب الإرجاع: {{ field_reason }}، شركة الشحن: {{ field_courier }}.",
        set_fields={"courier": "smsa", "photos": True},
    )
    db.session.add(arabic)
    db.session.commit()
    login(make_staff())
    text = client.get(f"/agent/tickets/{ticket.number}/macros/{arabic.id}/text").get_data(as_text=True)
    assert text == "سبب الإرجاع: تالف، شركة الشحن: {{ field_courier }}."  # not set yet: the marker stays
    # The reply is written from the ticket as it is: a field without a value refuses it, and nothing
    # (its fields included) is changed.
    refused = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": arabic.id, "version": ticket.version}
    )
    assert refused.status_code == 409 and "{{ field_courier }}" in refused.get_data(as_text=True)
    assert "courier" not in values_of(ticket)
    # A reply typed by hand with the marker is refused the same way.
    typed = {"body": "Courier: {{ field_courier }}", "kind": "reply", "version": ticket.version}
    assert client.submit(f"/agent/tickets/{ticket.number}/reply", typed).status_code == 400
    fields.set_ticket_fields(ticket, {"courier": "aramex"}, actor=None, locale="en")
    db.session.commit()
    response = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": arabic.id, "version": ticket.version}
    )
    assert response.status_code == 303
    ticket = db.session.get(Ticket, ticket.id)
    reply = [m for m in ticket.messages if m.kind == MessageKind.REPLY][-1]
    assert reply.body_text == "سبب الإرجاع: تالف، شركة الشحن: أرامكس."
    assert values_of(ticket) == {"reason": "damaged", "courier": "smsa", "photos": True}


def test_a_field_archived_after_the_macro_was_saved_is_left_alone(client, login):
    make_return_type()
    courier = make_field("courier", FieldType.TEXT)
    macro = Macro(name="Set", locale="en", body="Done.", set_fields={"courier": "SMSA", "reason": "late"})
    db.session.add(macro)
    db.session.commit()
    fields.archive_or_delete_field(courier, actor=make_staff(Role.ADMIN))
    db.session.commit()
    ticket = make_ticket()
    login(make_staff())
    response = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": macro.id, "version": ticket.version}
    )
    assert response.status_code == 303
    assert values_of(ticket) == {"reason": "late"}


def test_macro_editor_query_count_does_not_grow_with_fields(client, login):
    make_return_type()
    login(make_staff(Role.SUPERVISOR))
    macro = Macro(name="m", locale="en", body="x", set_fields={"reason": "late"})
    db.session.add(macro)
    db.session.commit()
    with count_queries() as few:
        assert client.get(f"/agent/macros/{macro.id}").status_code == 200
    for i in range(5):
        make_field(f"extra{i}", FieldType.DROPDOWN, options=[("a", "أ", "A"), ("b", "ب", "B")])
    with count_queries() as many:
        assert client.get(f"/agent/macros/{macro.id}").status_code == 200
    assert len(many) == len(few) <= 7
