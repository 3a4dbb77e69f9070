"""A supervisor builds rules on the admin pages, checks them with the dry run, and watches them act on
the demo data as the worker runs with the clock moved forward."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.automations import service
from helpdesk.automations.models import AutomationRule
from helpdesk.customers.models import Customer, Tier
from helpdesk.dbtypes import utcnow
from helpdesk.demo.loader import load_demo
from helpdesk.extensions import db
from helpdesk.mail.models import OutboundEmail
from helpdesk.tickets import service as tickets
from helpdesk.tickets.labels import describe_change
from helpdesk.tickets.models import Message, Queue, Status, Ticket
from helpdesk.transaction import unit_of_work
from helpdesk.worker.runner import registered_jobs
from tests.factories import make_automation, make_customer, make_queue, make_staff


def run_worker(app, now) -> object:
    """One pass of the worker's automations job with its clock at ``now``."""
    app.extensions["automations_clock"] = lambda: now
    app.extensions.pop("automations_state", None)
    job = next(j for j in registered_jobs() if j.name == "automations.run")
    return job.func(app)


def timeline(ticket: Ticket) -> list[str]:
    found = db.session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.event.like("automation%"))
        .order_by(Message.id)
    )
    with force_locale("en"):
        return [describe_change(m.kind, m.event, m.body_text) for m in found]


def test_a_supervisor_builds_remind_then_close_and_returns_routing_and_sees_them_act(app, client, login):
    load_demo(ticket_count=20)
    assert len(service.rules()) == 5  # the shipped defaults; this test builds its own instead
    for rule in service.rules():
        db.session.delete(rule)
    db.session.commit()
    login(make_staff(Role.SUPERVISOR, language="en"))
    customer = db.session.scalar(select(Customer).order_by(Customer.id).limit(1))
    with unit_of_work():
        quiet = tickets.open_ticket(customer=customer, subject="Size question", body="Does it run small?")
        tickets.change_status(quiet, Status.PENDING, actor=None, at=utcnow() - timedelta(days=4))
        quiet.updated_at = utcnow() - timedelta(days=4)

    assert client.get("/admin/automations/new?kind=automation").status_code == 200
    remind = {
        "kind": "automation",
        "name": "Remind after 3 days pending",
        "is_active": "y",
        "all-0-condition": "status:is",
        "all-0-value": "pending",
        "all-1-condition": "hours_since_status_set:at_least",
        "all-1-value": "72",
        "all-2-condition": "tags:lacks",
        "all-2-value": "reminded",
        "action-0-type": "email_customer",
        "action-1-type": "add_tags",
        "action-1-value": "reminded",
        "subject_ar": "بانتظار ردك",
        "body_ar": "مرحباً {{ customer_first_name }}، هل من جديد بخصوص {{ ticket_number }}؟",
        "subject_en": "Waiting for your reply",
        "body_en": "Hello {{ customer_first_name }}, any news on {{ ticket_number }}?",
    }
    dry = client.submit("/admin/automations/new", {**remind, "dry_run": "1"})
    assert dry.status_code == 200
    page = dry.get_data(as_text=True)
    assert quiet.number in page and 'id="dry-run"' in page
    assert db.session.scalar(select(AutomationRule.id)) is None  # the dry run saved nothing

    unsafe = {k: v for k, v in remind.items() if not k.startswith(("all-2", "action-1"))}
    refused = client.submit("/admin/automations/new", unsafe)
    assert refused.status_code == 400
    assert "again at every run" in refused.get_data(as_text=True)

    assert client.submit("/admin/automations/new", remind).status_code == 303
    close = {
        "kind": "automation",
        "name": "Close 4 days after the reminder",
        "is_active": "y",
        "all-0-condition": "status:is",
        "all-0-value": "pending",
        "all-1-condition": "tags:has",
        "all-1-value": "reminded",
        "all-2-condition": "hours_since_updated:at_least",
        "all-2-value": "96",
        "action-0-type": "add_note",
        "action-0-value": "No reply four days after the reminder.",
        "action-1-type": "set_status",
        "action-1-value": "closed",
    }
    assert client.submit("/admin/automations/new", close).status_code == 303
    route = {
        "kind": "trigger",
        "name": "Returns to the returns queue",
        "is_active": "y",
        "events": ["created", "customer_message"],
        "any-0-condition": "text:contains",
        "any-0-value": "استرجاع, return",
        "action-0-type": "set_queue",
        "action-0-value": "returns",
    }
    assert client.submit("/admin/automations/new", route).status_code == 303
    listing = client.get("/admin/automations").get_data(as_text=True)
    assert "Remind after 3 days pending" in listing and "Returns to the returns queue" in listing
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("automation.%"))
    ).all()
    assert actions.count("automation.created") == 5 + 3  # the shipped defaults, then these

    # The trigger: a customer writes about a return, with hamza and diacritics.
    with unit_of_work():
        wants_return = tickets.open_ticket(customer=customer, subject="طلب", body="أريد اِستِرجاع الحذاء")
    returns = db.session.scalar(select(Queue).where(Queue.slug == "returns"))
    assert wants_return.queue_id == returns.id

    # The worker, now: the reminder goes out once; moved on five days: the case is closed with a note.
    now = utcnow()
    assert run_worker(app, now)["applied"] >= 1
    db.session.expire_all()
    assert quiet.status == Status.PENDING and "reminded" in [t.name for t in quiet.tags]
    email = db.session.scalar(
        select(OutboundEmail).where(OutboundEmail.ticket_id == quiet.id, OutboundEmail.kind == "automation")
    )
    assert f"any news on {quiet.number}" in email.text or quiet.number in email.text
    assert run_worker(app, now + timedelta(minutes=10))["applied"] == 0
    run_worker(app, now + timedelta(days=5))
    db.session.expire_all()
    assert quiet.status == Status.CLOSED
    assert timeline(quiet) == [
        "Automation «Remind after 3 days pending» emailed the customer, added tags reminded",
        "automation note: No reply four days after the reminder.",
        "Automation «Close 4 days after the reminder» added an internal note, set status to Closed",
    ]


