"""Forms of the API pages: tokens (every staff user) and webhook endpoints (admins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import URL, DataRequired, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from helpdesk.api.models import TokenScope
from helpdesk.api.webhooks import EVENTS
from helpdesk.fields import SelectField
from helpdesk.i18n import MaxLength

SCOPE_LABELS = {
    TokenScope.READ: _l("Read only"),
    TokenScope.WRITE: _l("Read and write"),
}
EVENT_LABELS = {
    "ticket.created": _l("A ticket was opened"),
    "ticket.updated": _l("A ticket's status, priority, assignee or tags changed"),
    "message.created": _l("A reply or an internal note was added"),
    "sla.breached": _l("An SLA target was missed"),
    "automation.applied": _l("An automation rule with a webhook action was applied"),
}


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(80)])
    scope = SelectField(
        _l("Access"),
        choices=[(s.value, label) for s, label in SCOPE_LABELS.items()],
        default=TokenScope.READ.value,
    )


class RevokeForm(FlaskForm):
    pass


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _http_url(form, field) -> None:
    if not field.data.lower().startswith(("http://", "https://")):
        raise ValidationError(_l("Use an http:// or https:// address."))


class WebhookForm(FlaskForm):
    url = StringField(
        _l("Receiver URL"), validators=[DataRequired(), MaxLength(2000), URL(require_tld=False), _http_url]
    )
    description = StringField(_l("Description"), validators=[Optional(), MaxLength(200)])
    events = CheckboxesField(
        _l("Events"), choices=[(e, EVENT_LABELS[e]) for e in EVENTS], validators=[DataRequired()]
    )
    is_active = BooleanField(_l("Active"), default=True)
