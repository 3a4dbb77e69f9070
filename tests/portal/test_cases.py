from helpdesk.tickets import service
from helpdesk.tickets.models import Channel, MessageKind, Status, Ticket
from tests.factories import make_customer, make_staff, make_ticket


def test_customer_opens_a_case_and_sees_it(client, login_as, app):
    customer = login_as("customer")
    response = client.submit("/portal/cases/new", {"subject": "الطلب لم يصل", "body": "وين طلبي؟"})
    assert response.status_code == 303
    ticket = Ticket.query.one()
    assert ticket.customer_id == customer.id
    assert ticket.channel == Channel.PORTAL
    assert response.headers["Location"] == f"/portal/cases/{ticket.number}"
    listing = client.get("/portal/cases").get_data(as_text=True)
    assert ticket.number in listing and "الطلب لم يصل" in listing


def test_empty_case_form_is_refused_with_errors(client, login_as):
    login_as("customer")
    response = client.submit("/portal/cases/new", {"subject": "", "body": ""})
    assert response.status_code == 400
    assert Ticket.query.count() == 0


def test_customer_sees_public_replies_but_never_internal_notes(client, login):
    customer = make_customer()
    ticket = make_ticket(customer=customer)
    agent = make_staff()
    service.add_message(ticket, author=agent, body="Your parcel left Riyadh today")
    service.add_message(ticket, author=agent, body="SECRET courier issue", kind=MessageKind.NOTE)
    login(customer)
    page = client.get(f"/portal/cases/{ticket.number}").get_data(as_text=True)
    assert "Your parcel left Riyadh today" in page
    assert "SECRET courier issue" not in page


def test_customer_cannot_see_or_reply_to_another_customers_case(client, login):
    mine, theirs = make_ticket(), make_ticket()
    login(mine.customer)
    assert client.get(f"/portal/cases/{theirs.number}").status_code == 404
    assert client.submit(f"/portal/cases/{theirs.number}/reply", {"body": "hi"}).status_code == 404
    assert theirs.number not in client.get("/portal/cases").get_data(as_text=True)


def test_customer_reply_reopens_a_solved_case(client, login):
    ticket = make_ticket(status=Status.SOLVED)
    login(ticket.customer)
    response = client.submit(f"/portal/cases/{ticket.number}/reply", {"body": "Not fixed"})
    assert response.status_code == 303
    assert ticket.status == Status.OPEN
    replies = [m.body_text for m in ticket.messages if m.kind == MessageKind.REPLY]
    assert replies[-1] == "Not fixed"


def test_reply_to_closed_case_shows_a_message(client, login):
    ticket = make_ticket(status=Status.CLOSED)
    login(ticket.customer)
    response = client.submit(f"/portal/cases/{ticket.number}/reply", {"body": "hello"}, follow_redirects=True)
    assert "هذه التذكرة مغلقة" in response.get_data(as_text=True)


def test_user_text_is_escaped(client, login):
    customer = make_customer(name="<script>alert(1)</script>")
    ticket = make_ticket(
        customer=customer, subject="<img src=x onerror=alert(1)>", body="<script>bad()</script>"
    )
    login(customer)
    page = client.get(f"/portal/cases/{ticket.number}").get_data(as_text=True)
    assert "<script>bad()" not in page and "<img src=x" not in page
    assert "&lt;script&gt;bad()" in page


def test_case_actions_follow_the_status(app):
    from helpdesk.portal import case_rules as rules

    expected = {  # status: (close, reopen, reply)
        Status.NEW: (True, False, True),
        Status.OPEN: (True, False, True),
        Status.PENDING: (True, False, True),
        Status.SOLVED: (True, True, True),
        Status.CLOSED: (False, False, False),
    }
    for status, allowed in expected.items():
        ticket = Ticket(status=status)
        assert (rules.can_close(ticket), rules.can_reopen(ticket), rules.can_reply(ticket)) == allowed, status


def test_a_subject_as_long_as_the_column_allows_is_kept_whole(client, login_as):
    login_as("customer")
    subject = "طلبي " + "متأخر جدا " * 24 + "!"  # 246 characters, over the old 200
    page = client.get("/portal/cases/new").get_data(as_text=True)
    assert 'maxlength="200"' not in page and 'name="subject"' in page
    assert client.submit("/portal/cases/new", {"subject": subject, "body": "؟"}).status_code == 303
    assert Ticket.query.one().subject == subject.strip()
