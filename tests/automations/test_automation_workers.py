"""Two workers running the automations at once never apply a rule twice to a ticket (the ledger's
unique row is taken before the actions). Meant for PostgreSQL (``HELPDESK_TEST_DATABASE_URL``);
on SQLite the writers take turns, and the result must be the same."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from helpdesk.automations.models import AutomationApplication
from helpdesk.automations.runs import run_automations
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.models import OutboundEmail
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Message, Status
from helpdesk.transaction import unit_of_work
from tests.factories import make_automation, make_customer, make_ticket


def test_two_workers_never_apply_a_rule_twice(app):
    customer = make_customer()
    opened = [make_ticket(customer=customer, subject=f"case {n}") for n in range(40)]
    with unit_of_work():
        for ticket in opened:
            tickets.change_status(ticket, Status.PENDING, actor=None)
    rule = make_automation(
        name="Remind once",
        kind="automation",
        conditions={"all": [{"field": "status", "op": "is", "value": ["pending"]}]},
        actions=[{"type": "email_customer", "value": {"body_en": "Any news?", "body_ar": "هل من جديد؟"}}],
        once_per_ticket=True,
    )
    start = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        with app.app_context():
            start.wait()
            try:
                results.append(run_automations(utcnow() + timedelta(hours=1)))
            except Exception as error:  # reported below, with the other worker's result
                results.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["applied"] for r in results) == 40
    count = select(func.count(AutomationApplication.id)).where(AutomationApplication.rule_id == rule.id)
    assert db.session.scalar(count) == 40
    emails = (
        select(OutboundEmail.ticket_id, func.count())
        .where(OutboundEmail.kind == "automation")
        .group_by(OutboundEmail.ticket_id)
    )
    assert [n for _id, n in db.session.execute(emails)] == [1] * 40
    assert db.session.scalar(select(func.count(Message.id)).where(Message.event == "automation")) == 40
