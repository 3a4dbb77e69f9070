"""Custom fields in the ticket export and in ticket search (text fields are searched)."""

import json

from helpdesk import search
from helpdesk.custom_fields import service as fields
from helpdesk.custom_fields.models import FieldType
from helpdesk.extensions import db
from helpdesk.tickets.search import search_tickets
from tests.custom_fields.helpers import make_field, make_return_type
from tests.factories import make_customer, make_order, make_ticket


def test_the_export_holds_the_request_type_and_every_field_by_key(app):
    returns = make_return_type()
    make_field("waybill", FieldType.TEXT)
    make_field("sizes", FieldType.MULTI_SELECT, options=[("s", "ص", "S"), ("m", "م", "M")])
    customer = make_customer()
    order = make_order(customer, number="SO-77")
    db.session.commit()
    ticket = make_ticket(customer=customer)
    fields.set_request_type(ticket, returns, actor=None)
    fields.set_ticket_fields(
        ticket,
        {"order_ref": "SO-77", "reason": "damaged", "photos": True, "waybill": "WB 123", "sizes": ["m", "s"]},
        actor=None,
        locale="en",
    )
    make_ticket()
    db.session.commit()
    order_id = order.id  # the export lets go of the session's objects
    result = app.test_cli_runner().invoke(args=["export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines() if line.startswith("{"))
    assert first["request_type"] == "return"
    assert first["fields"] == {
        "order_ref": order_id,
        "reason": "damaged",
        "photos": True,
        "waybill": "WB 123",
        "sizes": ["m", "s"],
    }
    assert second["request_type"] is None and second["fields"] == {}


def test_text_fields_are_searched_and_a_change_reindexes_the_ticket(app):
    make_field("waybill", FieldType.TEXT)
    make_field("fault", FieldType.LONG_TEXT)
    make_field("courier", FieldType.DROPDOWN, options=[("smsa", "سمسا", "SMSA")])
    ticket = make_ticket(subject="Parcel question", body="Hello")
    other = make_ticket(subject="Another", body="Hi")
    db.session.commit()
    search.apply_pending_jobs()
    assert search_tickets("ZX99182").hits == []
    fields.set_ticket_fields(
        ticket,
        {"waybill": "ZX99182", "fault": "الشاشة مكسورة من الزاوية", "courier": "smsa"},
        actor=None,
        locale="en",
    )
    db.session.commit()
    search.apply_pending_jobs()
    assert [h.fields["number"] for h in search_tickets("ZX99182")] == [ticket.number]
    assert [h.fields["number"] for h in search_tickets("مكسورة")] == [ticket.number]
    fields.set_ticket_fields(other, {"courier": "smsa"}, actor=None, locale="en")  # not a text field
    db.session.commit()
    # A rebuild from the database reads the fields in bulk, with the same result.
    assert search.reindex()["tickets"] == 2
    assert [h.fields["number"] for h in search_tickets("ZX99182")] == [ticket.number]
