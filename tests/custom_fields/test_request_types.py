"""Request types: their admin page, the portal's type-first case form, KB suggestions, email rules."""

from sqlalchemy import select

from helpdesk import search
from helpdesk.auth.models import Role
from helpdesk.custom_fields.models import FieldType, RequestType
from helpdesk.custom_fields.values import active_fields, plain, stored_values
from helpdesk.extensions import db
from helpdesk.mail import inbound
from helpdesk.tickets.models import Ticket
from tests.custom_fields.helpers import make_field, make_return_type
from tests.factories import make_article, make_customer, make_order, make_staff
from tests.mail.mailfactory import make_email


def _values(ticket) -> dict:
    stored = stored_values(ticket.id)
    return {f.key: plain(f, stored.get(f.id, [])) for f in active_fields()}


def test_an_admin_builds_a_type_form_with_order_required_and_a_condition(client, login):
    admin = make_staff(Role.ADMIN)
    order = make_field("order_ref", FieldType.ORDER, admin=admin)
    reason = make_field("reason", FieldType.DROPDOWN, options=[("damaged", "تالف", "Damaged")], admin=admin)
    photos = make_field("photos", FieldType.YES_NO, admin=admin)
    login(admin)
    assert client.get("/admin/request-types/new").status_code == 200
    response = client.submit(
        "/admin/request-types/new",
        {
            "key": "return",
            "name_ar": "إرجاع",
            "name_en": "Return",
            "default_queue_id": "",
            "default_priority": "high",
            "default_tags": "return, refund",
            "is_active": "y",
            f"rf-{reason.id}-on": "1",
            f"rf-{reason.id}-pos": "2",
            f"rf-{reason.id}-req": "1",
            f"rf-{order.id}-on": "1",
            f"rf-{order.id}-pos": "1",
            f"rf-{photos.id}-on": "1",
            f"rf-{photos.id}-pos": "3",
            f"rf-{photos.id}-when": str(reason.id),
            f"rf-{photos.id}-value": "damaged",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    saved = db.session.scalar(select(RequestType))
    assert [(rf.field.key, rf.is_required) for rf in saved.form_fields] == [
        ("order_ref", False),
        ("reason", True),
        ("photos", False),
    ]
    assert saved.form_fields[2].shown_when_field_id == reason.id and saved.default_tags == [
        "refund",
        "return",
    ]
    page = client.get("/admin/fields").get_data(as_text=True)
    assert "إرجاع" in page


def test_a_condition_on_a_field_outside_the_form_is_refused(client, login):
    admin = make_staff(Role.ADMIN)
    reason = make_field("reason", FieldType.TEXT, admin=admin)
    photos = make_field("photos", FieldType.YES_NO, admin=admin)
    login(admin)
    response = client.submit(
        "/admin/request-types/new",
        {
            "key": "return",
            "name_ar": "إرجاع",
            "name_en": "Return",
            f"rf-{photos.id}-on": "1",
            f"rf-{photos.id}-when": str(reason.id),
        },
    )
    assert response.status_code == 400
    assert db.session.scalar(select(RequestType.id)) is None


def test_the_portal_asks_the_type_first_then_its_fields_and_opens_a_return_case(client, login):
    return_type = make_return_type()
    customer = make_customer(language="en")
    order = make_order(customer, number="8801-SO")
    login(customer)
    chooser = client.get("/portal/cases/new").get_data(as_text=True)
    assert 'name="type" value="return"' in chooser and "Return an item" in chooser
    form = client.get("/portal/cases/new?type=return").get_data(as_text=True)
    assert 'name="cf-reason"' in form and 'name="cf-order_ref"' in form and "8801-SO" in form
    assert "Only when “Reason for return” is “Damaged”." in form  # without JS: said, not hidden
    response = client.submit(
        "/portal/cases/new?type=return",
        {
            "type": "return",
            "subject": "The vase arrived broken",
            "body": "Box crushed",
            "cf-order_ref": str(order.id),
            "cf-reason": "damaged",
            "cf-photos": "yes",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    ticket = db.session.scalar(select(Ticket))
    assert ticket.request_type_id == return_type.id and [t.name for t in ticket.tags] == ["return"]
    assert _values(ticket) == {"order_ref": order.id, "reason": "damaged", "photos": True}


def test_a_hidden_conditional_answer_is_ignored_and_a_missing_required_one_refused(client, login):
    make_return_type()
    customer = make_customer(language="en")
    order = make_order(customer)
    login(customer)
    base = {
        "type": "return",
        "subject": "Too small",
        "body": "Please take it back",
        "cf-order_ref": str(order.id),
    }
    refused = client.submit("/portal/cases/new", base)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Reason for return is required." in page and "Please take it back" in page
    assert db.session.scalar(select(Ticket.id)) is None
    assert (
        client.submit(
            "/portal/cases/new", {**base, "cf-reason": "wrong_size", "cf-photos": "yes"}
        ).status_code
        == 303
    )
    assert _values(db.session.scalar(select(Ticket))) == {
        "order_ref": order.id,
        "reason": "wrong_size",
        "photos": None,
    }


def test_with_htmx_only_the_fields_that_apply_are_drawn(client, login):
    make_return_type()
    login(make_customer(language="en"))
    first = client.get("/portal/cases/new/fields?type=return", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert 'name="cf-reason"' in first and 'name="cf-photos"' not in first
    damaged = client.get(
        "/portal/cases/new/fields?type=return&cf-reason=damaged", headers={"HX-Request": "true"}
    )
    assert 'name="cf-photos"' in damaged.get_data(as_text=True)
    assert client.get("/portal/cases/new/fields?type=nope").status_code == 404


def test_kb_suggestions_use_the_request_type(client, login):
    make_return_type()
    make_article("returns", "How to return an item", "Send it back within 14 days.")
    search.apply_pending_jobs()
    login(make_customer(language="en"))
    without = client.get("/kb/suggest?subject=broken+vase").get_data(as_text=True)
    with_type = client.get("/kb/suggest?subject=broken+vase&type=return").get_data(as_text=True)
    assert "How to return an item" not in without
    assert "How to return an item" in with_type


def test_a_new_email_gets_its_type_from_the_subject(app):
    return_type = make_return_type()
    inbound.ingest(make_email(subject="أبي إرجاع الطلب", message_id="<r1@example.com>"))
    inbound.ingest(make_email(subject="Where is my parcel", message_id="<r2@example.com>"))
    typed, untyped = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert typed.request_type_id == return_type.id and [t.name for t in typed.tags] == ["return"]
    assert untyped.request_type_id is None


def test_a_batch_of_mail_is_typed_with_the_keywords_of_the_moment(app):
    """The keywords are read once per transaction: a batch sees them, and a later change is seen."""
    admin = make_staff(Role.ADMIN)
    return_type = make_return_type(admin)
    results = inbound.ingest_batch(
        [
            make_email(subject="Return please", message_id="<b1@example.com>"),
            make_email(subject="استرجاع المبلغ", message_id="<b2@example.com>"),
            make_email(subject="Exchange the size", message_id="<b3@example.com>"),
        ]
    )
    assert [r.action for r in results] == ["created"] * 3
    return_type.email_keywords = "return, exchange"
    db.session.commit()
    inbound.ingest(make_email(subject="Exchange the colour", message_id="<b4@example.com>"))
    types = db.session.scalars(select(Ticket.request_type_id).order_by(Ticket.id)).all()
    assert types == [return_type.id, return_type.id, None, return_type.id]


def test_the_agent_sets_the_type_on_the_ticket_page(client, login):
    from tests.factories import make_ticket

    return_type = make_return_type()
    ticket = make_ticket()
    login(make_staff(language="en"))
    response = client.submit(f"/agent/tickets/{ticket.number}/fields", {"request_type": str(return_type.id)})
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.request_type_id == return_type.id


def test_the_arabic_case_form_labels_its_fields_in_arabic(client, login):
    make_return_type()
    customer = make_customer(language="ar")
    make_order(customer)
    login(customer)
    page = client.get("/portal/cases/new?type=return").get_data(as_text=True)
    assert "سبب الإرجاع" in page and "Reason for return" not in page
    assert 'name="order_number"' not in page  # the type's own order field asks it
