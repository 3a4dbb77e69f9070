"""Automation rules at scale (part of `make bench`; alone: `python -m bench.automations`).

* a pass of 20 active automations over the generated 100,000 tickets: the first pass (which applies
  each rule to at most ``AUTOMATIONS_PASS_LIMIT`` of the tickets it matches) and the steady pass the
  worker runs every few minutes once the backlog is worked off (target: ≤ 10 s on SQLite: the
  conditions are SQL, only candidates are read);
* what 10 active triggers add to a customer reply (target: ≤ 3 ms).
Run on a scratch copy of the dataset: the rules change tickets.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import click
from flask import Flask

TRIGGER_REPLIES = 200


def _automation_specs() -> list[dict]:
    """20 automations of the kinds shops write: time since activity per status, SLA, tiers, text."""
    hours = lambda h, business=False: {"hours": h, "business": business}  # noqa: E731
    specs = []
    for n, (status, field, wait) in enumerate(
        [
            ("pending", "hours_since_status_set", hours(24, True)),
            ("pending", "hours_since_updated", hours(96)),
            ("open", "hours_since_customer_message", hours(48)),
            ("open", "hours_since_agent_reply", hours(8, True)),
            ("new", "hours_since_created", hours(4, True)),
            ("on_hold", "hours_since_updated", hours(240)),
            ("solved", "hours_since_status_set", hours(72)),
            ("open", "hours_since_created", hours(720)),
            ("pending", "hours_since_customer_message", hours(168)),
            ("new", "hours_since_created", hours(48)),
        ]
    ):
        specs.append(
            {
                "name": f"Bench time rule {n}",
                "conditions": {
                    "all": [
                        {"field": "status", "op": "is", "value": [status]},
                        {"field": field, "op": "at_least", "value": wait},
                        {"field": "tags", "op": "lacks", "value": f"bench-{n}"},
                    ]
                },
                "actions": [{"type": "add_tags", "value": [f"bench-{n}"]}],
            }
        )
    others = [
        [{"field": "priority", "op": "is", "value": ["urgent"]}, {"field": "sla", "op": "breached"}],
        [
            {"field": "customer_tier", "op": "is", "value": ["vip"]},
            {"field": "priority", "op": "is", "value": ["low"]},
        ],
        [
            {"field": "assignee", "op": "none"},
            {"field": "hours_since_created", "op": "at_least", "value": hours(72)},
        ],
        [
            {"field": "channel", "op": "is", "value": ["email"]},
            {"field": "language", "op": "is", "value": ["en"]},
        ],
        [{"field": "subject", "op": "contains", "value": ["استرجاع", "refund"]}],
        [{"field": "order_status", "op": "is", "value": ["cancelled"]}],
        [{"field": "email_domain", "op": "is", "value": ["example.com"]}],
        [{"field": "sla", "op": "due_soon"}],
        [
            {"field": "status", "op": "is_not", "value": ["solved"]},
            {"field": "priority", "op": "is", "value": ["high"]},
        ],
        [{"field": "tags", "op": "has", "value": "vip"}],
    ]
    for n, conditions in enumerate(others, len(specs)):
        specs.append(
            {
                "name": f"Bench rule {n}",
                "conditions": {"all": [*conditions, {"field": "tags", "op": "lacks", "value": f"bench-{n}"}]},
                "actions": [{"type": "add_tags", "value": [f"bench-{n}"]}],
            }
        )
    return specs


def _trigger_specs() -> list[dict]:
    """10 triggers on customer messages and updates. Each ends with "priority is urgent", so all its
    other conditions are evaluated on every reply but it seldom applies: what is measured is the
    cost of looking, which every reply pays (applying costs what the action costs anyway)."""
    urgent = {"field": "priority", "op": "is", "value": ["urgent"]}
    return [
        {
            "name": f"Bench trigger {n}",
            "events": ["customer_message", "updated"],
            "conditions": {"all": [*conditions.get("all", []), urgent], "any": conditions.get("any", [])},
            "actions": [{"type": "add_tags", "value": [f"trigger-{n}"]}],
        }
        for n, conditions in enumerate(
            [
                {"all": [{"field": "customer_tier", "op": "is", "value": ["vip"]}]},
                {
                    "any": [
                        {
                            "field": "text",
                            "op": "contains",
                            "value": ["استرجاع", "ارجاع", "return", "exchange"],
                        }
                    ]
                },
                {"all": [{"field": "priority", "op": "is", "value": ["urgent"]}]},
                {"all": [{"field": "channel", "op": "is", "value": ["api"]}]},
                {"all": [{"field": "tags", "op": "has", "value": "fragile"}]},
                {
                    "all": [
                        {"field": "language", "op": "is", "value": ["en"]},
                        {"field": "priority", "op": "is", "value": ["low"]},
                    ]
                },
                {"all": [{"field": "assignee", "op": "is", "value": 999999}]},
                {"all": [{"field": "order_status", "op": "is", "value": ["lost"]}]},
                {"all": [{"field": "email_domain", "op": "is", "value": ["nowhere.test"]}]},
                {"all": [{"field": "body", "op": "contains", "value": ["كسر", "broken"]}]},
            ]
        )
    ]


def _reply_times(ticket_ids: list[int]) -> list[float]:
    from helpdesk.extensions import db
    from helpdesk.tickets import service
    from helpdesk.tickets.models import Ticket
    from helpdesk.transaction import unit_of_work

    times = []
    for ticket_id in ticket_ids:
        ticket = db.session.get(Ticket, ticket_id)
        start = time.perf_counter()
        with unit_of_work():
            service.add_message(ticket, author=ticket.customer, body="Any news on my order?", notify=False)
        times.append((time.perf_counter() - start) * 1000)
        db.session.expunge_all()
    return times


def _settle(now) -> int:
    """Record what the first pass left for later passes as handled (one INSERT … SELECT per rule),
    instead of applying it for minutes: the steady pass then evaluates every rule over the same
    100,000 tickets as after a real catch-up, with nothing left to apply."""
    from sqlalchemy import insert, literal, select

    from helpdesk.automations.models import AutomationApplication, AutomationRule, RuleKind
    from helpdesk.automations.runs import candidates_query
    from helpdesk.extensions import db
    from helpdesk.transaction import unit_of_work

    total = 0
    with unit_of_work():
        for rule in db.session.scalars(
            select(AutomationRule).where(AutomationRule.kind == RuleKind.AUTOMATION)
        ):
            backlog = candidates_query(rule, now).subquery()
            when = literal(now, type_=AutomationApplication.__table__.c.applied_at.type)
            rows = select(literal(rule.id), backlog.c.id, backlog.c.version, when)
            columns = ["rule_id", "ticket_id", "ticket_version", "applied_at"]
            total += db.session.execute(insert(AutomationApplication).from_select(columns, rows)).rowcount
    return total


def time_automations(app: Flask, *, triggers_only: bool = False) -> dict:
    """The automations pass and the triggers' cost per reply (changes the database: use a scratch copy)."""
    from sqlalchemy import select

    from helpdesk.automations import service
    from helpdesk.automations.models import AutomationApplication
    from helpdesk.automations.runs import run_automations
    from helpdesk.dbtypes import utcnow
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Status, Ticket
    from helpdesk.transaction import unit_of_work

    with app.app_context():
        open_ids = db.session.scalars(
            select(Ticket.id)
            .where(Ticket.status.in_([Status.OPEN, Status.NEW]))
            .order_by(Ticket.id)
            .limit(2 * TRIGGER_REPLIES)
        ).all()
        baseline = _reply_times(open_ids[:TRIGGER_REPLIES])
        with unit_of_work():
            for spec in _trigger_specs():
                service.save_rule(None, actor=None, kind="trigger", **spec)
        before = db.session.scalar(select(db.func.count(AutomationApplication.id)))
        with_triggers = _reply_times(open_ids[TRIGGER_REPLIES:])
        trigger_applications = db.session.scalar(select(db.func.count(AutomationApplication.id))) - before
        if triggers_only:
            db.session.remove()
            return _trigger_figures(baseline, with_triggers, trigger_applications)
        with unit_of_work():
            for spec in _automation_specs():
                service.save_rule(None, actor=None, kind="automation", **spec)
        tickets = db.session.scalar(select(db.func.count(Ticket.id)))
        now = utcnow() + timedelta(minutes=1)
        start = time.perf_counter()
        first = run_automations(now)
        first_seconds = time.perf_counter() - start
        settled = _settle(now)
        start = time.perf_counter()
        steady = run_automations(now + timedelta(minutes=5))
        steady_seconds = time.perf_counter() - start
        db.session.remove()
    return {
        "tickets": tickets,
        "automations": first["rules"],
        "first_pass_seconds": round(first_seconds, 2),
        "first_pass_applied": first["applied"],
        "backlog_recorded_as_handled": settled,
        "steady_pass_seconds": round(steady_seconds, 2),
        "steady_pass_candidates": steady["candidates"],
        **_trigger_figures(baseline, with_triggers, trigger_applications),
    }


