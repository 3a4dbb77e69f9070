from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp

from helpdesk.fields import SelectField
from helpdesk.i18n import MaxLength

SECURITY_CHOICES = [
    ("tls", _l("TLS (IMAPS, usually port 993)")),
    ("starttls", _l("STARTTLS (usually port 143)")),
    ("none", _l("None (only for a server on this machine)")),
]


class MailboxForm(FlaskForm):
    host = StringField(_l("IMAP server"), validators=[DataRequired(), MaxLength(255)])
    port = IntegerField(_l("Port"), default=993, validators=[DataRequired(), NumberRange(1, 65535)])
    security = SelectField(_l("Connection security"), choices=SECURITY_CHOICES, default="tls")
    username = StringField(_l("User name"), validators=[DataRequired(), MaxLength(255)])
    password_env = StringField(
        _l("Password from the environment variable"),
        validators=[Optional(), MaxLength(100), Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")],
    )
    password = PasswordField(
        _l("Or password (stored in the database)"), validators=[Optional(), MaxLength(255)]
    )
    folder = StringField(_l("Folder"), default="INBOX", validators=[DataRequired(), MaxLength(255)])
    move_to = StringField(_l("Move read messages to"), validators=[Optional(), MaxLength(255)])
    is_active = BooleanField(_l("Poll this mailbox"), default=True)
