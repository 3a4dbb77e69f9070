from decimal import Decimal

from helpdesk.auth.models import Role
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.tickets import macros
from helpdesk.tickets.models import Macro, MessageKind, Priority, Status, Ticket
from tests.factories import make_customer, make_staff, make_ticket


def macro_form(**fields):
    data = {
        "name": "Shipped",
        "locale": "en",
        "body": "Hi {{ customer_first_name }}, order {{order_number}} is {{ order_status }} "
        "({{ ticket_number }}).",
        "set_status": "pending",
        "set_priority": "",
        "add_tags": "shipping, Courier",
        "is_active": "y",
    }
    data.update(fields)
    return data


def test_supervisor_creates_edits_and_deletes_a_macro(client, login):
    login(make_staff(Role.SUPERVISOR))
    assert client.get("/agent/macros/new").status_code == 200
    assert client.submit("/agent/macros/new", macro_form()).status_code == 303
    macro = db.session.scalar(db.select(Macro))
    assert macro.set_status == Status.PENDING and macro.add_tags == ["courier", "shipping"]
    page = client.get(f"/agent/macros/{macro.id}").get_data(as_text=True)
    assert "Shipped" in page and 'value="courier, shipping"' in page
    client.submit(f"/agent/macros/{macro.id}", macro_form(name="Shipped v2", set_status=""))
    db.session.refresh(macro)
    assert macro.name == "Shipped v2" and macro.set_status is None
    assert "Shipped v2" in client.get("/agent/macros").get_data(as_text=True)
    client.submit(f"/agent/macros/{macro.id}/delete")
    assert db.session.scalar(db.select(Macro)) is None


def test_unknown_placeholders_are_refused(client, login):
    login(make_staff(Role.ADMIN))
    response = client.submit("/agent/macros/new", macro_form(body="{{ customer.__class__ }} {{ password }}"))
    assert response.status_code == 400
    assert "password" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Macro)) is None


def test_agents_cannot_manage_macros(client, login):
    login(make_staff(Role.AGENT))
    assert client.get("/agent/macros").status_code == 403


def test_applying_a_macro_replies_with_placeholders_and_sets_fields(client, login):
    agent = make_staff(name="Sara")
    customer = make_customer(name="Omar <b>Saleh</b>")
    order = Order(customer=customer, external_id="7", number="SO-7", status="shipped", total=Decimal(10))
    db.session.add(order)
    db.session.commit()
    ticket = make_ticket(customer=customer, order=order)
    macro = Macro(
        name="Shipped",
        locale="en",
        body="Hi {{ customer_first_name }}, {{ order_number }} is {{ order_status }}. "
        "{{ agent_name }} {{ nope }}",
        set_status=Status.PENDING,
        set_priority=Priority.LOW,
        add_tags=["shipping"],
    )
    db.session.add(macro)
    db.session.commit()
    login(agent)
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert f'<option value="{macro.id}">Shipped</option>' in page
    response = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": macro.id, "version": ticket.version}
    )
    assert response.status_code == 303
    ticket = db.session.get(Ticket, ticket.id)
    reply = [m for m in ticket.messages if m.kind == MessageKind.REPLY][-1]
    assert reply.body_text == "Hi Omar, SO-7 is shipped. Sara {{ nope }}"
    assert ticket.status == Status.PENDING and ticket.priority == Priority.LOW
    assert [t.name for t in ticket.tags] == ["shipping"]
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "<b>Saleh</b>" not in page  # names are escaped wherever they appear


def test_stale_macro_application_changes_nothing(client, login):
    agent = make_staff()
    ticket = make_ticket()
    macro = Macro(name="Close", locale="en", body="Bye", set_status=Status.SOLVED, add_tags=[])
    db.session.add(macro)
    db.session.commit()
    stale = ticket.version
    from helpdesk.tickets import service

    service.change_priority(ticket, Priority.HIGH, actor=agent)
    login(agent)
    response = client.submit(f"/agent/tickets/{ticket.number}/macro", {"macro": macro.id, "version": stale})
    assert response.status_code == 409
    db.session.refresh(ticket)
    assert ticket.status == Status.NEW
    assert "Bye" not in [m.body_text for m in ticket.messages]


