"""Filling the local ``orders`` table: one validated record at a time, upserted by source + external id.

Error messages are in English: they are read by shop integrators (CLI, JSON API), not agents.
The CSV import and the signed webhook both go through ``parse_order`` and ``upsert_order``, so a
row means the same thing whichever way it arrives.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from helpdesk.customers.models import Customer, CustomerEmail, Order
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db

CSV_COLUMNS = (
    "source",
    "external_id",
    "number",
    "customer_email",
    "customer_name",
    "status",
    "total",
    "currency",
    "ordered_at",
    "carrier",
    "tracking_number",
    "items",
)
REQUIRED = ("external_id", "number", "customer_email", "status", "total")


class BadOrder(ValueError):
    """One order record is unusable; the message says which field and why."""


@dataclass
class OrderRecord:
    source: str
    external_id: str
    number: str
    customer_email: str
    customer_name: str
    status: str
    total: Decimal
    currency: str
    ordered_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    items: list = field(default_factory=list)


def parse_timestamp(raw: str) -> datetime:
    """ISO 8601; a time without a zone is taken as UTC."""
    value = datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _text(data: Mapping, name: str, limit: int) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if len(value) > limit:
        raise BadOrder(f"{name} is longer than {limit} characters")
    return value


def parse_order(data: Mapping, *, default_source: str = "local") -> OrderRecord:
    if not isinstance(data, Mapping):
        raise BadOrder("an order must be an object")
    missing = [name for name in REQUIRED if data.get(name) in (None, "")]
    if missing:
        raise BadOrder("missing " + ", ".join(missing))
    email = _text(data, "customer_email", 254).lower()
    if "@" not in email:
        raise BadOrder("customer_email is not an email address")
    try:
        total = Decimal(str(data["total"]).strip())
    except InvalidOperation as exc:
        raise BadOrder("total is not a number") from exc
    if not total.is_finite() or total < 0 or total >= Decimal("1e10"):
        raise BadOrder("total is not a number")
    ordered_at = None
    if data.get("ordered_at"):
        try:
            ordered_at = parse_timestamp(str(data["ordered_at"]))
        except ValueError as exc:
            raise BadOrder("ordered_at is not an ISO 8601 date/time") from exc
    items = data.get("items") or []
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError as exc:
            raise BadOrder("items is not a JSON list") from exc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BadOrder("items is not a JSON list")
    currency = _text(data, "currency", 3).upper() or "SAR"
    return OrderRecord(
        source=_text(data, "source", 40) or default_source,
        external_id=_text(data, "external_id", 80),
        number=_text(data, "number", 40),
        customer_email=email,
        customer_name=_text(data, "customer_name", 200),
        status=_text(data, "status", 40),
        total=total.quantize(Decimal("0.01")),
        currency=currency,
        ordered_at=ordered_at,
        carrier=_text(data, "carrier", 60) or None,
        tracking_number=_text(data, "tracking_number", 80) or None,
        items=items,
    )


def _customer_for(record: OrderRecord) -> Customer:
    """The customer with that address; a shop customer we have not met yet is created."""
    customer = db.session.scalar(
        select(Customer).join(CustomerEmail).where(CustomerEmail.email == record.customer_email)
    )
    if customer is None:
        customer = Customer(name=record.customer_name or record.customer_email.split("@")[0])
        customer.emails.append(CustomerEmail(email=record.customer_email, is_primary=True))
        db.session.add(customer)
        db.session.flush()
    return customer


def upsert_order(record: OrderRecord) -> tuple[Order, bool]:
    """Insert or update by (source, external id); returns the order and whether it was new.
    Joins the caller's transaction."""
    customer = _customer_for(record)
    order = db.session.scalar(
        select(Order).where(Order.source == record.source, Order.external_id == record.external_id)
    )
    created = order is None
    if order is None:
        order = Order(source=record.source, external_id=record.external_id)
        db.session.add(order)
    order.customer = customer
    order.number = record.number
    order.status = record.status
    order.total = record.total
    order.currency = record.currency
    order.items = record.items
    order.carrier = record.carrier
    order.tracking_number = record.tracking_number
    order.ordered_at = record.ordered_at or order.ordered_at or utcnow()
    order.updated_at = utcnow()
    db.session.flush()
    return order, created


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_csv(text: str | Iterable[str], *, dry_run: bool = False, source: str = "csv") -> ImportResult:
    """Validate every row, then write them all in the caller's transaction — or none if any row is
    bad. ``dry_run`` validates and counts, and writes nothing."""
    result = ImportResult()
    stream = io.StringIO(text) if isinstance(text, str) else text
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(missing))
        if unknown:
            parts.append("unknown columns: " + ", ".join(unknown))
        result.errors.append((1, "; ".join(parts)))
        return result
    reader.fieldnames = header
    records: list[tuple[int, OrderRecord]] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                result.errors.append((line, "more fields than columns"))
                continue
            try:
                record = parse_order(row, default_source=source)
            except BadOrder as error:
                result.errors.append((line, str(error)))
                continue
            key = (record.source, record.external_id)
            if key in seen:
                result.errors.append((line, f"the same order as line {seen[key]}"))
                continue
            seen[key] = line
            records.append((line, record))
    except csv.Error as error:
        result.errors.append((reader.line_num, str(error)))
    if result.errors:
        return result
    rehearsal = db.session.begin_nested()  # a dry run writes every row, counts, then undoes them
    for _line, record in records:
        _order, created = upsert_order(record)
        if created:
            result.created += 1
        else:
            result.updated += 1
    if dry_run:
        rehearsal.rollback()
    else:
        rehearsal.commit()
    return result
