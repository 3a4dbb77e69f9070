"""Admin forms for fields and request types (the value inputs on tickets are rendered from the fields)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from helpdesk.custom_fields.models import FieldScope, FieldType
from helpdesk.fields import SelectField
from helpdesk.i18n import MaxLength
from helpdesk.tickets.labels import PRIORITY_LABELS

TYPE_LABELS = {
    FieldType.TEXT: _l("Text"),
    FieldType.LONG_TEXT: _l("Long text"),
    FieldType.NUMBER: _l("Whole number"),
    FieldType.DECIMAL: _l("Decimal number"),
    FieldType.DATE: _l("Date"),
    FieldType.YES_NO: _l("Yes / no"),
    FieldType.DROPDOWN: _l("Dropdown list"),
    FieldType.MULTI_SELECT: _l("Multiple choice"),
    FieldType.ORDER: _l("Customer's order"),
}
SCOPE_LABELS = {FieldScope.TICKET: _l("Each ticket"), FieldScope.CUSTOMER: _l("Each customer")}


class FieldForm(FlaskForm):
    key = StringField(
        _l("Key"),
        validators=[DataRequired(), MaxLength(60)],
        description=_l("Used by the API and in placeholders, e.g. order_number."),
    )
    type = SelectField(_l("Type"), choices=[(t.value, label) for t, label in TYPE_LABELS.items()])
    scope = SelectField(_l("Filled in for"), choices=[(s.value, label) for s, label in SCOPE_LABELS.items()])
    label_ar = StringField(_l("Label in Arabic"), validators=[DataRequired(), MaxLength(120)])
    label_en = StringField(_l("Label in English"), validators=[DataRequired(), MaxLength(120)])
    help_ar = StringField(_l("Help text in Arabic"), validators=[Optional(), MaxLength(255)])
    help_en = StringField(_l("Help text in English"), validators=[Optional(), MaxLength(255)])
    options = TextAreaField(
        _l("Options (lists only)"),
        validators=[Optional(), MaxLength(20000)],
        description=_l(
            "One a line: value | Arabic label | English label. A removed line is retired; tickets keep it."
        ),
    )
    required_for_agents = BooleanField(_l("Required for agents"))
    required_for_customers = BooleanField(_l("Required for customers"))
    visible_to_customers = BooleanField(_l("Customers can see it"))
    editable_by_customers = BooleanField(_l("Customers can fill it in"))


class RequestTypeForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), MaxLength(60)])
    name_ar = StringField(_l("Name in Arabic"), validators=[DataRequired(), MaxLength(120)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), MaxLength(120)])
    default_queue_id = SelectField(_l("Default queue"), choices=[], validate_choice=True)
    default_priority = SelectField(
        _l("Default priority"),
        choices=[("", "—"), *[(p.value, label) for p, label in PRIORITY_LABELS.items()]],
    )
    default_tags = StringField(_l("Default tags"), validators=[Optional(), MaxLength(500)])
    email_keywords = TextAreaField(
        _l("Email subject keywords"),
        validators=[Optional(), MaxLength(2000)],
        description=_l(
            "A new email whose subject contains one of these words (comma or one a line) gets this type."
        ),
    )
    is_active = BooleanField(_l("Active"), default=True)


class TicketFieldsForm(FlaskForm):
    """The ticket page's fields: the request type here, the values as cf-<key> inputs beside it."""

    request_type = SelectField(_l("Request type"), choices=[], validate_choice=True)
