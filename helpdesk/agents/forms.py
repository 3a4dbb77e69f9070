from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import HiddenInput

from helpdesk.tickets.models import MessageKind, Status
from helpdesk.tickets.service import STATUS_LABELS


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=50000)])
    kind = SelectField(
        _l("Type"),
        choices=[
            (MessageKind.REPLY.value, _l("Public reply")),
            (MessageKind.NOTE.value, _l("Internal note")),
        ],
        default=MessageKind.REPLY.value,
    )
    files = MultipleFileField(_l("Attachments"))
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ClaimForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


__all__ = ["ClaimForm", "ReplyForm", "Status", "StatusForm"]
