"""Applying rules: one application (ledger row, actions, timeline event) inside a savepoint, the
triggers' run on a ticket event, and the automations' pass run by the worker.

The ledger row is inserted first, with ON CONFLICT DO NOTHING on (rule, ticket, ticket version): only
the transaction whose insert took applies the actions, so two workers that found the same ticket, or
a rule meeting the ticket it already changed, do nothing. A failing rule is rolled back to its
savepoint and logged; the change that fired it, and the other rules, go on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Select, exists, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from helpdesk.automations.actions import apply_actions
from helpdesk.automations.conditions import Facts, cheapest_first, needs_python, rule_holds, rule_to_sql
from helpdesk.automations.models import AUTOMATION_STATUSES, AutomationApplication, AutomationRule, RuleKind
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import service as tickets
from helpdesk.tickets.models import Ticket
from helpdesk.transaction import unit_of_work
from helpdesk.worker.runner import register_job

log = logging.getLogger("helpdesk.automations")

PASS_BATCH = 500


def _record(rule_id: int, ticket_id: int, version: int) -> bool:
    """Insert the ledger row unless it exists; whether this call inserted it."""
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(AutomationApplication)
        .values(rule_id=rule_id, ticket_id=ticket_id, ticket_version=version, applied_at=utcnow())
        .on_conflict_do_nothing(index_elements=["rule_id", "ticket_id", "ticket_version"])
        .returning(AutomationApplication.id)
    )
    return db.session.execute(statement).scalar() is not None


def apply_rule(
    rule: AutomationRule | ActiveTrigger, ticket: Ticket, *, version: int | None = None
) -> list | None:
    """Apply the rule once to the ticket at ``version`` (default: its current one); what was done,
    or None when it was applied already or failed (logged, rolled back to the savepoint)."""
    rule_id, name, once = rule.id, rule.name, rule.once_per_ticket
    marker = 0
    try:
        with db.session.begin_nested():  # flushes first: a ticket opened just now gets its id
            marker = 0 if once else (version or ticket.version)
            if not _record(rule_id, ticket.id, marker):
                return None
            done = apply_actions(rule, ticket)
            tickets.record_event(
                ticket, "automation", json.dumps({"rule": name, "did": done}, ensure_ascii=False)
            )
            db.session.flush()
        return done
    except Exception:
        log.exception("automation rule %s (%s) failed on ticket %s; skipped", rule_id, name, ticket.id)
        try:  # not retried at every pass: only once the ticket has changed
            with db.session.begin_nested():
                _record(rule_id, ticket.id, marker or ticket.version)
        except Exception:
            log.exception("could not record the failed application of rule %s", rule_id)
        return None


# --- triggers ------------------------------------------------------------------------------------

_RUNNING = "automation_triggers_running"
_APPLIED = "automation_triggers_applied"
RULES_RECHECK_SECONDS = 1.0


def run_triggers(ticket: Ticket, event: str, message: Any = None) -> int:
    """Run the active triggers listening to ``event`` on the ticket, in order, in the caller's
    transaction. A trigger applies at most once per ticket and transaction; a change made by one is
    seen by the next, and by earlier ones on another round; at most ``AUTOMATION_MAX_APPLICATIONS``
    applications per event (the ticket's timeline says so when the limit stops the run)."""
    session = db.session
    if session.info.get(_RUNNING):
        return 0  # a change made by a trigger: the run in progress looks at the ticket again
    found = [r for r in _active_triggers(session) if event in (r.events or [])]
    if not found:
        return 0
    limit = current_app.config["AUTOMATION_MAX_APPLICATIONS"]
    # (rule id, id(ticket)) → ticket: holding the ticket keeps its id() from being reused.
    applied_here: dict = session.info.setdefault(_APPLIED, {})
    count = 0
    session.info[_RUNNING] = True
    try:
        again = True
        while again:
            again = False
            # One set of facts per round: the text and SLA rows a trigger reads do not change with
            # the ticket's fields, which are read from the ticket itself (so a change is seen).
            facts = Facts(ticket=ticket, now=utcnow(), message=message)
            for rule in found:
                key = (rule.id, id(ticket))
                if key in applied_here:
                    continue
                try:
                    # Reading the ticket's tags, customer or order must not flush the publisher's
                    # half-made change (the publisher decides when it is written).
                    with session.no_autoflush:
                        matched = rule_holds(rule.conditions, facts)
                except Exception:
                    log.exception("automation rule %s could not be evaluated; skipped", rule.id)
                    continue
                if not matched:
                    continue
                if count >= limit:
                    log.warning("trigger run on ticket %s stopped after %s applications", ticket.id, limit)
                    tickets.record_event(ticket, "automation_limit", str(limit))
                    return count
                applied_here[key] = ticket
                if apply_rule(rule, ticket) is not None:
                    count += 1
                    again = True
    finally:
        session.info.pop(_RUNNING, None)
    return count


@dataclass(frozen=True)
class ActiveTrigger:
    """A trigger as plain data, kept by the process between transactions."""

    id: int
    name: str
    events: tuple[str, ...]
    conditions: dict
    actions: list
    once_per_ticket: bool


_cache_lock = threading.Lock()


def _active_triggers(session) -> list[ActiveTrigger]:
    """The active triggers in order, each group of conditions cheapest first. Read without flushing
    (the publisher decides when its changes are written: a batch of inbound mail flushes once) and
    kept by the process for ``RULES_RECHECK_SECONDS``; a rule saved in this process applies at once
    (``forget_cached_rules``), one saved in another within that time."""
    cache = current_app.extensions.setdefault("automation_triggers", {"at": None, "rules": []})
    with _cache_lock:
        fresh = cache["at"] is not None and time.monotonic() - cache["at"] < RULES_RECHECK_SECONDS
        if fresh:
            return cache["rules"]
    with session.no_autoflush:
        rules = [
            ActiveTrigger(
                r.id,
                r.name,
                tuple(r.events or ()),
                cheapest_first(r.conditions),
                r.actions,
                r.once_per_ticket,
            )
            for r in session.scalars(
                select(AutomationRule)
                .where(AutomationRule.kind == RuleKind.TRIGGER, AutomationRule.is_active)
                .order_by(AutomationRule.position, AutomationRule.id)
            )
        ]
    with _cache_lock:
        cache.update(at=time.monotonic(), rules=rules)
    return rules


def forget_cached_rules() -> None:
    """After a rule is saved, moved, switched or deleted in this process."""
    cache = current_app.extensions.get("automation_triggers")
    if cache is not None:
        with _cache_lock:
            cache["at"] = None


def forget_applied(session) -> None:
    """A new transaction may apply the triggers again (the ledger's ticket version tells them apart)."""
    session.info.pop(_APPLIED, None)


# --- automations ---------------------------------------------------------------------------------


def candidates_query(rule: AutomationRule, now: datetime) -> Select:
    """(id, version) of the tickets the rule's SQL conditions match now, not yet handled at that
    version (or at all, for once-per-ticket rules), oldest first."""
    handled = exists().where(
        AutomationApplication.rule_id == rule.id,
        AutomationApplication.ticket_id == Ticket.id,
        AutomationApplication.ticket_version == (0 if rule.once_per_ticket else Ticket.version),
    )
    return (
        select(Ticket.id, Ticket.version)
        .where(
            Ticket.status.in_(AUTOMATION_STATUSES),
            Ticket.merged_into_id.is_(None),
            rule_to_sql(rule.conditions, now),
            ~handled,
        )
        .order_by(Ticket.id)
    )


def run_automations(now: datetime | None = None) -> dict[str, int]:
    """One pass of every active automation, in order, over the tickets that are not closed.

    Candidates come from one indexed query per rule (the conditions compiled to SQL, tickets already
    handled at their current version left out); only text and business-hours conditions are then
    checked in Python on those candidates. Commits per batch."""
    now = now or utcnow()
    most = current_app.config["AUTOMATIONS_PASS_LIMIT"]
    applied = candidates = 0
    rule_ids = db.session.scalars(
        select(AutomationRule.id)
        .where(AutomationRule.kind == RuleKind.AUTOMATION, AutomationRule.is_active)
        .order_by(AutomationRule.position, AutomationRule.id)
    ).all()
    for rule_id in rule_ids:
        rule = db.session.get(AutomationRule, rule_id)
        conditions = cheapest_first(rule.conditions)
        exact = not needs_python(conditions)
        query = candidates_query(rule, now)
        # At most ``most`` applications per rule and pass, so a new rule matching a large backlog
        # leaves the worker's other jobs their turn; the rest follows in the next passes. (Not a
        # limit on the candidates of an inexact rule: those that fail the Python check stay.)
        rows = db.session.execute(query.limit(most) if exact else query).all()
        db.session.commit()
        candidates += len(rows)
        done_here = 0
        for start in range(0, len(rows), PASS_BATCH):
            if done_here >= most:
                break
            chunk = rows[start : start + PASS_BATCH]
            with unit_of_work():
                rule = db.session.get(AutomationRule, rule_id)
                loaded = {
                    t.id: t
                    for t in db.session.scalars(select(Ticket).where(Ticket.id.in_([r[0] for r in chunk])))
                }
                for ticket_id, version in chunk:
                    ticket = loaded.get(ticket_id)
                    if ticket is None or ticket.version != version:
                        continue  # changed since the query: the next pass looks again
                    if not exact and not rule_holds(conditions, Facts(ticket=ticket, now=now)):
                        continue
                    if done_here >= most:
                        break
                    if apply_rule(rule, ticket, version=version) is not None:
                        applied += 1
                        done_here += 1
    return {"rules": len(rule_ids), "candidates": candidates, "applied": applied}


@register_job("automations.run", every_seconds=30)
def run_automations_job(app: Flask) -> dict[str, int] | str:
    """The worker's pass, every ``AUTOMATIONS_INTERVAL_SECONDS``; the clock is
    ``app.extensions["automations_clock"]`` when set (tests move it forward)."""
    state = app.extensions.setdefault("automations_state", {"last": None})
    started = time.monotonic()
    if state["last"] is not None and started - state["last"] < app.config["AUTOMATIONS_INTERVAL_SECONDS"]:
        return "not due"
    state["last"] = started
    clock = app.extensions.get("automations_clock", utcnow)
    return run_automations(clock())
