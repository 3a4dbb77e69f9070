"""Fields and request types the custom-field tests share (made through the service, as an admin would)."""

from __future__ import annotations

from helpdesk.auth.models import Role
from helpdesk.custom_fields import service
from helpdesk.custom_fields.models import CustomField, FieldScope, FieldType
from helpdesk.extensions import db
from tests.factories import make_staff

REASONS = [
    ("damaged", "تالف", "Damaged"),
    ("wrong_size", "مقاس غير مناسب", "Wrong size"),
    ("late", "تأخر", "Late"),
]


def make_field(key: str, kind: FieldType, *, options=(), admin=None, **attrs) -> CustomField:
    admin = admin or make_staff(Role.ADMIN)
    values = {
        "label_ar": attrs.pop("label_ar", key),
        "label_en": attrs.pop("label_en", key.replace("_", " ").capitalize()),
        "scope": attrs.pop("scope", FieldScope.TICKET),
        **attrs,
    }
    field = service.save_field(None, actor=admin, options=options, key=key, type=kind, **values)
    db.session.commit()
    return field


def make_return_type(admin=None):
    """A "return" request type: order (required), reason, and "photos sent?" only when damaged."""
    from helpdesk.custom_fields.models import RequestType

    admin = admin or make_staff(Role.ADMIN)
    shown = {"visible_to_customers": True, "editable_by_customers": True}
    order = make_field("order_ref", FieldType.ORDER, admin=admin, label_ar="الطلب", label_en="Order", **shown)
    reason = make_field(
        "reason",
        FieldType.DROPDOWN,
        options=REASONS,
        admin=admin,
        label_ar="سبب الإرجاع",
        label_en="Reason for return",
        **shown,
    )
    photos = make_field(
        "photos", FieldType.YES_NO, admin=admin, label_ar="أرفقت صورًا؟", label_en="Photos attached?", **shown
    )
    request_type: RequestType = service.save_request_type(
        None,
        actor=admin,
        key="return",
        name_ar="إرجاع منتج",
        name_en="Return an item",
        default_tags=["return"],
        email_keywords="return, إرجاع, استرجاع",
        form_fields=[
            {"field_id": order.id, "is_required": True},
            {"field_id": reason.id, "is_required": True},
            {"field_id": photos.id, "shown_when_field_id": reason.id, "shown_when_value": "damaged"},
        ],
    )
    db.session.commit()
    return request_type
