from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.customers.models import Order
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.tickets import presence, service
from helpdesk.tickets.models import MessageKind, Priority, Status, Ticket
from tests.agents.test_queue_page import always_open_policy
from tests.factories import (
    count_queries,
    make_customer,
    make_queue,
    make_staff,
    make_ticket,
    other_statements,
    search_statements,
)


def edit(client, ticket, **changes):
    data = {
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "queue": str(ticket.queue_id or ""),
        "assignee": str(ticket.assignee_id or ""),
        "tags": ", ".join(t.name for t in ticket.tags),
        "version": ticket.version,
    }
    data.update(changes)
    return client.submit(f"/agent/tickets/{ticket.number}/edit", data)


def test_thread_shows_replies_notes_and_events_distinctly(client, login):
    agent = make_staff()
    ticket = make_ticket(body="Where is it?")
    service.add_message(ticket, author=agent, body="checking with courier", kind=MessageKind.NOTE)
    service.change_status(ticket, Status.PENDING, actor=agent)
    login(agent)
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "message-reply" in page and "message-note" in page and "message-event" in page
    assert "الحالة: جديدة → بانتظار العميل" in page  # the event in words, in the reader's language


def test_edit_changes_everything_in_one_save(client, login):
    agent, other = make_staff(), make_staff()
    queue = make_queue("payments")
    ticket = make_ticket()
    login(agent)
    response = edit(
        client,
        ticket,
        status="pending",
        priority="urgent",
        queue=str(queue.id),
        assignee=str(other.id),
        tags="VIP, refund",
    )
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert (ticket.status, ticket.priority, ticket.queue_id, ticket.assignee_id) == (
        Status.PENDING,
        Priority.URGENT,
        queue.id,
        other.id,
    )
    assert [t.name for t in ticket.tags] == ["refund", "vip"]
    events = {m.event for m in ticket.messages if m.kind == MessageKind.EVENT}
    assert {"status_changed", "priority_changed", "queue_changed", "assigned", "tags_changed"} <= events


def test_moving_queue_recomputes_the_sla(client, login):
    fast = make_queue("fast")
    always_open_policy()  # everything: 120 minutes
    always_open_policy(fast, first_response=30)
    ticket = make_ticket()
    before = ticket.next_due_at
    login(make_staff())
    edit(client, ticket, queue=str(fast.id))
    db.session.refresh(ticket)
    assert before - ticket.next_due_at == timedelta(minutes=90)


def test_stale_edit_says_what_changed(client, login):
    agent, other = make_staff(), make_staff()
    ticket = make_ticket()
    stale = ticket.version
    service.change_priority(ticket, Priority.HIGH, actor=other)
    login(agent)
    response = edit(client, ticket, version=stale, status="solved")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "الأولوية: عادية → عالية" in page
    db.session.refresh(ticket)
    assert ticket.status != Status.SOLVED


