"""Saved views: save the queue's current filters under a name, for oneself or shared with a queue;
list the views an agent sees, with their ticket counts (one query for all), reorder, delete.

Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from helpdesk.agents.models import SavedView
from helpdesk.agents.queue_filters import FILTER_ARGS, BadQueueFilter, queue_filters
from helpdesk.audit import service as audit
from helpdesk.auth.models import Role, StaffUser
from helpdesk.custom_fields.models import CustomField
from helpdesk.custom_fields.queries import FILTER_PREFIX
from helpdesk.custom_fields.values import InvalidFieldValue
from helpdesk.extensions import db
from helpdesk.ordering import move_in_order
from helpdesk.tickets import queries
from helpdesk.tickets.errors import NotAllowed
from helpdesk.tickets.models import Queue, Ticket, queue_members

MAX_VIEWS = 30  # the views one agent sees (their own and those shared with their queues)
NAME_MAX = 120
SORTS = ("due", "updated", "created", "priority")


class InvalidSavedView(BadQueueFilter):
    """A view that cannot be saved (no name, bad filters, a queue one may not share with)."""


def clean_query(args: Mapping[str, str]) -> dict[str, str]:
    """The arguments of the queue page a view keeps: the view, the filters, field filters, the sort."""
    kept: dict[str, str] = {}
    for name, value in args.items():
        value = str(value or "").strip()[:255]
        if not value:
            continue
        if name in ("view", "sort", *FILTER_ARGS) or (name.startswith(FILTER_PREFIX) and len(name) <= 70):
            kept[name] = value
    kept.setdefault("view", "open")
    if kept.get("sort") == "due":
        del kept["sort"]
    return kept


def _conditions(
    query: Mapping[str, str], fields: list[CustomField], user_id: int, now: datetime, locale: str
):
    filters, _args = queue_filters(query, fields, locale=locale)
    view = query.get("view", "open")
    return and_(
        queries.view_condition(view, user_id, now), Ticket.merged_into_id.is_(None), *filters.conditions()
    )


def my_queue_ids(user: StaffUser, queues: list[Queue]) -> set[int]:
    """The queues the agent belongs to or supervises, among ``queues`` (one query)."""
    members = set(
        db.session.scalars(select(queue_members.c.queue_id).where(queue_members.c.staff_id == user.id))
    )
    return {q.id for q in queues if q.id in members or q.supervisor_id == user.id}


def shareable_queues(user: StaffUser, queues: list[Queue], mine: set[int]) -> list[Queue]:
    """The queues a view can be shared with: the agent's own; any active one for supervisors."""
    return list(queues) if user.has_role(Role.SUPERVISOR) else [q for q in queues if q.id in mine]


def active_queues() -> list[Queue]:
    return list(db.session.scalars(select(Queue).where(Queue.is_active).order_by(Queue.name_en)))


def visible_views(user: StaffUser, mine: set[int]) -> list[SavedView]:
    """The agent's own views in their order, then those shared with the agent's queues (``mine``)."""
    return list(
        db.session.scalars(
            select(SavedView)
            .where(or_(SavedView.owner_id == user.id, SavedView.queue_id.in_(sorted(mine))))
            .options(joinedload(SavedView.owner), joinedload(SavedView.queue))
            .order_by((SavedView.owner_id != user.id), SavedView.position, SavedView.id)
            .limit(MAX_VIEWS)
        )
    )


def view_counts(
    views: list[SavedView], fields: list[CustomField], *, user_id: int, now: datetime, locale: str
) -> dict[int, int | None]:
    """Each view's ticket count, all in one query; None for a view whose filters no longer hold
    (a field archived since, say)."""
    parts, found = [], {}
    for view in views:
        try:
            condition = _conditions(view.query or {}, fields, user_id, now, locale)
        except (BadQueueFilter, InvalidFieldValue):
            found[view.id] = None
            continue
        parts.append(select(literal(view.id).label("view_id"), func.count(Ticket.id)).where(condition))
    if parts:
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        found |= {view_id: int(n) for view_id, n in db.session.execute(statement)}
    return found


def save_view(
    *,
    name: str,
    query: Mapping[str, str],
    owner: StaffUser,
    queue_id: int | None,
    fields: list[CustomField],
    locale: str,
) -> SavedView:
    """Save the filters under a name (checked as the queue checks them), personal or shared."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidSavedView(_("Give the view a name."))
    if len(name) > NAME_MAX:
        raise InvalidSavedView(_("A view's name has at most %(max)s characters.", max=NAME_MAX))
    kept = clean_query(query)
    if kept.get("sort", "due") not in SORTS:
        raise InvalidSavedView(_("Unknown sort order."))
    queue_filters(kept, fields, locale=locale)  # raises for a filter the queue would refuse
    queues = active_queues()
    if queue_id is not None and queue_id not in {
        q.id for q in shareable_queues(owner, queues, my_queue_ids(owner, queues))
    }:
        raise NotAllowed(_("You can share a view only with your own queues."))
    count = db.session.scalar(select(func.count(SavedView.id)).where(SavedView.owner_id == owner.id))
    if count >= MAX_VIEWS:
        raise InvalidSavedView(_("You have %(max)s saved views already: delete one first.", max=MAX_VIEWS))
    last = db.session.scalar(select(func.max(SavedView.position)).where(SavedView.owner_id == owner.id))
    view = SavedView(name=name, owner_id=owner.id, queue_id=queue_id, query=kept, position=(last or 0) + 1)
    db.session.add(view)
    db.session.flush()
    audit.record(
        "saved_view.saved", actor=owner, target=f"saved_view:{view.id}", name=name, queue_id=queue_id
    )
    return view


def _check_owner(view: SavedView, actor: StaffUser) -> None:
    if view.owner_id != actor.id and not actor.has_role(Role.SUPERVISOR):
        raise NotAllowed(_("Only the agent who saved this view can change it."))


def move_view(view: SavedView, step: int, *, actor: StaffUser) -> None:
    """Move one of the agent's own views up (-1) or down (+1) among them."""
    _check_owner(view, actor)
    move_in_order(SavedView, view, step, SavedView.owner_id == view.owner_id)
    db.session.flush()


def delete_view(view: SavedView, *, actor: StaffUser) -> None:
    _check_owner(view, actor)
    audit.record("saved_view.deleted", actor=actor, target=f"saved_view:{view.id}", name=view.name)
    db.session.delete(view)
    db.session.flush()
