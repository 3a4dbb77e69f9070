from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from helpdesk.fields import SelectField
from helpdesk.i18n import MaxLength
from helpdesk.tickets.models import SUBJECT_MAX_CHARS


class EmailAddress:
    """A syntactically valid address. No DNS look-up, and the reserved ``.test`` domain is allowed
    (demo data and tests use it); delivery problems show up as bounces instead."""

    def __call__(self, form, field) -> None:
        try:
            validate_email(field.data or "", check_deliverability=False, test_environment=True)
        except EmailNotValidError as exc:
            raise ValidationError(_l("Enter a valid email address.")) from exc


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), MaxLength(200)])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


class LanguageForm(FlaskForm):
    language = SelectField(choices=[("ar", "العربية"), ("en", "English")])
    next = HiddenField()


class EmailOnlyForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])


class SignUpForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), MaxLength(200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])


class ConfirmLinkForm(FlaskForm):
    """The button on a link's landing page: mail scanners fetch links, only a person presses it."""


class GuestCaseForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), MaxLength(200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])
    subject = StringField(_l("Subject"), validators=[DataRequired(), MaxLength(SUBJECT_MAX_CHARS)])
    body = TextAreaField(_l("How can we help?"), validators=[DataRequired(), MaxLength(20000)])


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), MaxLength(20)])


class PlainForm(FlaskForm):
    """A button that only needs the CSRF token."""


class TwoFactorRolesForm(FlaskForm):
    agent = BooleanField(_l("Agents"))
    supervisor = BooleanField(_l("Supervisors"))
    admin = BooleanField(_l("Administrators"))
