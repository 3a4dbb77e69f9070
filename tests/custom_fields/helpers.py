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
