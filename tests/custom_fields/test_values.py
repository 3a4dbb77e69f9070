"""Custom field values: every type parsed and stored in its typed column, bad input refused whole."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.custom_fields import service
from helpdesk.custom_fields.models import FieldScope, FieldType, TicketFieldValue
from helpdesk.custom_fields.values import InvalidFieldValue, active_fields, plain, stored_values
from helpdesk.extensions import db
from helpdesk.tickets.errors import NotAllowed
from tests.custom_fields.helpers import REASONS, make_field
from tests.factories import make_customer, make_order, make_staff, make_ticket


@pytest.fixture(autouse=True)
def in_english(app):
    """The messages these tests read are the English ones (the install's default is Arabic)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _set(ticket, values, **kwargs):
    kwargs.setdefault("actor", make_staff())
    changes = service.set_ticket_fields(ticket, values, locale="en", **kwargs)
    db.session.commit()
    return changes


def _values(ticket) -> dict:
    stored = stored_values(ticket.id)
    return {f.key: plain(f, stored.get(f.id, [])) for f in active_fields()}


def test_every_type_is_stored_in_its_column_and_read_back(app):
    admin = make_staff(Role.ADMIN)
    for key, kind in [
        ("courier", FieldType.TEXT),
        ("details", FieldType.LONG_TEXT),
        ("boxes", FieldType.NUMBER),
        ("weight", FieldType.DECIMAL),
        ("delivered_on", FieldType.DATE),
        ("gift", FieldType.YES_NO),
        ("order_ref", FieldType.ORDER),
    ]:
        make_field(key, kind, admin=admin)
    make_field("reason", FieldType.DROPDOWN, options=REASONS, admin=admin)
    make_field("issues", FieldType.MULTI_SELECT, options=REASONS, admin=admin)
    customer = make_customer()
    order = make_order(customer, number="5501-SO")
    ticket = make_ticket(customer=customer)
    _set(
        ticket,
        {
            "courier": "  سمسا   SMSA ",
            "details": "line one\nline two",
            "boxes": "3",
            "weight": "2.75",
            "delivered_on": "2026-11-30",
            "gift": "yes",
            "order_ref": "5501-SO",
            "reason": "damaged",
            "issues": ["late", "damaged", "late"],
        },
    )
    assert _values(ticket) == {
        "courier": "سمسا SMSA",
        "details": "line one\nline two",
        "boxes": 3,
        "weight": "2.75",
        "delivered_on": "2026-11-30",
        "gift": True,
        "order_ref": order.id,
        "reason": "damaged",
        "issues": ["late", "damaged"],
    }
    rows = db.session.scalars(select(TicketFieldValue).where(TicketFieldValue.ticket_id == ticket.id)).all()
    assert {r.value_date for r in rows if r.value_date} == {date(2026, 11, 30)}
    assert Decimal("2.75") in {r.value_number for r in rows}


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (FieldType.NUMBER, "three", "Give a number."),
        (FieldType.NUMBER, "2.5", "Give a whole number."),
        (FieldType.DECIMAL, "1e400", "Give a number."),
        (FieldType.DATE, "30/11/2026", "Write the date as YYYY-MM-DD."),
        (FieldType.YES_NO, "maybe", "Answer yes or no."),
        (FieldType.DROPDOWN, "lost", "“lost” is not one of the options."),
        (FieldType.TEXT, ["a", "b"], "Give one value."),
        (FieldType.ORDER, "9999-SO", "Choose one of the customer's orders."),
    ],
)
def test_a_wrong_value_is_refused_with_a_message_and_nothing_is_written(app, kind, value, message):
    make_field("good", FieldType.TEXT)
    make_field("bad", kind, options=REASONS if kind.has_options else ())
    ticket = make_ticket()
    with pytest.raises(InvalidFieldValue) as refused:
        service.set_ticket_fields(ticket, {"good": "kept?", "bad": value}, actor=make_staff(), locale="en")
    assert message in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(TicketFieldValue.id)) is None


def test_the_refusal_is_in_the_readers_language(app):
    make_field("boxes", FieldType.NUMBER, label_ar="عدد الصناديق")
    ticket = make_ticket()
    with (
        app.test_request_context(headers={"Accept-Language": "ar"}),
        pytest.raises(InvalidFieldValue) as refused,
    ):
        service.set_ticket_fields(ticket, {"boxes": "x"}, actor=make_staff(), locale="ar")
    assert refused.value.message.startswith("عدد الصناديق: ")
    assert "Give" not in refused.value.message


