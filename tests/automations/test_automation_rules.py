"""Automation rules: validation and the safety check, triggers on events, the worker's pass, the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from helpdesk.auth.models import Role
from helpdesk.automations import service
from helpdesk.automations.models import AutomationApplication, RuleKind
from helpdesk.automations.runs import run_automations
from helpdesk.customers.models import Tier
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.mail.models import OutboundEmail
from helpdesk.tickets import service as tickets
from helpdesk.tickets.labels import describe_change
from helpdesk.tickets.models import Message, Priority, Status, Ticket
from helpdesk.transaction import unit_of_work
from tests.factories import make_automation, make_customer, make_queue, make_staff, make_ticket


def applications(rule_id: int | None = None) -> int:
    query = select(func.count(AutomationApplication.id))
    if rule_id is not None:
        query = query.where(AutomationApplication.rule_id == rule_id)
    return db.session.scalar(query)


def automation_events(ticket: Ticket) -> list[str]:
    with force_locale("en"):
        return [
            describe_change(m.kind, m.event, m.body_text)
            for m in db.session.scalars(
                select(Message)
                .where(Message.ticket_id == ticket.id, Message.event == "automation")
                .order_by(Message.id)
            )
        ]


# --- validation and safety -------------------------------------------------------------------------


def test_an_automation_whose_action_does_not_undo_its_conditions_is_refused_with_a_clear_message(app):
    with pytest.raises(service.InvalidRule, match="again at every run"), force_locale("en"):
        service.save_rule(
            None,
            actor=None,
            name="Nag",
            kind=RuleKind.AUTOMATION,
            conditions={"all": [{"field": "status", "op": "is", "value": ["pending"]}]},
            actions=[{"type": "email_staff", "value": "supervisor"}],
        )


def test_an_automation_is_safe_with_a_condition_its_action_makes_false_or_once_per_ticket(app):
    pending_then_close = service.save_rule(
        None,
        actor=None,
        name="Close",
        kind="automation",
        conditions={"all": [{"field": "status", "op": "is", "value": ["pending"]}]},
        actions=[{"type": "set_status", "value": "closed"}],
    )
    tagged = service.save_rule(
        None,
        actor=None,
        name="Remind",
        kind="automation",
        conditions={"all": [{"field": "tags", "op": "lacks", "value": "reminded"}]},
        actions=[{"type": "add_tags", "value": ["reminded"]}],
    )
    once = service.save_rule(
        None,
        actor=None,
        name="Tell",
        kind="automation",
        conditions={"all": [{"field": "priority", "op": "is", "value": ["high"]}]},
        actions=[{"type": "email_staff", "value": "supervisor"}],
        once_per_ticket=True,
    )
    assert [r.position for r in (pending_then_close, tagged, once)] == [1, 2, 3]


def test_time_conditions_belong_to_automations_and_unknown_fields_are_named(app):
    with pytest.raises(service.InvalidRule, match="automations, not triggers"), force_locale("en"):
        service.save_rule(
            None,
            actor=None,
            name="x",
            kind="trigger",
            events=["created"],
            conditions={"all": [{"field": "hours_since_created", "op": "at_least", "value": 3}]},
            actions=[{"type": "set_priority", "value": "high"}],
        )
    with pytest.raises(service.InvalidRule, match="colour"), force_locale("en"):
        service.save_rule(
            None,
            actor=None,
            name="x",
            kind="trigger",
            events=["created"],
            conditions={"all": [{"field": "colour", "op": "is", "value": "red"}]},
            actions=[{"type": "set_priority", "value": "high"}],
        )


# --- triggers ----------------------------------------------------------------------------------------


def test_a_trigger_routes_a_message_mentioning_returns_in_arabic_with_diacritics(app):
    returns = make_queue("returns")
    make_automation(
        name="Returns",
        events=["created", "customer_message"],
        conditions={"any": [{"field": "text", "op": "contains", "value": ["استرجاع", "return"]}]},
        actions=[{"type": "set_queue", "value": returns.id}],
    )
    ticket = make_ticket(subject="طلب", body="أريد اِسْتِرجاع الطلب من فضلكم")
    assert ticket.queue_id == returns.id
    assert automation_events(ticket) == ["Automation «Returns» moved the ticket to queue returns"]
    other = make_ticket(subject="Where is my parcel?", body="Still waiting")
    assert other.queue_id is None


def test_triggers_run_in_order_and_a_change_by_one_is_seen_by_the_next(app):
    make_automation(
        name="VIP high",
        events=["created"],
        conditions={"all": [{"field": "customer_tier", "op": "is", "value": ["vip"]}]},
        actions=[{"type": "set_priority", "value": "high"}],
    )
    make_automation(
        name="High tagged",
        events=["created"],
        conditions={"all": [{"field": "priority", "op": "is", "value": ["high"]}]},
        actions=[{"type": "add_tags", "value": ["vip-fast"]}],
    )
    ticket = make_ticket(customer=make_customer(tier=Tier.VIP))
    assert ticket.priority == Priority.HIGH
    assert [t.name for t in ticket.tags] == ["vip-fast"]
    assert len(automation_events(ticket)) == 2


def test_two_triggers_undoing_each_other_do_not_loop_and_the_run_is_bounded(app):
    make_automation(
        name="Up",
        events=["updated"],
        conditions={"all": [{"field": "priority", "op": "is", "value": ["low"]}]},
        actions=[{"type": "set_priority", "value": "high"}],
    )
    make_automation(
        name="Down",
        events=["updated"],
        conditions={"all": [{"field": "priority", "op": "is", "value": ["high"]}]},
        actions=[{"type": "set_priority", "value": "low"}],
    )
    ticket = make_ticket()
    with unit_of_work():
        tickets.change_priority(ticket, Priority.LOW, actor=None)
    # each trigger applied once in the transaction: low → high (Up) → low (Down), then it stops
    assert ticket.priority == Priority.LOW
    assert applications() == 2


def test_the_run_stops_at_the_limit_and_says_so_on_the_ticket(app):
    app.config["AUTOMATION_MAX_APPLICATIONS"] = 2
    for n in range(4):
        make_automation(
            name=f"Tag {n}",
            events=["created"],
            conditions={"all": []},
            actions=[{"type": "add_tags", "value": [f"t{n}"]}],
        )
    ticket = make_ticket()
    assert [t.name for t in ticket.tags] == ["t0", "t1"]
    limit = db.session.scalar(
        select(Message).where(Message.ticket_id == ticket.id, Message.event == "automation_limit")
    )
    with force_locale("en"):
        described = describe_change(limit.kind, limit.event, limit.body_text)
    assert described == (
        "Automation rules stopped: the limit of rule applications per change (2) was reached."
    )


def test_a_failing_rule_is_skipped_and_never_blocks_the_change(app, caplog):
    make_automation(
        name="Broken",
        events=["customer_message"],
        conditions={"all": []},
        actions=[{"type": "set_status", "value": "solved"}, {"type": "email_staff", "value": "supervisor"}],
    )
    make_automation(
        name="Tagger",
        events=["customer_message"],
        conditions={"all": []},
        actions=[{"type": "add_tags", "value": ["seen"]}],
    )
    ticket = make_ticket()
    with unit_of_work():
        tickets.add_message(ticket, author=ticket.customer, body="any news?")
    db.session.expire_all()
    assert ticket.status == Status.NEW  # the broken rule's status change was rolled back with it
    assert [t.name for t in ticket.tags] == ["seen"]
    assert len(ticket.messages) == 2 + 1 + 1  # first message, reply, tags event, automation event
    assert "failed on ticket" in caplog.text


# --- automations -------------------------------------------------------------------------------------


def pending_for(days: float) -> Ticket:
    ticket = make_ticket()
    with unit_of_work():
        tickets.change_status(ticket, Status.PENDING, actor=None, at=utcnow() - timedelta(days=days))
        ticket.updated_at = utcnow() - timedelta(days=days)
    return ticket


def test_an_automation_applies_once_and_not_again_until_the_ticket_changes_back(app):
    rule = make_automation(
        name="Remind",
        kind="automation",
        conditions={
            "all": [
                {"field": "status", "op": "is", "value": ["pending"]},
                {"field": "hours_since_status_set", "op": "at_least", "value": {"hours": 72}},
            ]
        },
        actions=[
            {"type": "email_customer", "value": {"body_en": "Hello {{ customer_name }}", "body_ar": "مرحبا"}}
        ],
        once_per_ticket=False,
        safety=False,
    )
    old, fresh = pending_for(4), pending_for(1)
    assert run_automations()["applied"] == 1
    assert run_automations()["applied"] == 0  # same version: the ledger says it was done
    assert applications(rule.id) == 1
    emails = db.session.scalars(select(OutboundEmail).where(OutboundEmail.kind == "automation")).all()
    assert [e.ticket_id for e in emails] == [old.id]
    assert fresh.id not in [e.ticket_id for e in emails]
    # the ticket changes (a note), still pending: the rule may apply again
    with unit_of_work():
        tickets.change_tags(old, ["x"], actor=None)
    assert run_automations()["applied"] == 1


def test_business_hours_are_counted_in_the_ticket_calendar(app):
    from helpdesk.sla.service import ensure_default_setup

    ensure_default_setup()
    make_automation(
        name="Slow",
        kind="automation",
        conditions={
            "all": [
                {"field": "status", "op": "is", "value": ["pending"]},
                {
                    "field": "hours_since_status_set",
                    "op": "at_least",
                    "value": {"hours": 24, "business": True},
                },
                {"field": "tags", "op": "lacks", "value": "slow"},
            ]
        },
        actions=[{"type": "add_tags", "value": ["slow"]}],
    )
    ticket = pending_for(2)  # two calendar days is at most 16 business hours (09–17, Sunday–Thursday)
    assert run_automations()["applied"] == 0
    assert run_automations(utcnow() + timedelta(days=7))["applied"] == 1
    db.session.refresh(ticket)
    assert [t.name for t in ticket.tags] == ["slow"]


def test_dry_run_lists_matching_tickets_and_changes_nothing(app):
    pending = pending_for(5)
    make_ticket()
    conditions = {"all": [{"field": "status", "op": "is", "value": ["pending"]}]}
    assert service.matching_tickets(conditions, "automation") == [pending]
    assert applications() == 0


def test_actions_assign_round_robin_email_the_supervisor_and_fire_the_webhook(app):
    from helpdesk.api.models import WebhookDelivery, WebhookEndpoint

    supervisor, agent = make_staff(Role.SUPERVISOR), make_staff()
    queue = make_queue("vip", supervisor=supervisor, members=[agent])
    db.session.add(WebhookEndpoint(url="https://hooks.test/x", secret="s", events=["automation.applied"]))
    db.session.commit()
    make_automation(
        name="VIP desk",
        events=["created"],
        conditions={"all": [{"field": "queue", "op": "is", "value": [queue.id]}]},
        actions=[
            {"type": "assign", "value": "round_robin"},
            {"type": "email_staff", "value": "supervisor"},
            {"type": "webhook"},
        ],
    )
    ticket = make_ticket(queue=queue)
    assert ticket.assignee_id == agent.id
    to = db.session.scalars(select(OutboundEmail.to).where(OutboundEmail.kind == "automation")).all()
    assert to == [supervisor.email]
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.event == "automation.applied"))
    assert delivery.payload["data"]["automation"]["name"] == "VIP desk"
    assert delivery.payload["data"]["ticket"]["number"] == ticket.number


def test_a_failing_automation_is_not_retried_until_the_ticket_changes(app):
    make_automation(
        name="Impossible",
        kind="automation",
        conditions={"all": [{"field": "status", "op": "is", "value": ["solved"]}]},
        actions=[{"type": "set_status", "value": "pending"}],  # solved → pending is not allowed
    )
    ticket = make_ticket(status=Status.SOLVED)
    assert run_automations()["applied"] == 0
    assert run_automations()["candidates"] == 0  # recorded at this version: not tried again
    with unit_of_work():
        tickets.change_tags(ticket, ["again"], actor=None)
    assert run_automations()["candidates"] == 1


def test_a_large_backlog_is_worked_through_over_several_passes(app):
    app.config["AUTOMATIONS_PASS_LIMIT"] = 2
    make_automation(
        name="Tag pending",
        kind="automation",
        conditions={"all": [{"field": "tags", "op": "lacks", "value": "seen"}]},
        actions=[{"type": "add_tags", "value": ["seen"]}],
    )
    for _ in range(5):
        make_ticket()
    assert [run_automations()["applied"] for _ in range(4)] == [2, 2, 1, 0]


def test_automations_run_in_order_and_one_sees_what_the_previous_did_in_the_same_pass(app):
    make_automation(
        name="First",
        kind="automation",
        conditions={"all": [{"field": "tags", "op": "lacks", "value": "first"}]},
        actions=[{"type": "add_tags", "value": ["first"]}],
    )
    make_automation(
        name="Second",
        kind="automation",
        conditions={
            "all": [
                {"field": "tags", "op": "has", "value": "first"},
                {"field": "tags", "op": "lacks", "value": "second"},
            ]
        },
        actions=[{"type": "add_tags", "value": ["second"]}],
    )
    ticket = make_ticket()
    assert run_automations()["applied"] == 2
    db.session.expire_all()
    assert [t.name for t in ticket.tags] == ["first", "second"]
    assert automation_events(ticket) == [
        "Automation «First» added tags first",
        "Automation «Second» added tags second",
    ]
