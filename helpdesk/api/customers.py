"""``/api/v1/customers``: search, read, create, update; a customer's tickets and orders (read-only)."""

from __future__ import annotations

from flask_smorest import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from helpdesk.api.auth import api_auth, api_user
from helpdesk.api.blueprints import api_blueprint
from helpdesk.api.models import TokenScope
from helpdesk.api.schemas import (
    MAX_ID,
    CustomerCreateSchema,
    CustomerListArgsSchema,
    CustomerPageSchema,
    CustomerSchema,
    CustomerUpdateSchema,
    OrderPageSchema,
    PageArgsSchema,
    TicketPageSchema,
)
from helpdesk.api.tickets import ticket_page
from helpdesk.customers import accounts
from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.extensions import db
from helpdesk.tickets import queries
from helpdesk.transaction import unit_of_work

bp = api_blueprint(
    "Customers", "/api/v1/customers", "Customers, with their tickets and their shop orders (read-only)."
)
CUSTOMER_ID = "<id:customer_id>"


def id_cursor(args: dict) -> int | None:
    """The id in ``args['cursor']`` (pages ordered by id, newest first), or None for the first page."""
    if not args.get("cursor"):
        return None
    cursor = args["cursor"]
    if not cursor.isascii() or not cursor.isdigit() or not 0 < int(cursor) <= MAX_ID:
        abort(400, message="Invalid page cursor: pass the next_cursor of the previous page.")
    return int(cursor)


def _customer(customer_id: int) -> Customer:
    customer = db.session.scalar(
        select(Customer).where(Customer.id == customer_id).options(selectinload(Customer.emails))
    )
    if customer is None:
        abort(404, message=f"No customer has the id {customer_id}.")
    return customer


@bp.route("", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.arguments(CustomerListArgsSchema, location="query", as_kwargs=True)
@bp.response(200, CustomerPageSchema)
def list_customers(**args):
    """Customers, newest first; `q` matches part of a name or an email address."""
    query = select(Customer).options(selectinload(Customer.emails)).order_by(Customer.id.desc())
    if args.get("q"):
        pattern = "%" + args["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with_email = select(CustomerEmail.customer_id).where(CustomerEmail.email.ilike(pattern, escape="\\"))
        query = query.where(or_(Customer.name.ilike(pattern, escape="\\"), Customer.id.in_(with_email)))
    after = id_cursor(args)
    if after is not None:
        query = query.where(Customer.id < after)
    limit = args["limit"]
    found = db.session.scalars(query.limit(limit + 1)).all()
    return {"items": found[:limit], "next_cursor": str(found[limit - 1].id) if len(found) > limit else None}


@bp.route("", methods=["POST"])
@api_auth(TokenScope.WRITE)
@bp.arguments(CustomerCreateSchema)
@bp.response(201, CustomerSchema)
def create_customer(data: dict):
    """A new customer; an email address another customer already has is refused (409)."""
    with unit_of_work():
        return accounts.create_customer(actor=api_user(), **data)


@bp.route(f"/{CUSTOMER_ID}", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.response(200, CustomerSchema)
def get_customer(customer_id: int):
    """One customer."""
    return _customer(customer_id)


@bp.route(f"/{CUSTOMER_ID}", methods=["PATCH"])
@api_auth(TokenScope.WRITE)
@bp.arguments(CustomerUpdateSchema)
@bp.response(200, CustomerSchema)
def update_customer(data: dict, customer_id: int):
    """Change the given fields; a new `email` becomes the primary address, the old ones are kept."""
    with unit_of_work():
        return accounts.update_customer(_customer(customer_id), actor=api_user(), **data)


@bp.route(f"/{CUSTOMER_ID}/tickets", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@bp.response(200, TicketPageSchema)
def customer_tickets(customer_id: int, **args):
    """The customer's tickets, most recently updated first."""
    customer = _customer(customer_id)
    return ticket_page(queries.customer_tickets(customer.id), args)


@bp.route(f"/{CUSTOMER_ID}/orders", methods=["GET"])
@api_auth(TokenScope.READ)
@bp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@bp.response(200, OrderPageSchema)
def customer_orders(customer_id: int, **args):
    """The customer's shop orders, newest first."""
    customer = _customer(customer_id)
    query = select(Order).where(Order.customer_id == customer.id).order_by(Order.id.desc())
    after = id_cursor(args)
    if after is not None:
        query = query.where(Order.id < after)
    limit = args["limit"]
    found = db.session.scalars(query.limit(limit + 1)).all()
    return {"items": found[:limit], "next_cursor": str(found[limit - 1].id) if len(found) > limit else None}
