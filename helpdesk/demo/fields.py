"""Demo request types and fields for the shop, filled in on the demo tickets (one bulk insert)."""

from __future__ import annotations

import random

from sqlalchemy import insert, select, update

from helpdesk.auth.models import StaffUser
from helpdesk.custom_fields import service
from helpdesk.custom_fields.models import CustomField, FieldScope, FieldType, RequestType, TicketFieldValue
from helpdesk.extensions import db
from helpdesk.tickets.models import Queue, Ticket

VISIBLE = {"visible_to_customers": True, "editable_by_customers": True}
FIELDS = [
    ("order_ref", FieldType.ORDER, "الطلب", "Order", (), VISIBLE),
    (
        "reason",
        FieldType.DROPDOWN,
        "سبب الإرجاع",
        "Reason for return",
        [
            ("damaged", "وصل تالفًا", "Arrived damaged"),
            ("wrong_item", "منتج غير المطلوب", "Wrong item"),
            ("wrong_size", "المقاس غير مناسب", "Wrong size"),
            ("changed_mind", "غيّرت رأيي", "Changed my mind"),
        ],
        VISIBLE,
    ),
    (
        "courier",
        FieldType.DROPDOWN,
        "شركة الشحن",
        "Courier",
        [
            ("smsa", "سمسا", "SMSA"),
            ("aramex", "أرامكس", "Aramex"),
            ("spl", "سبل", "SPL"),
            ("jt", "جي آند تي", "J&T"),
        ],
        {},
    ),
    ("waybill", FieldType.TEXT, "رقم بوليصة الشحن", "Waybill number", (), {}),
    ("city", FieldType.TEXT, "المدينة", "City", (), VISIBLE),
    ("photos_sent", FieldType.YES_NO, "هل أرفقت صورًا للمنتج؟", "Did you attach photos?", (), VISIBLE),
    (
        "preferred_language",
        FieldType.DROPDOWN,
        "اللغة المفضلة",
        "Preferred language",
        [("ar", "العربية", "Arabic"), ("en", "الإنجليزية", "English")],
        {"scope": FieldScope.CUSTOMER, **VISIBLE},
    ),
]
# key, Arabic, English, queue slug, fields on the form (key, required), email keywords
TYPES = [
    (
        "where_is_my_order",
        "أين طلبي؟",
        "Where is my order?",
        "orders",
        [("order_ref", True)],
        "where is my order, وين طلبي, أين طلبي",
    ),
    (
        "delivery_address",
        "تعديل عنوان التوصيل",
        "Change delivery address",
        "orders",
        [("order_ref", True), ("city", True)],
        "address, عنوان",
    ),
    ("refund", "استرداد مبلغ", "Refund", "billing", [("order_ref", True)], "refund, استرداد"),
    (
        "payment_failed",
        "مشكلة في الدفع",
        "Payment problem",
        "billing",
        [("order_ref", False)],
        "charged, payment, الدفع, خصم",
    ),
    (
        "cash_on_delivery",
        "الدفع عند الاستلام",
        "Cash on delivery",
        "billing",
        [("order_ref", True)],
        "cash on delivery, الدفع عند الاستلام",
    ),
    ("invoice", "طلب فاتورة", "Invoice", "billing", [("order_ref", True)], "invoice, فاتورة"),
    (
        "return",
        "إرجاع منتج",
        "Return an item",
        "returns",
        [("order_ref", True), ("reason", True), ("photos_sent", False)],
        "return, إرجاع, استرجاع",
    ),
    (
        "damaged_item",
        "منتج تالف",
        "Damaged item",
        "returns",
        [("order_ref", True), ("photos_sent", True)],
        "damaged, تالف, مكسور",
    ),
]
# Which demo scenario (by queue and subject) is which type.
SCENARIO_TYPES = {
    "s0": "where_is_my_order",
    "s1": "delivery_address",
    "s2": "refund",
    "s3": "payment_failed",
    "s4": "return",
    "s5": "damaged_item",
}
CITIES = ["الرياض", "جدة", "الدمام", "مكة المكرمة", "المدينة المنورة", "الخبر", "أبها"]


