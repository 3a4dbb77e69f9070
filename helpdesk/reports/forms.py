from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

from helpdesk.fields import SelectField


def _optional_id(value):
    return int(value) if value not in (None, "", "None") else None


class ReportFilterForm(FlaskForm):
    """Filters read from the query string (GET, so no CSRF token: nothing changes)."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    queue = SelectField(_l("Queue"), coerce=_optional_id, validators=[Optional()], validate_choice=True)
    agent = SelectField(_l("Agent"), coerce=_optional_id, validators=[Optional()], validate_choice=True)
    field = SelectField(_l("Break down by field"), validators=[Optional()], validate_choice=True)