def test_merge_moves_messages_closes_the_source_and_links_it(client, login):
    agent = make_staff()
    customer = make_customer()
    target = make_ticket(customer=customer, body="my parcel is late")
    source = make_ticket(customer=customer, body="again: late parcel", tags=["courier"])
    login(agent)
    response = client.submit(
        f"/agent/tickets/{source.number}/merge", {"target": target.number, "version": source.version}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(target.number)
    db.session.expire_all()
    source, target = db.session.get(Ticket, source.id), db.session.get(Ticket, target.id)
    assert source.status == Status.CLOSED and source.merged_into_id == target.id
    assert "again: late parcel" in [m.body_text for m in target.messages]
    assert [m.event for m in source.messages] == ["merged_into"]
    assert "courier" in [t.name for t in target.tags]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.merged"))
    assert audit.details["source"] == source.number
    page = client.get(f"/agent/tickets/{source.number}").get_data(as_text=True)
    assert f'href="/agent/tickets/{target.number}"' in page
    assert source.number not in client.get("/agent?view=open").get_data(as_text=True)


def test_merge_refuses_itself_and_unknown_targets(client, login):
    ticket = make_ticket()
    login(make_staff())
    r = client.submit(
        f"/agent/tickets/{ticket.number}/merge", {"target": ticket.number, "version": ticket.version}
    )
    assert r.status_code == 409
    r = client.submit(
        f"/agent/tickets/{ticket.number}/merge",
        {"target": "HD-1", "version": ticket.version},
        follow_redirects=True,
    )
    assert "HD-1" in r.get_data(as_text=True)
    assert db.session.get(Ticket, ticket.id).merged_into_id is None


def test_presence_shows_who_else_views_and_types(client, login, app):
    ticket = make_ticket()
    colleague = make_staff(name="Noura")
    presence.mark_present(ticket.id, colleague.id, typing=True)
    db.session.commit()
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert "Noura" in page
    fragment = client.submit(f"/agent/tickets/{ticket.number}/presence", {"typing": "y"}).get_data(
        as_text=True
    )
    assert "Noura" in fragment and "typing" in fragment
    presence.mark_present(ticket.id, colleague.id)
    db.session.commit()
    fragment = client.submit(f"/agent/tickets/{ticket.number}/presence", {}).get_data(as_text=True)
    assert "Noura" in fragment and "typing" not in fragment


def test_presence_expires(app):
    ticket = make_ticket()
    a, b = make_staff(), make_staff()
    presence.mark_present(ticket.id, a.id)
    assert [p.staff_id for p in presence.others_present(ticket.id, b.id)] == [a.id]
    row = presence.others_present(ticket.id, b.id)[0]
    row.seen_at = datetime.now(UTC) - presence.EXPIRY - timedelta(seconds=1)
    db.session.commit()
    assert presence.others_present(ticket.id, b.id) == []
    assert presence.forget_stale(timedelta(0)) == 1


def test_kb_article_search_finds_published_titles_only(client, login):
    for title, status in (
        ("Track your parcel", ArticleStatus.PUBLISHED),
        ("Parcel draft", ArticleStatus.DRAFT),
    ):
        db.session.add(Article(slug=title.lower().replace(" ", "-"), locale="en", title=title, status=status))
    db.session.add(Article(slug="tatabbu", locale="ar", title="تتبع الطرد", status=ArticleStatus.PUBLISHED))
    db.session.commit()
    login(make_staff())
    fragment = client.get("/agent/articles?q=parcel&lang=en", headers={"HX-Request": "true"})
    fragment = fragment.get_data(as_text=True)
    assert "Track your parcel" in fragment and "Parcel draft" not in fragment
    assert "/kb/track-your-parcel" in fragment and "<html" not in fragment
    assert "تتبع الطرد" in client.get("/agent/articles?q=الطرد").get_data(as_text=True)
    assert "Track" not in client.get("/agent/articles?q=%25").get_data(as_text=True)
    assert "Track your parcel" not in client.get("/agent/articles?q=parcel&lang=ar").get_data(as_text=True)


def test_customer_panel_shows_profile_orders_and_history(client, login):
    customer = make_customer(
        name="Omar Saleh",
        phone="+966500000001",
        language="ar",
        notes="prefers WhatsApp",
        addresses=["Riyadh, Olaya St"],
    )
    order = Order(
        customer=customer,
        external_id="1",
        number="SO-1",
        status="shipped",
        total=Decimal("150.50"),
        items=[{"sku": "A", "name_en": "Kettle", "name_ar": "غلاية", "quantity": 2, "price": 75.25}],
        carrier="SMSA",
        tracking_number="TRK123",
        ordered_at=datetime.now(UTC) - timedelta(days=3),
    )
    other = Order(
        customer=customer, external_id="2", number="SO-2", status="delivered", total=Decimal("49.50")
    )
    db.session.add_all([order, other])
    db.session.commit()
    earlier = make_ticket(customer=customer, subject="Earlier question", status=Status.SOLVED)
    ticket = make_ticket(customer=customer, order=order)
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    for text in (
        "Omar Saleh",
        "+966500000001",
        "prefers WhatsApp",
        "Riyadh, Olaya St",
        "SMSA",
        "TRK123",
        "غلاية",
    ):
        assert text in page, text
    assert earlier.number in page and "Earlier question" in page
    assert "200.00" in page  # lifetime value
    highlighted = page.split('class="order is-ticket-order"')[1].split("</li>")[0]
    assert "SO-1" in highlighted and "SO-2" not in highlighted
    assert "timeline-order" in page and "timeline-ticket" in page


def test_ticket_page_queries_stay_fixed_with_a_long_customer_history(client, login):
    agent = make_staff()
    customer = make_customer()
    order = Order(customer=customer, external_id="x", number="SO-9", status="new", total=Decimal(1))
    db.session.add(order)
    db.session.commit()
    ticket = make_ticket(customer=customer, order=order, tags=["a"])
    login(agent)
    client.get(f"/agent/tickets/{ticket.number}")
    with count_queries() as few:
        client.get(f"/agent/tickets/{ticket.number}")
    for i in range(15):
        db.session.add(
            Order(customer=customer, external_id=f"o{i}", number=f"SO-{i}", status="new", total=Decimal(i))
        )
        make_ticket(customer=customer, status=Status.SOLVED)
        service.add_message(ticket, author=customer, body=f"more {i}")
    presence.mark_present(ticket.id, make_staff().id)
    db.session.commit()
    with count_queries() as many:
        assert client.get(f"/agent/tickets/{ticket.number}").status_code == 200
    # 23: the fields zone (custom fields, request types) and the shop orders apart from the plain ones
    assert len(many) == len(few) <= 23


def test_a_long_history_shows_the_newest_and_loads_the_rest_on_demand(client, login):
    customer = make_customer()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orders = [
        Order(
            customer=customer,
            external_id=str(n),
            number=f"SO-{n:02d}",
            status="delivered",
            total=Decimal("10.25"),
            ordered_at=start + timedelta(days=n),
        )
        for n in range(15)
    ]
    db.session.add_all(orders)
    db.session.commit()
    earlier = [make_ticket(customer=customer, subject=f"Question {n}") for n in range(12)]
    ticket = make_ticket(customer=customer, order=orders[0])  # the oldest order
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    shown = page.split('id="customer-orders"')[1].split("</div>")[0]
    assert [f"SO-{n:02d}" in shown for n in range(15)] == [True] + [False] * 4 + [True] * 10
    assert "is-ticket-order" in shown.split("SO-00")[0].rsplit("<li", 1)[1]
    assert "153.75" in page and "<dd>15</dd>" in page  # count and lifetime value over all 15
    orders_url = f"/agent/tickets/{ticket.number}/customer/orders"
    tickets_url = f"/agent/tickets/{ticket.number}/customer/tickets"
    assert orders_url in page and tickets_url in page and "كل الطلبات (15)" in page
    listed = page.split('id="customer-tickets"')[1].split("</div>")[0]
    assert sum(f">{t.number}<" in listed for t in earlier) == 10 and f">{ticket.number}<" not in listed

    fragment = client.get(orders_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="customer-orders"' in fragment and orders_url not in fragment
    assert all(f"SO-{n:02d}" in fragment for n in range(15)) and fragment.count("is-ticket-order") == 1
    fragment = client.get(tickets_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert all(f">{t.number}<" in fragment for t in earlier) and tickets_url not in fragment
    without_js = client.get(tickets_url)
    assert without_js.status_code == 200 and "<html" in without_js.get_data(as_text=True)
    assert client.get("/agent/tickets/HD-999999/customer/orders").status_code == 404


def test_the_complete_history_lists_are_for_staff_only(client, login):
    customer = make_customer()
    ticket = make_ticket(customer=customer)
    login(customer)
    for part in ("orders", "tickets"):
        assert client.get(f"/agent/tickets/{ticket.number}/customer/{part}").status_code in (302, 403)


def test_ticket_in_a_deactivated_queue_can_still_be_edited(client, login):
    old = make_queue("old")
    ticket = make_ticket(queue=old)
    old.is_active = False
    db.session.commit()
    login(make_staff())
    assert edit(client, ticket, priority="high").status_code == 303
    db.session.refresh(ticket)
    assert ticket.priority == Priority.HIGH and ticket.queue_id == old.id


def test_article_search_costs_a_fixed_number_of_queries(client, login):
    login(make_staff())
    with count_queries() as few:
        client.get("/agent/articles?q=parcel&lang=en")
    db.session.add_all(
        Article(slug=f"parcel-{i}", locale="en", title=f"Parcel {i}", status=ArticleStatus.PUBLISHED)
        for i in range(20)
    )
    db.session.commit()
    with count_queries() as many:
        page = client.get("/agent/articles?q=parcel&lang=en").get_data(as_text=True)
    assert page.count("data-insert-link") == 8  # capped
    # (With none found, the article rows are not read: one statement fewer where the index is searched.)
    assert len(other_statements(few)) <= len(other_statements(many)) <= 4
    # On PostgreSQL the index is in the database: the search's own statements, as many for 20
    # articles as for none (and the articles' vectors, loaded once per process).
    assert len(search_statements(many)) <= 4 + 1 and len(search_statements(few)) <= 4 + 1


def reply(client, ticket, body: str, **fields):
    db.session.refresh(ticket)
    data = {"body": body, "kind": "reply", "version": ticket.version, **fields}
    return client.submit(f"/agent/tickets/{ticket.number}/reply", data, follow_redirects=True)


def test_send_and_set_pending_or_solved_is_one_submit(client, login):
    agent = make_staff(language="en")
    ticket = make_ticket()
    login(agent)
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    assert 'name="then_status" value="pending"' in page and 'name="then_status" value="solved"' in page
    response = reply(client, ticket, "Could you send a photo?", then_status="pending")
    assert response.status_code == 200
    db.session.refresh(ticket)
    assert ticket.status == Status.PENDING
    replies = [m.body_text for m in ticket.messages if m.kind == MessageKind.REPLY]
    assert replies[-1] == "Could you send a photo?"
    assert "Reply sent. The ticket is now Pending." in response.get_data(as_text=True)
    reply(client, ticket, "Refund issued.", then_status="solved")
    db.session.refresh(ticket)
    assert ticket.status == Status.SOLVED and ticket.solved_at is not None


def test_a_refused_status_after_a_reply_sends_nothing(client, login):
    ticket = make_ticket()
    login(make_staff())
    response = reply(client, ticket, "Done?", then_status="closed")  # not offered by the reply box
    assert response.status_code == 400
    db.session.refresh(ticket)
    assert len(ticket.messages) == 1 and ticket.status == Status.NEW


def test_reply_and_claim_say_that_they_worked(client, login):
    agent = make_staff()
    ticket = make_ticket()
    login(agent)
    claimed = client.submit(
        f"/agent/tickets/{ticket.number}/claim", {"version": ticket.version}, follow_redirects=True
    )
    assert f"أُسندت إليك التذكرة {ticket.number}." in claimed.get_data(as_text=True)
    sent = reply(client, ticket, "On it.")
    assert "أُرسل الرد." in sent.get_data(as_text=True)
    note = reply(client, ticket, "Courier called.", kind="note")
    assert "أُضيفت الملاحظة الداخلية." in note.get_data(as_text=True)


def test_timeline_shows_what_the_customer_wrote_without_the_quoted_history(client, login):
    customer = make_customer(name="Huda")
    ticket = make_ticket(customer=customer)
    quoted = "On Sunday, Support wrote:\n> Your order has shipped."
    service.add_message(
        ticket,
        author=customer,
        body=f"Still nothing at my door.\n\n{quoted}",
        channel=ticket.channel,
        message_fields={"display_text": "Still nothing at my door."},
    )
    db.session.commit()
    login(make_staff())
    page = client.get(f"/agent/tickets/{ticket.number}").get_data(as_text=True)
    timeline = page.split('class="timeline"')[1].split("</ol>")[0]
    assert "Still nothing at my door." in timeline
    assert "Support wrote" not in timeline and "has shipped" not in timeline
