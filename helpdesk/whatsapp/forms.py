from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from helpdesk.fields import SelectField
from helpdesk.i18n import LANGUAGE_CHOICES, MaxLength


class AccountForm(FlaskForm):
    queue_id = SelectField(_l("Queue"), coerce=int)
    phone_number_id = StringField(_l("Phone number ID"), validators=[DataRequired(), MaxLength(40)])
    display_number = StringField(
        _l("Phone number as customers see it"), validators=[Optional(), MaxLength(40)]
    )
    token_env = StringField(
        _l("Environment variable with the access token"), validators=[DataRequired(), MaxLength(100)]
    )
    app_secret_env = StringField(
        _l("Environment variable with the app secret"), validators=[DataRequired(), MaxLength(100)]
    )
    verify_token_env = StringField(
        _l("Environment variable with the verify token"), validators=[DataRequired(), MaxLength(100)]
    )
    graph_url = StringField(_l("Graph API address"), validators=[DataRequired(), MaxLength(300)])
    idle_hours = IntegerField(
        _l("Hours after solving before a message opens a new ticket"),
        default=24,
        validators=[DataRequired(), NumberRange(min=1, max=8760)],
    )
    template_name = StringField(_l("Approved template name"), validators=[Optional(), MaxLength(120)])
    template_languages = StringField(_l("Template languages"), default="ar,en", validators=[MaxLength(40)])


class TemplateForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
