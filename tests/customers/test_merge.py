"""Merging two customer records (issue 25: a customer who wrote by email and on WhatsApp is one
record, and agents can merge two records): found by name, email or phone from the ticket's
customer panel, everything moved to the kept record, the other deleted, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role, SignInSession
from helpdesk.custom_fields.models import CustomerFieldValue, CustomField, FieldScope, FieldType
from helpdesk.customers.merging import CannotMerge, find_customers, merge_customers
from helpdesk.customers.models import Customer, CustomerEmail, Order, Tier
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Channel, Message, Ticket
from helpdesk.transaction import unit_of_work
from tests.factories import count_queries, make_customer, make_staff, make_ticket


def _whatsapp_customer(phone: str = "+966551234567", name: str = "نورة") -> Customer:
    customer = Customer(name=name, phone=phone)
    db.session.add(customer)
    db.session.commit()
    return customer


def _field(key: str) -> CustomField:
    field = CustomField(key=key, type=FieldType.TEXT, scope=FieldScope.CUSTOMER, label_ar=key, label_en=key)
    db.session.add(field)
    db.session.commit()
    return field


def _value(customer: Customer, field: CustomField, text: str) -> None:
    db.session.add(CustomerFieldValue(customer_id=customer.id, field_id=field.id, value_text=text))
    db.session.commit()


def test_merging_moves_everything_to_the_kept_record_and_deletes_the_other(app):
    agent = make_staff(Role.AGENT)
    kept = make_customer(email="noura@example.com", name="Noura Alotaibi", tier=Tier.SILVER)
    other = _whatsapp_customer()
    other.tier = Tier.GOLD
    other.emails.append(CustomerEmail(email="noura.work@example.com", is_primary=True))
    other.addresses = [{"city": "الرياض"}]
    db.session.add(Order(customer=other, external_id="o1", number="SO-1", status="shipped", total=Decimal(5)))
    city, size = _field("city"), _field("size")
    _value(other, city, "جدة")
    _value(other, size, "L")
    _value(kept, city, "الرياض")
    db.session.add(SignInSession(token_hash="h" * 64, user_ref=other.get_id(), method="link"))
    email_ticket = make_ticket(customer=kept)
    wa_ticket = make_ticket(customer=other, channel=Channel.WHATSAPP)
    with unit_of_work():
        tickets.add_message(wa_ticket, author=other, body="وين طلبي؟", channel=Channel.WHATSAPP)
    other_id = other.id

    with unit_of_work():
        result = merge_customers(other, kept, actor=agent, ip="10.0.0.1")

    assert result.id == kept.id and db.session.get(Customer, other_id) is None
    db.session.expire_all()
    kept = db.session.get(Customer, kept.id)
    assert {t.id for t in kept.tickets} == {email_ticket.id, wa_ticket.id}
    assert db.session.scalar(select(func.count()).where(Message.author_customer_id == other_id)) == 0
    assert [e.email for e in kept.emails] == ["noura@example.com", "noura.work@example.com"]
    assert kept.email == "noura@example.com"  # the kept record's primary address stays primary
    assert kept.phone == "+966551234567" and kept.tier == Tier.GOLD
    assert kept.addresses == [{"city": "الرياض"}]
    assert [o.number for o in kept.orders] == ["SO-1"]
    values = db.session.scalars(select(CustomerFieldValue).order_by(CustomerFieldValue.field_id)).all()
    assert [(v.customer_id, v.field_id, v.value_text) for v in values] == [
        (kept.id, city.id, "الرياض"),  # the kept record's own value wins
        (kept.id, size.id, "L"),
    ]
    session = db.session.scalar(select(SignInSession))
    assert session.ended_at is not None  # the merged record's browsers are signed out
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.merged"))
    assert event.actor == agent.get_id() and event.target == f"customer:{kept.id}"
    assert event.details["merged"] == f"customer:{other_id}" and event.details["tickets"] == 1
    assert event.details["emails"] == 1 and event.details["orders"] == 1


def test_a_record_is_never_merged_with_itself(app):
    customer = make_customer()
    with pytest.raises(CannotMerge):
        merge_customers(customer, customer, actor=make_staff())


def test_two_phone_numbers_keep_the_chosen_one_and_note_the_other(app):
    kept = _whatsapp_customer("+966500000001", "A")
    other = _whatsapp_customer("+966500000002", "B")
    with unit_of_work():
        merge_customers(other, kept, actor=make_staff(), phone="+966500000002")
    kept = db.session.get(Customer, kept.id)
    assert kept.phone == "+966500000002" and "+966500000001" in kept.notes
    with pytest.raises(CannotMerge):
        merge_customers(kept, make_customer(), actor=make_staff(), phone="+10000000000")


def test_a_portal_password_moves_when_the_kept_record_has_none(app):
    other = make_customer(email="portal@example.com")
    kept = _whatsapp_customer()
    assert kept.password_hash is None
    with unit_of_work():
        merge_customers(other, kept, actor=make_staff())
    assert db.session.get(Customer, kept.id).password_hash == other.password_hash


def test_customers_are_found_by_name_email_or_phone_in_any_form(app):
    noura = make_customer(email="noura@example.com", name="نورة العتيبي")
    noura.phone = "+966551234567"
    db.session.commit()
    make_customer(email="someone@example.com", name="Someone")
    for text in ("نورة", "NOURA@example", "0551234567", "٠٥٥١٢٣٤٥٦٧", "+966 55 123 4567", "1234567"):
        assert [c.id for c in find_customers(text)] == [noura.id], text
    assert find_customers("نورة", besides=noura) == []
    assert find_customers("%") == [] and find_customers("x") == []


@pytest.mark.parametrize("language", ["ar", "en"])
def test_an_agent_finds_the_other_record_and_merges_it_from_the_ticket(client, login, language):
    kept = make_customer(email="noura@example.com", name="نورة العتيبي")
    other = _whatsapp_customer(name="Noura WhatsApp")
    ticket = make_ticket(customer=kept)
    wa_ticket = make_ticket(customer=other, channel=Channel.WHATSAPP)
    login(make_staff(language=language))
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    merge_url = f"/agent/tickets/{ticket.number}/customer/merge"
    assert merge_url in page

    with count_queries() as statements:
        found = client.get(merge_url, query_string={"q": "0551234567"})
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "Noura WhatsApp" in html and 'name="other_id"' in html
    heading = "دمج سجلات العملاء" if language == "ar" else "Merge customer records"
    assert heading in html and (f'lang="{language}"' in html)
    assert len(statements) <= 6, len(statements)  # the session, the ticket, its customer, the results

    other_id = other.id
    response = client.submit(merge_url, {"other_id": other_id, "keep": "this"})
    assert response.status_code == 303 and response.location.endswith(f"/agent/tickets/{ticket.number}")
    assert db.session.get(Customer, other_id) is None
    assert db.session.get(Ticket, wa_ticket.id).customer_id == kept.id
    shown = client.get(response.location).get_data(as_text=True)
    assert "+966551234567" in shown  # the panel now shows the WhatsApp number


def test_keeping_the_other_record_moves_this_ticket_to_it(client, login):
    this = make_customer(email="a@example.com", name="A")
    other = _whatsapp_customer(name="B")
    ticket = make_ticket(customer=this)
    this_id = this.id
    login(make_staff())
    response = client.submit(
        f"/agent/tickets/{ticket.number}/customer/merge", {"other_id": other.id, "keep": "other"}
    )
    assert response.status_code == 303
    assert db.session.get(Ticket, ticket.id).customer_id == other.id
    assert db.session.get(Customer, this_id) is None
    assert [e.email for e in db.session.get(Customer, other.id).emails] == ["a@example.com"]


@pytest.mark.parametrize(
    ("language", "refusal"),
    [("ar", "لا يمكن دمج العميل مع السجل نفسه"), ("en", "A customer cannot be merged with the same record.")],
)
def test_merging_a_record_with_itself_is_refused_with_a_message(client, login, language, refusal):
    customer = make_customer()
    ticket = make_ticket(customer=customer)
    login(make_staff(language=language))
    url = f"/agent/tickets/{ticket.number}/customer/merge"
    response = client.submit(url, {"other_id": customer.id, "keep": "this"})
    assert response.status_code == 303
    assert refusal in client.get(response.location).get_data(as_text=True)
    assert db.session.get(Customer, customer.id) is not None


def test_merging_customers_is_for_staff_only(client, login):
    customer = make_customer()
    ticket = make_ticket(customer=customer)
    login(customer)
    url = f"/agent/tickets/{ticket.number}/customer/merge"
    assert client.get(url, query_string={"q": "x"}).status_code in (302, 403)
    assert client.submit(url, {"other_id": customer.id}).status_code in (302, 403)