def create_fields_and_types(admin: StaffUser) -> dict[str, RequestType]:
    fields = {}
    for key, kind, label_ar, label_en, options, extra in FIELDS:
        fields[key] = service.save_field(
            None,
            actor=admin,
            options=options,
            key=key,
            type=kind,
            scope=extra.get("scope", FieldScope.TICKET),
            label_ar=label_ar,
            label_en=label_en,
            visible_to_customers=extra.get("visible_to_customers", False),
            editable_by_customers=extra.get("editable_by_customers", False),
        )
    queues = {q.slug: q for q in db.session.scalars(select(Queue))}
    types = {}
    for key, name_ar, name_en, queue, form, keywords in TYPES:
        form_fields = [{"field_id": fields[k].id, "is_required": required} for k, required in form]
        if key == "return":  # photos only when the item arrived damaged
            form_fields[2].update(shown_when_field_id=fields["reason"].id, shown_when_value="damaged")
        types[key] = service.save_request_type(
            None,
            actor=admin,
            form_fields=form_fields,
            key=key,
            name_ar=name_ar,
            name_en=name_en,
            default_queue_id=queues[queue].id if queue in queues else None,
            default_tags=[key.replace("_", "-")],
            email_keywords=keywords,
        )
    return types


def fill_demo_tickets(rng: random.Random, scenario_of: dict[int, str], types: dict[str, RequestType]) -> None:
    """Each demo ticket gets its scenario's type, its order, a courier and waybill, a city; returns
    a reason (and whether photos were sent)."""
    fields = {f.key: f for f in db.session.scalars(select(CustomField))}
    rows = []
    by_type: dict[int, list[int]] = {}
    for ticket_id, order_id in db.session.execute(select(Ticket.id, Ticket.order_id)):
        type_key = SCENARIO_TYPES.get(scenario_of.get(ticket_id, ""))
        if type_key is None:
            continue
        by_type.setdefault(types[type_key].id, []).append(ticket_id)
        value = {"ticket_id": ticket_id, "value_text": None, "value_number": None, "value_order_id": None}
        if order_id:
            rows.append({**value, "field_id": fields["order_ref"].id, "value_order_id": order_id})
            rows.append(
                {
                    **value,
                    "field_id": fields["courier"].id,
                    "value_text": rng.choice(["smsa", "aramex", "spl", "jt"]),
                }
            )
            rows.append(
                {**value, "field_id": fields["waybill"].id, "value_text": str(rng.randrange(10**9, 10**10))}
            )
        rows.append({**value, "field_id": fields["city"].id, "value_text": rng.choice(CITIES)})
        if type_key == "return":
            reason = rng.choice(["damaged", "wrong_item", "wrong_size", "changed_mind"])
            rows.append({**value, "field_id": fields["reason"].id, "value_text": reason})
            if reason == "damaged":
                rows.append(
                    {**value, "field_id": fields["photos_sent"].id, "value_number": rng.choice([0, 1])}
                )
    if rows:
        db.session.execute(insert(TicketFieldValue), rows)
    for type_id, ids in by_type.items():
        db.session.execute(
            update(Ticket)
            .where(Ticket.id.in_(ids))
            .values(request_type_id=type_id)
            .execution_options(synchronize_session=False)
        )


# Macros that fill in a field and quote one (``{{ field_<key> }}``), in both languages.
FIELD_MACROS = [
    (
        "ar",
        "استلمنا المرتجع",
        "مرحبًا {{ customer_first_name }}، استلمنا المنتج المرتجع (السبب: {{ field_reason }}) وسنعيد "
        "المبلغ خلال ٥ أيام عمل.",
    ),
    (
        "en",
        "Return received",
        "Hi {{ customer_first_name }}, we received the item you returned (reason: {{ field_reason }}) "
        "and will refund you within 5 working days.",
    ),
]


def create_field_uses(supervisor: StaffUser | None) -> dict[str, int]:
    """Macros that set and quote fields, and a saved view by reason shared with the returns queue."""
    from helpdesk.agents.models import SavedView
    from helpdesk.tickets.models import Macro

    for locale, name, body in FIELD_MACROS:
        db.session.add(
            Macro(
                name=name,
                locale=locale,
                body=body,
                set_fields={"photos_sent": True},
                add_tags=["return-received"],
                created_by_id=supervisor.id if supervisor else None,
            )
        )
    views = 0
    returns = db.session.scalar(select(Queue).where(Queue.slug == "returns"))
    if supervisor is not None:
        db.session.add(
            SavedView(
                name="مرتجعات تالفة" if supervisor.language != "en" else "Damaged returns",
                owner_id=supervisor.id,
                queue_id=returns.id if returns else None,
                query={"view": "open", "cf_reason": "damaged"},
                position=1,
            )
        )
        views = 1
    db.session.flush()
    return {"macros": len(FIELD_MACROS), "saved views": views}