def test_an_order_of_another_customer_is_refused(app):
    make_field("order_ref", FieldType.ORDER)
    someone_else = make_customer()
    make_order(someone_else, number="7777-SO")
    with pytest.raises(InvalidFieldValue):
        service.set_ticket_fields(make_ticket(), {"order_ref": "7777-SO"}, actor=make_staff(), locale="en")


def test_a_missing_required_field_is_refused(app):
    field = make_field("reason", FieldType.DROPDOWN, options=REASONS, required_for_agents=True)
    with pytest.raises(InvalidFieldValue, match="is required"):
        service.set_ticket_fields(
            make_ticket(), {"reason": ""}, actor=make_staff(), locale="en", required=[field.id]
        )


def test_unknown_keys_are_refused(app):
    with pytest.raises(InvalidFieldValue, match="Unknown field: nope"):
        service.set_ticket_fields(make_ticket(), {"nope": "1"}, actor=make_staff(), locale="en")


def test_a_customer_changes_only_fields_they_may_edit(app):
    make_field("national_id", FieldType.TEXT, visible_to_customers=True, editable_by_customers=False)
    make_field("city", FieldType.TEXT, visible_to_customers=True, editable_by_customers=True)
    customer = make_customer()
    ticket = make_ticket(customer=customer)
    _set(ticket, {"city": "الرياض"}, actor=customer)
    with pytest.raises(NotAllowed):
        service.set_ticket_fields(ticket, {"national_id": "1"}, actor=customer, locale="en")


def test_a_retired_option_keeps_its_value_and_label_but_is_not_offered_for_new_values(app):
    admin = make_staff(Role.ADMIN)
    field = make_field("reason", FieldType.DROPDOWN, options=REASONS, admin=admin)
    kept = make_ticket()
    _set(kept, {"reason": "late"})
    service.save_field(
        field,
        actor=admin,
        options=REASONS[:2],
        **{k: getattr(field, k) for k in ("key", "type", "scope", "label_ar", "label_en")},
    )
    db.session.commit()
    assert [o.value for o in field.active_options] == ["damaged", "wrong_size"]
    assert _values(kept)["reason"] == "late"
    _set(kept, {"reason": "late"})  # saving the form unchanged keeps it
    with pytest.raises(InvalidFieldValue):
        service.set_ticket_fields(make_ticket(), {"reason": "late"}, actor=admin, locale="en")


def test_changes_are_published_as_ticket_changes(app):
    from helpdesk import events

    make_field("courier", FieldType.TEXT)
    ticket = make_ticket()
    seen = []

    def receiver(sender, **details):
        seen.append(details["changes"])

    events.ticket_changed.connect(receiver)
    try:
        _set(ticket, {"courier": "Aramex"})
    finally:
        events.ticket_changed.disconnect(receiver)
    assert seen == [{"field:courier": (None, "Aramex")}]


def test_a_field_in_use_is_archived_not_deleted_and_its_type_cannot_change(app):
    admin = make_staff(Role.ADMIN)
    used = make_field("courier", FieldType.TEXT, admin=admin)
    unused = make_field("spare", FieldType.TEXT, admin=admin)
    _set(make_ticket(), {"courier": "SMSA"})
    with pytest.raises(NotAllowed):
        service.save_field(
            used,
            actor=admin,
            key="courier",
            type=FieldType.NUMBER,
            scope=FieldScope.TICKET,
            label_ar="x",
            label_en="x",
        )
    db.session.rollback()
    assert service.archive_or_delete_field(used, actor=admin) is False
    assert service.archive_or_delete_field(unused, actor=admin) is True
    db.session.commit()
    assert used.is_active is False
    assert db.session.scalar(select(TicketFieldValue.value_text)) == "SMSA"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert {"custom_field.created", "custom_field.archived", "custom_field.deleted"} <= set(actions)


def test_customer_fields_are_kept_per_customer(app):
    make_field(
        "preferred_language",
        FieldType.DROPDOWN,
        scope=FieldScope.CUSTOMER,
        options=[("ar", "العربية", "Arabic"), ("en", "الإنجليزية", "English")],
    )
    customer = make_customer()
    service.set_customer_fields(customer, {"preferred_language": "ar"}, actor=make_staff(), locale="en")
    db.session.commit()
    stored = stored_values(customer.id, FieldScope.CUSTOMER)
    assert [r.value_text for rows in stored.values() for r in rows] == ["ar"]
