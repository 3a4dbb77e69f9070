from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Optional

from helpdesk.customers.models import Order
from helpdesk.fields import SelectField
from helpdesk.i18n import MaxLength, current_language
from helpdesk.tickets import routing
from helpdesk.tickets.models import SUBJECT_MAX_CHARS


class NewCaseForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), MaxLength(SUBJECT_MAX_CHARS)])
    topic = SelectField(_l("What is it about?"), choices=[], default="", validate_choice=True)
    order_number = StringField(_l("Order number (optional)"), validators=[Optional(), MaxLength(40)])
    body = TextAreaField(_l("How can we help?"), validators=[DataRequired(), MaxLength(20000)])
    files = MultipleFileField(_l("Attachments"))

    order: Order | None = None  # the customer's own order named in ``order_number``, once validated

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        language = current_language()
        self.topic.choices = [("", _l("Not sure"))] + [
            (str(q.id), q.name_for(language)) for q in routing.active_queues()
        ]

    def validate_order_number(self, field: StringField) -> None:
        """Only the customer's own orders: a wrong number is said at once rather than dropped."""
        if not field.data:
            return
        self.order = routing.own_order_named(current_user, field.data)
        if self.order is None:
            raise ValidationError(
                _l("None of your orders has this number; check it or leave the field empty.")
            )


class CaseReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), MaxLength(20000)])
    files = MultipleFileField(_l("Attachments"))


class CaseActionForm(FlaskForm):
    """Close / reopen: a button, with only the CSRF token."""


class CsatForm(FlaskForm):
    score = RadioField(
        _l("How satisfied are you with our support?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        validators=[InputRequired()],
    )
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), MaxLength(2000)])
