"""Bulk actions on tickets selected in a queue: the action is read once, then applied to each ticket."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from helpdesk.auth.models import StaffUser
from helpdesk.extensions import db
from helpdesk.tickets import assignment, queries, service
from helpdesk.tickets.models import TAG_MAX_CHARS, Priority, Status, Ticket

ACTIONS = ("assign", "status", "priority", "tag", "merge")


class BadBulkAction(ValueError):
    """The action or its value makes no sense (unknown agent, status …); nothing was changed."""


def bulk_operation(action: str, value: str, *, actor: StaffUser, cap: int) -> Callable[[Ticket], object]:
    """What to do to each selected ticket; ``cap`` is the open-ticket cap of automatic assignment."""
    if action == "assign":
        if value == "auto":
            return lambda t: assignment.assign_round_robin(t, actor=actor, cap=cap)
        if value == "none":
            return lambda t: service.update_ticket(t, actor=actor, assignee=None)
        agent = db.session.get(StaffUser, int(value)) if value.isdigit() else None
        if agent is None:
            raise BadBulkAction(_("Unknown agent."))
        return lambda t: service.update_ticket(t, actor=actor, assignee=agent)
    if action == "status":
        status = _member(Status, value, _("Unknown status."))
        return lambda t: service.update_ticket(t, actor=actor, status=status)
    if action == "priority":
        priority = _member(Priority, value, _("Unknown priority."))
        return lambda t: service.update_ticket(t, actor=actor, priority=priority)
    if action == "tag":
        if len(value) > TAG_MAX_CHARS:
            raise BadBulkAction(_("Each tag may have at most %(max)s characters.", max=TAG_MAX_CHARS))
        return lambda t: service.update_ticket(t, actor=actor, add_tags=[value])
    if action == "merge":
        target = queries.ticket_by_number(value)
        if target is None:
            raise BadBulkAction(_("There is no ticket %(number)s.", number=value))
        return lambda t: None if t.id == target.id else service.merge(t, target, actor=actor)
    raise BadBulkAction(_("Unknown action."))


def _member(enum_cls, value: str, message: str):
    try:
        return enum_cls(value)
    except ValueError:
        raise BadBulkAction(message) from None