def test_render_leaves_a_visible_marker_where_the_ticket_has_no_value(app):
    ticket = make_ticket()
    macro = Macro(name="x", locale="ar", body="{{order_number}}/{{ tracking_number }} {{ ticket_number }}")
    rendered = macros.render_macro(macro, ticket, make_staff())
    assert rendered == f"{{{{ order_number }}}}/{{{{ tracking_number }}}} {ticket.number}"
    assert "—" not in rendered
    assert macros.unfilled_placeholders(rendered) == ["order_number", "tracking_number"]


def shipping_macro() -> Macro:
    macro = Macro(
        name="Shipped",
        locale="en",
        body="Your order is {{ order_status }} with {{ carrier }} ({{ tracking_number }}).",
        set_status=Status.PENDING,
        add_tags=["shipping"],
    )
    db.session.add(macro)
    db.session.commit()
    return macro


def test_a_macro_the_ticket_cannot_fill_is_not_sent_and_changes_nothing(client, login):
    ticket = make_ticket()  # no order: no status, carrier or tracking number
    macro = shipping_macro()
    login(make_staff())
    response = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": macro.id, "version": ticket.version}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "{{ order_status }}" in page and "{{ tracking_number }}" in page
    db.session.refresh(ticket)
    assert [m.kind for m in ticket.messages] == [MessageKind.REPLY]  # only the customer's message
    assert ticket.status == Status.NEW and ticket.tags == []