def _trigger_figures(baseline: list[float], with_triggers: list[float], applied: int) -> dict:
    return {
        "reply_ms_p50_without_triggers": round(statistics.median(baseline), 2),
        "reply_ms_p50_with_10_triggers": round(statistics.median(with_triggers), 2),
        "trigger_overhead_ms_p50": round(statistics.median(with_triggers) - statistics.median(baseline), 2),
        "trigger_applications_in_those_replies": applied,
    }


@click.command()
@click.option("--triggers-only", is_flag=True, help="Only the triggers' cost per reply.")
def main(triggers_only: bool) -> None:
    """Generate the dataset (without the search index, which these rules do not use) in its own
    folder if needed, copy it, and time the automations on the copy."""
    import json

    from bench import generate
    from bench.ours import scratch_database

    data_dir = generate.DATA_DIR / "automations"
    url = generate.default_database_url(data_dir)
    generate._reindex_if_available = lambda: {"reindex": "skipped"}
    generate.ensure_dataset(generate.Scale(), url, data_dir=data_dir)
    scratch_url, _where = scratch_database(url, data_dir)
    app = generate.bench_app(scratch_url, data_dir)
    click.echo(json.dumps(time_automations(app, triggers_only=triggers_only), indent=2))


if __name__ == "__main__":
    main()
