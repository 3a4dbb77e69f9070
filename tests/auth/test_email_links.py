"""Magic sign-in links, sign-up, password reset and guest cases: signed, expiring, single use, by outbox."""

import re
from datetime import timedelta

from sqlalchemy import select, update

from helpdesk.auth.models import EmailToken
from helpdesk.customers.models import Customer
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.models import OutboundEmail
from helpdesk.mail.outbox import send_due_emails
from helpdesk.tickets.models import Ticket
from tests.factories import PASSWORD, make_customer


def emailed_path(to: str) -> str:
    email = db.session.scalars(
        select(OutboundEmail).where(OutboundEmail.to == to).order_by(OutboundEmail.id.desc())
    ).first()
    assert email is not None, f"no email to {to}"
    return re.search(r"https?://[^/\s]+(/\S+)", email.text).group(1)


def test_magic_link_is_sent_through_the_outbox_and_signs_in_once(client, smtp_sink):
    customer = make_customer(password_hash=None)  # wrote by email only, never set a password
    assert client.submit("/login/link", {"email": customer.email.upper()}).status_code == 200
    send_due_emails()
    assert len(smtp_sink.messages) == 1
    path = emailed_path(customer.email)
    page = client.get(path)  # a mail scanner's fetch does not use the link
    assert page.status_code == 200
    response = client.submit(path)
    assert response.status_code == 303 and response.headers["Location"] == "/portal/cases"
    assert client.get("/portal/cases").status_code == 200
    client.submit("/logout")
    assert client.submit(path).status_code == 400  # single use
    assert client.get("/portal/cases").status_code == 302


def _without_csrf_token(page: str) -> str:
    """The page with its CSRF token (in the meta tag and every form) removed: the token carries a
    timestamp, so two answers a second apart differ there and nowhere else."""
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return page.replace(token, "")


def test_unknown_address_gets_the_same_answer_and_no_email(client):
    known = make_customer()
    a = client.submit("/login/link", {"email": "nobody@example.test"})
    b = client.submit("/login/link", {"email": known.email})
    assert a.status_code == b.status_code == 200
    assert _without_csrf_token(a.get_data(as_text=True)) == _without_csrf_token(b.get_data(as_text=True))
    assert db.session.scalars(select(OutboundEmail.to)).all() == [known.email]


def test_expired_forged_and_wrong_purpose_links_are_refused(client):
    customer = make_customer()
    client.submit("/login/link", {"email": customer.email})
    path = emailed_path(customer.email)
    token = path.rsplit("/", 1)[1]
    assert client.get(f"/login/link/{token}x").status_code == 400
    assert client.get(f"/password/reset/{token}").status_code == 400  # a sign-in link cannot reset
    db.session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.submit(path).status_code == 400


def test_sign_up_creates_the_account_only_after_the_address_is_confirmed(client):
    client.submit("/signup", {"name": "Noura", "email": "noura@example.test", "password": "long enough pw"})
    assert db.session.scalars(select(Customer)).all() == []
    client.submit(emailed_path("noura@example.test"))
    customer = db.session.scalars(select(Customer)).one()
    assert customer.name == "Noura" and customer.emails[0].verified_at is not None
    client.submit("/logout")
    assert (
        client.submit("/login", {"email": "noura@example.test", "password": "long enough pw"}).status_code
        == 302
    )


def test_sign_up_with_a_taken_address_sends_a_notice_instead(client):
    existing = make_customer()
    client.submit("/signup", {"name": "X", "email": existing.email, "password": "long enough pw"})
    assert "/login" in emailed_path(existing.email)
    assert db.session.scalar(select(EmailToken)) is None


def test_password_reset(client):
    customer = make_customer()
    client.submit("/password/reset", {"email": customer.email})
    path = emailed_path(customer.email)
    assert client.submit(path, {"password": "short"}).status_code == 400
    assert client.submit(path, {"password": "a brand new one"}).status_code == 303
    client.submit("/logout")
    assert client.submit("/login", {"email": customer.email, "password": PASSWORD}).status_code == 401
    assert (
        client.submit("/login", {"email": customer.email, "password": "a brand new one"}).status_code == 302
    )


def test_guest_case_is_opened_once_the_email_is_verified(client):
    data = {
        "name": "Guest",
        "email": "guest@example.test",
        "subject": "Where is my order?",
        "body": "Order 1234",
    }
    assert client.submit("/portal/guest", data).status_code == 200
    assert db.session.scalars(select(Ticket)).all() == []
    response = client.submit(emailed_path("guest@example.test"))
    ticket = db.session.scalars(select(Ticket)).one()
    assert response.headers["Location"] == f"/portal/cases/{ticket.number}"
    assert ticket.customer.email == "guest@example.test"
    assert client.get(f"/portal/cases/{ticket.number}").status_code == 200


def test_a_guest_case_is_routed_like_a_signed_in_customers(client, app):
    from decimal import Decimal

    from helpdesk.customers.models import Order
    from tests.factories import make_queue

    make_queue("general")
    orders_queue = make_queue("orders")
    app.config["ORDER_QUEUE"] = "orders"
    known = make_customer(email="known@example.test")
    order = Order(customer=known, external_id="1", number="SO-424242", status="shipped", total=Decimal(5))
    db.session.add(order)
    db.session.commit()
    data = {"name": "Known", "email": "known@example.test", "subject": "SO-424242 late", "body": "?"}
    assert client.submit("/portal/guest", data).status_code == 200
    client.submit(emailed_path("known@example.test"))
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.queue_id, ticket.order_id) == (orders_queue.id, order.id)


def test_a_sign_in_link_lives_twenty_minutes_by_its_record_and_by_its_signature(app, client):
    """Short-lived twice over: the stored record expires after 20 minutes, and the link's signed
    timestamp is refused after 20 minutes even if a record said otherwise."""
    import hashlib
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from helpdesk.auth.links import LIFETIME
    from helpdesk.auth.models import TokenPurpose

    customer = make_customer()
    client.submit("/login/link", {"email": customer.email})
    token = db.session.scalars(select(EmailToken)).one()
    assert token.expires_at - token.created_at <= timedelta(minutes=20, seconds=1)
    assert LIFETIME[TokenPurpose.SIGN_IN] == timedelta(minutes=20)

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 21 * 60

    raw = "raw-token-signed-21-minutes-ago"
    db.session.add(
        EmailToken(
            token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            purpose=TokenPurpose.SIGN_IN,
            email=customer.email,
            expires_at=utcnow() + timedelta(days=1),  # the record alone would still allow it
        )
    )
    db.session.commit()
    old = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="helpdesk.email-link.sign_in", signer=SignedLongAgo
    ).dumps(raw)
    assert client.submit(f"/login/link/{old}").status_code == 400
    assert client.get("/portal/cases").status_code == 302
