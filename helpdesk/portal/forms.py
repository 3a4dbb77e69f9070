from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from helpdesk.i18n import MaxLength


class NewCaseForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), MaxLength(200)])
    body = TextAreaField(_l("How can we help?"), validators=[DataRequired(), MaxLength(20000)])
    files = MultipleFileField(_l("Attachments"))


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
