"""Codes in words of the page's language: order statuses, addresses, assignees, customer wording."""

import re

from babel.messages.pofile import read_po

from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.tickets import service
from helpdesk.tickets.models import Message, MessageKind, Status
from tests.factories import PASSWORD, make_customer, make_default_sla, make_order, make_staff, make_ticket
from tests.test_i18n import ROOT


def test_order_status_address_kind_and_country_are_in_arabic_on_arabic_pages(client, login):
    customer = make_customer(
        addresses=[{"label": "home", "street": "شارع العليا 12", "city": "الرياض", "country": "SA"}]
    )
    order = make_order(customer, status="out_for_delivery")
    ticket = make_ticket(customer=customer, order=order)
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "خرج للتوصيل" in page and "out_for_delivery" not in page
    assert "المنزل: شارع العليا 12، الرياض، المملكة العربية السعودية" in page
    assert not re.search(r"\bhome\b|, SA\b", page)
    english = client.get(f"/agent/tickets/{ticket.number}", headers={"Accept-Language": "en"})
    assert "Home: شارع العليا 12, الرياض, Saudi Arabia" in english.get_data(as_text=True)


def test_assigned_event_names_the_agent_and_keeps_old_events_readable(client, login):
    agent = make_staff(name="Sara Ali", email="agent1@demo.test")
    ticket = make_ticket()
    service.assign(ticket, agent, actor=agent)
    db.session.add(
        Message(ticket=ticket, kind=MessageKind.EVENT, event="assigned", body_text="gone@old.test")
    )
    db.session.commit()
    login(agent)
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    events = " ".join(re.findall(r'<p class="message-event".*?</p>', page, re.S))
    assert "Sara Ali" in events and "agent1@demo.test" not in events
    assert "gone@old.test" in events  # an address that is no staff member's is shown as stored
    assert "<bdi>" in events


def test_customer_reads_awaiting_your_reply_where_the_agent_reads_pending(client, login):
    customer = make_customer()
    ticket = make_ticket(customer=customer, status=Status.PENDING)
    login(make_staff())
    agent_page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "بانتظار العميل" in agent_page
    other = client.application.test_client()
    assert other.submit("/login", {"email": customer.email, "password": PASSWORD}).status_code == 302
    for url in ("/portal/cases", f"/portal/cases/{ticket.number}"):
        page = other.get(url).get_data(as_text=True)
        assert "بانتظار ردّك" in page and "بانتظار العميل" not in page, url


def test_queue_has_one_arabic_word_everywhere():
    with open(ROOT / "translations/ar/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f, locale="ar")
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else " ".join(message.string)
        if re.search(r"\bqueues?\b", re.sub(r"%\(\w+\)s", "", msgid), re.I):
            assert "انتظار" in text and "طابور" not in text and "قائمة العمل" not in text, msgid


def test_calendar_list_names_the_holiday_country_in_the_page_language(client, login):

    make_default_sla()
    login(make_staff(Role.ADMIN))
    page = client.get("/admin/calendars").get_data(as_text=True)
    assert "المملكة العربية السعودية" in page and ">SA<" not in page


def test_what_an_automation_did_reads_as_one_sentence_in_each_language(app):
    """The actions were glued with "; " and ", " in code: Latin punctuation inside Arabic text."""
    import json

    from flask_babel import force_locale

    from helpdesk.tickets.labels import describe_automation

    did = [["email_customer", ""], ["add_tags", ["reminded", "vip"]], ["set_status", "closed"]]
    stored = json.dumps({"rule": "تذكير", "did": did})
    with app.test_request_context("/"), force_locale("ar"):
        assert describe_automation(stored) == (
            "الأتمتة «تذكير» راسلت العميل، وأضافت الوسوم reminded وvip، وغيّرت الحالة إلى مغلقة"
        )
    with app.test_request_context("/"), force_locale("en"):
        assert describe_automation(stored) == (
            "Automation «تذكير» emailed the customer, added tags reminded and vip, set status to Closed"
        )
