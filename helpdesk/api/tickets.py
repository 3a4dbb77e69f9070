"""``/api/v1/tickets``: list (the agent queue views), read, open, update, reply, internal note.

Views stay thin: every change goes through ``helpdesk.tickets.service``, like the agent UI.
"""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from helpdesk.api.auth import api_auth, api_user
from helpdesk.api.blueprints import api_blueprint, invalid
from helpdesk.api.models import TokenScope
from helpdesk.api.schemas import (
    MessageCreateSchema,
    MessageSchema,
    TicketCreateSchema,
    TicketListArgsSchema,
    TicketPageSchema,
    TicketSchema,
    TicketUpdateSchema,
)
from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Customer
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.tickets import queries, service
from helpdesk.tickets.models import Channel, MessageKind, Queue, Ticket
from helpdesk.transaction import unit_of_work

bp = api_blueprint("Tickets", "/api/v1/tickets", "The queue views, the thread, replies and notes.")

LIST_OPTIONS = (
    selectinload(Ticket.tags),
    joinedload(Ticket.customer).selectinload(Customer.emails),
    joinedload(Ticket.queue),
    joinedload(Ticket.assignee),
)


def ticket_page(query, args: dict) -> dict:
    """One page of a ticket query sorted by (updated_at, id) descending."""
    if args.get("cursor"):
        try:
            query = queries.after_cursor(query, args["cursor"])
        except ValueError:
            abort(400, message="Invalid page cursor: pass the next_cursor of the previous page.")
    limit = args["limit"]
    tickets = db.session.scalars(query.options(*LIST_OPTIONS).limit(limit + 1)).unique().all()
    next_cursor = queries.cursor_of(tickets[limit - 1]) if len(tickets) > limit else None
    return {"items": tickets[:limit], "next_cursor": next_cursor}


def _queue(slug: str) -> Queue:
    queue = db.session.scalar(select(Queue).where(Queue.slug == slug))
    if queue is None:
        invalid("queue", f"No queue has the slug {slug!r}.")
    return queue


def _assignee(staff_id: int) -> StaffUser:
    staff = db.session.get(StaffUser, staff_id)
    if staff is None or not staff.is_active:
        invalid("assignee_id", f"No active staff user has the id {staff_id}.")
    return staff


def _ticket(number: str) -> Ticket:
    ticket = queries.ticket_by_number(number)
    if ticket is None or ticket.merged_into_id is not None:
        abort(404, message=f"No ticket {number.upper()}.")
    return ticket


@bp.route("", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.arguments(TicketListArgsSchema, location="query", as_kwargs=True)
@bp.response(200, TicketPageSchema)
def list_tickets(**args):
    """List tickets of a queue view, most recently updated first.

    The views are the agent workspace's: `unassigned`, `mine`, `open` (all active), `breaching`
    (an SLA target due soon, none missed yet), `overdue` (an SLA target missed), `solved` (solved
    or closed); narrow them with the other filters."""
    query = queries.queue_query(args["view"], api_user().id, utcnow())
    if "queue" in args:
        query = query.where(Ticket.queue_id == _queue(args["queue"]).id)
    for column in ("status", "priority", "channel", "assignee_id", "customer_id"):
        if column in args:
            query = query.where(getattr(Ticket, column) == args[column])
    return ticket_page(query, args)


@bp.route("", methods=["POST"])
@api_auth(TokenScope.WRITE)
@bp.arguments(TicketCreateSchema)
@bp.response(201, TicketSchema)
def create_ticket(data: dict):
    """Open a ticket for a customer; `body` is the customer's first message (channel `api`)."""
    customer = db.session.get(Customer, data["customer_id"])
    if customer is None:
        invalid("customer_id", f"No customer has the id {data['customer_id']}.")
    queue = _queue(data["queue"]) if "queue" in data else None
    assignee = _assignee(data["assignee_id"]) if "assignee_id" in data else None
    with unit_of_work():
        ticket = service.open_ticket(
            customer=customer,
            subject=data["subject"],
            body=data["body"],
            channel=Channel.API,
            queue=queue,
            priority=data["priority"],
            tags=data.get("tags", ()),
        )
        if assignee is not None:
            service.assign(ticket, assignee, actor=api_user())
    return _ticket(ticket.number)


@bp.route("/<ticket_number:number>", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.response(200, TicketSchema)
def get_ticket(number: str):
    """One ticket."""
    return _ticket(number)


@bp.route("/<ticket_number:number>", methods=["PATCH"])
@api_auth(TokenScope.WRITE)
@bp.arguments(TicketUpdateSchema)
@bp.response(200, TicketSchema)
def update_ticket(data: dict, number: str):
    """Change status, priority, assignee or tags, in one transaction.

    `version` must be the ticket's current version: if someone changed it since you read it, nothing
    is changed and the answer is 409 saying what changed. A status the ticket cannot move to is 409 too."""
    ticket = _ticket(number)
    changes = {key: data[key] for key in ("priority", "tags", "status") if key in data}
    if "assignee_id" in data:
        changes["assignee"] = _assignee(data["assignee_id"]) if data["assignee_id"] is not None else None
    with unit_of_work():
        service.update_ticket(ticket, actor=api_user(), expected_version=data["version"], **changes)
    return _ticket(number)


@bp.route("/<ticket_number:number>/messages", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.response(200, MessageSchema(many=True))
def list_messages(number: str):
    """The whole thread, oldest first: public replies, internal notes and system events."""
    return queries.thread(_ticket(number), public_only=False)


def _add(number: str, data: dict, kind: MessageKind):
    ticket = _ticket(number)
    with unit_of_work():
        message = service.add_message(
            ticket,
            author=api_user(),
            body=data["body"],
            kind=kind,
            channel=Channel.API,
            expected_version=data.get("version"),
        )
    return message


@bp.route("/<ticket_number:number>/replies", methods=["POST"])
@api_auth(TokenScope.WRITE)
@bp.arguments(MessageCreateSchema)
@bp.response(201, MessageSchema)
def add_reply(data: dict, number: str):
    """A public reply from the token's user (the customer sees it). A closed ticket refuses (409)."""
    return _add(number, data, MessageKind.REPLY)


@bp.route("/<ticket_number:number>/notes", methods=["POST"])
@api_auth(TokenScope.WRITE)
@bp.arguments(MessageCreateSchema)
@bp.response(201, MessageSchema)
def add_note(data: dict, number: str):
    """An internal note: staff only, never shown to the customer."""
    return _add(number, data, MessageKind.NOTE)
