"""The portal's case form by request type: which of the type's fields the customer sees and must fill."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.custom_fields.models import CustomField, RequestType, RequestTypeField
from helpdesk.custom_fields.service import visible_form_fields
from helpdesk.custom_fields.values import values_from_form
from helpdesk.extensions import db

OTHER = "other"  # the chooser's "something else": the plain form, no type


def request_type_by_key(key: str, *, with_form: bool = True) -> RequestType | None:
    """An active type, with its form's fields and their options loaded unless ``with_form`` is false."""
    if not key or key == OTHER:
        return None
    query = select(RequestType).where(RequestType.key == key[:60], RequestType.is_active)
    if not with_form:
        return db.session.scalar(query)
    return db.session.scalar(
        query.options(
            selectinload(RequestType.form_fields)
            .selectinload(RequestTypeField.field)
            .selectinload(CustomField.options)
        )
    )


def customer_form_fields(request_type: RequestType) -> list[RequestTypeField]:
    """The form's fields a customer may fill in (the others are for agents)."""
    return [
        rf
        for rf in request_type.form_fields
        if rf.field.is_active and rf.field.visible_to_customers and rf.field.editable_by_customers
    ]


@dataclass
class CaseAnswers:
    values: dict[str, Any]  # only the fields that show, given the answers
    required: list[int]  # their field ids that must be filled
    shown: list[RequestTypeField]


def case_answers(request_type: RequestType, form: Mapping) -> CaseAnswers:
    """What the customer answered, keeping the fields whose condition holds (the others are ignored,
    as the form with JavaScript hid them)."""
    form_fields = customer_form_fields(request_type)
    answers = values_from_form([rf.field for rf in form_fields], form)
    shown_ids = {rf.id for rf in visible_form_fields(request_type, answers)}
    shown = [rf for rf in form_fields if rf.id in shown_ids]
    return CaseAnswers(
        values={rf.field.key: answers[rf.field.key] for rf in shown},
        required=[rf.field_id for rf in shown if rf.is_required or rf.field.required_for_customers],
        shown=shown,
    )