def test_a_reply_still_holding_a_placeholder_is_refused_with_the_text_kept(client, login):
    ticket = make_ticket()
    login(make_staff())
    body = "Your parcel is with {{ carrier }}, tracking {{tracking_number}}."
    response = client.submit(
        f"/agent/tickets/{ticket.number}/reply", {"body": body, "kind": "reply", "version": ticket.version}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "لم يُرسَل" in page and "{{ carrier }}" in page
    assert "Your parcel is with {{ carrier }}, tracking {{tracking_number}}." in page  # kept in the box
    assert len(ticket.messages) == 1
    # Filled in, it goes; an internal note may quote a placeholder.
    filled = {"body": "Your parcel is with SMSA.", "kind": "reply", "version": ticket.version}
    assert client.submit(f"/agent/tickets/{ticket.number}/reply", filled).status_code == 303
    db.session.refresh(ticket)
    note = {"body": "Macro needs {{ carrier }}", "kind": "note", "version": ticket.version}
    assert client.submit(f"/agent/tickets/{ticket.number}/reply", note).status_code == 303


def test_demo_data_has_valid_macros_in_both_languages_and_orders_with_tracking(app):
    from helpdesk.demo.loader import load_demo

    load_demo(ticket_count=5)
    demo = db.session.scalars(db.select(Macro)).all()
    assert {m.locale for m in demo} == {"ar", "en"}
    assert all(macros.unknown_placeholders(m.body) == [] for m in demo)
    assert any(m.set_fields and "{{ field_reason }}" in m.body for m in demo)  # fields set and quoted
    from helpdesk.agents.models import SavedView

    shared = db.session.scalars(db.select(SavedView)).all()
    assert [v.query for v in shared] == [{"view": "open", "cf_reason": "damaged"}] and shared[0].queue_id
    shipped = db.session.scalars(db.select(Order).where(Order.tracking_number.is_not(None))).all()
    assert shipped and all(o.carrier and o.items for o in shipped)


def test_macro_pages_cost_a_fixed_number_of_queries(client, login):
    from tests.factories import count_queries

    login(make_staff(Role.SUPERVISOR))
    db.session.add(Macro(name="m0", locale="en", body="x", add_tags=["a"]))
    db.session.commit()
    with count_queries() as few:
        assert client.get("/agent/macros").status_code == 200
    db.session.add_all(Macro(name=f"m{i}", locale="ar", body="x", add_tags=["a", "b"]) for i in range(1, 30))
    db.session.commit()
    with count_queries() as many:
        assert client.get("/agent/macros").status_code == 200
    assert len(many) == len(few) <= 5
    with count_queries() as edit_page:
        assert client.get("/agent/macros/1").status_code == 200
    with count_queries() as new_page:
        assert client.get("/agent/macros/new").status_code == 200
    assert len(edit_page) <= 4 and len(new_page) <= 3


def test_macro_text_fills_placeholders_for_the_reply_box(client, login):
    ticket = make_ticket(customer=make_customer(name="Huda Ali"))
    macro = Macro(name="Hi", locale="en", body="Hello {{ customer_first_name }} ({{ ticket_number }})")
    db.session.add(macro)
    db.session.commit()
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert f'data-macro-text="/agent/tickets/{ticket.number}/macros/0/text"' in page
    response = client.get(f"/agent/tickets/{ticket.number}/macros/{macro.id}/text")
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == f"Hello Huda ({ticket.number})"
    assert client.get(f"/agent/tickets/{ticket.number}/macros/999/text").status_code == 404


def test_order_status_placeholder_reads_as_words_in_the_macros_language_on_both_paths(client, login):
    customer = make_customer(name="Omar Saleh")
    order = Order(
        customer=customer, external_id="8", number="SO-8", status="out_for_delivery", total=Decimal(10)
    )
    db.session.add(order)
    english = Macro(name="On its way", locale="en", body="{{ order_number }} is {{ order_status }}.")
    arabic = Macro(name="في الطريق", locale="ar", body="طلبك {{ order_number }}: {{ order_status }}.")
    db.session.add_all([english, arabic])
    db.session.commit()
    ticket = make_ticket(customer=customer, order=order)
    agent = make_staff(name="Sara")
    login(agent)
    # "Edit in the reply box": the text the agent edits before sending.
    text = client.get(f"/agent/tickets/{ticket.number}/macros/{english.id}/text").get_data(as_text=True)
    assert text == "SO-8 is out for delivery."
    text = client.get(f"/agent/tickets/{ticket.number}/macros/{arabic.id}/text").get_data(as_text=True)
    assert text == "طلبك SO-8: خرج للتوصيل."
    # "Send macro reply": what the customer receives.
    response = client.submit(
        f"/agent/tickets/{ticket.number}/macro", {"macro": english.id, "version": ticket.version}
    )
    assert response.status_code == 303
    reply = [m for m in db.session.get(Ticket, ticket.id).messages if m.kind == MessageKind.REPLY][-1]
    assert reply.body_text == "SO-8 is out for delivery."
    assert "out_for_delivery" not in reply.body_text


def test_the_ticket_page_offers_the_macros_in_the_customers_language_first(client, login):
    """An agent whose pages are in Arabic answers a customer who wrote in English: the English
    macros come first in the list (the language of the customer's latest message, as for the
    suggested answers and the article search)."""
    db.session.add_all(
        [
            Macro(name="أ شكراً لتواصلك", locale="ar", body="x", add_tags=[]),
            Macro(name="Z Thanks for writing", locale="en", body="x", add_tags=[]),
        ]
    )
    db.session.commit()
    login(make_staff())
    english, arabic = "Z Thanks for writing", "أ شكراً لتواصلك"
    for body, first, second in (
        ("I tried to pay three times and the bank declined it.", english, arabic),
        ("حاولت ادفع بالبطاقة وطلع لي ان العملية مرفوضة", arabic, english),
    ):
        ticket = make_ticket(customer=make_customer(language="ar"), subject="?", body=body)
        page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
        options = page[page.index('id="macro-select"') :]
        assert options.index(first) < options.index(second), body