def test_the_list_page_reorders_deactivates_and_deletes_within_a_query_budget(app, client, login, queries):
    login(make_staff(Role.SUPERVISOR))
    for n in range(3):
        make_automation(name=f"T{n}", actions=[{"type": "add_tags", "value": [f"t{n}"]}])
    with queries() as statements:
        assert client.get("/admin/automations").status_code == 200
    assert len(statements) <= 4, statements
    first, second, third = service.rules()
    token = client.csrf_token()
    client.post(f"/admin/automations/{third.id}/move", data={"csrf_token": token, "direction": "up"})
    client.post(f"/admin/automations/{first.id}/active", data={"csrf_token": token, "active": "0"})
    client.post(f"/admin/automations/{second.id}/delete", data={"csrf_token": token})
    db.session.expire_all()
    assert [(r.name, r.is_active) for r in service.rules()] == [("T0", False), ("T2", True)]


def test_agents_cannot_open_the_rule_pages(app, client, login):
    login(make_staff(Role.AGENT))
    assert client.get("/admin/automations").status_code == 403


def test_the_page_speaks_arabic(app, client, login):
    login(make_staff(Role.SUPERVISOR, language="ar"))
    client.submit("/language", {"language": "ar"})
    page = client.get("/admin/automations/new?kind=trigger").get_data(as_text=True)
    assert "قواعد الأتمتة" in page


def test_the_shipped_rules_are_safe_and_act_on_the_demo_data(app):
    load_demo(ticket_count=10)
    rules = {r.name: r for r in service.rules()}
    assert len(rules) == 5 and all(r.is_active for r in rules.values())
    vip = make_customer(tier=Tier.VIP, language="ar")
    with unit_of_work():
        ticket = tickets.open_ticket(
            customer=vip, subject="تبديل المقاس", body="أرغب في استبدال الحذاء بمقاس أكبر"
        )
    returns = db.session.scalar(select(Queue).where(Queue.slug == "returns"))
    assert ticket.queue_id == returns.id and ticket.priority.value == "high"
    with unit_of_work():
        tickets.change_status(ticket, Status.PENDING, actor=None)
    run_worker(app, utcnow() + timedelta(days=8))  # more than 3 business days, whatever the weekday
    db.session.expire_all()
    assert "reminded" in [t.name for t in ticket.tags]
    email = db.session.scalar(
        select(OutboundEmail).where(OutboundEmail.ticket_id == ticket.id, OutboundEmail.kind == "automation")
    )
    assert email.text.startswith("مرحبًا") and ticket.number in email.text


def test_the_editor_shows_a_saved_rule_as_typed_within_a_query_budget(app, client, login, queries):
    login(make_staff(Role.SUPERVISOR, language="en"))
    returns = make_queue("returns")
    rule = make_automation(
        name="Returns",
        events=["created"],
        conditions={"any": [{"field": "text", "op": "contains", "value": ["استرجاع", "return"]}]},
        actions=[{"type": "set_queue", "value": returns.id}],
    )
    with queries() as statements:
        page = client.get(f"/admin/automations/{rule.id}")
    assert page.status_code == 200
    # + the ticket fields and request types the pickers offer (their options: one more, with fields)
    assert len(statements) <= 8, statements
    html = page.get_data(as_text=True)
    assert 'value="استرجاع, return"' in html
    assert f'<option value="{returns.id}" selected>{returns.name_en}</option>' in html
    assert '<option value="text:contains" selected>' in html


def test_the_built_in_reopen_is_listed_first_among_triggers_and_holds_with_every_rule_off(app, client, login):
    """Reopening on a customer reply is part of the ticket core, not a rule: the list shows it as a
    built-in row a supervisor cannot switch off, and it holds whatever the rules are."""
    supervisor = make_staff(Role.SUPERVISOR, language="en")
    rule = make_automation(name="Tag replies", actions=[{"type": "add_tags", "value": ["replied"]}])
    service.set_active(rule, False, actor=None)
    db.session.commit()
    login(supervisor)
    html = client.get("/admin/automations").get_data(as_text=True)
    built_in = html.index('id="built-in-reopen"')
    assert built_in < html.index("Tag replies") < html.index("<h2>Automations</h2>")
    row = html[built_in : html.index("</tr>", built_in)]
    assert "Reopen when the customer replies" in row and "Built in, always on" in row
    assert "<form" not in row  # nothing to move, switch off or delete

    customer = make_customer()
    for status in (Status.PENDING, Status.SOLVED):
        with unit_of_work():
            ticket = tickets.open_ticket(customer=customer, subject="Size", body="Too small")
            tickets.change_status(ticket, status, actor=supervisor)
        with unit_of_work():
            tickets.add_message(ticket, author=customer, body="Still too small")
        assert ticket.status == Status.OPEN

    client.submit("/language", {"language": "ar"})
    arabic = client.get("/admin/automations").get_data(as_text=True)
    assert "إعادة فتح التذكرة عند رد العميل" in arabic
