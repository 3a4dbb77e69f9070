from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from helpdesk.auth import password_policy
from helpdesk.fields import SelectField
from helpdesk.i18n import LANGUAGE_CHOICES, MaxLength
from helpdesk.tickets.models import SUBJECT_MAX_CHARS


class EmailAddress:
    """A syntactically valid address. No DNS look-up, and the reserved ``.test`` domain is allowed
    (demo data and tests use it); delivery problems show up as bounces instead."""

    def __call__(self, form, field) -> None:
        try:
            validate_email(field.data or "", check_deliverability=False, test_environment=True)
        except EmailNotValidError as exc:
            raise ValidationError(_l("Enter a valid email address.")) from exc


class AcceptablePassword:
    """A new password that the policy accepts (``password_policy``): long enough and not a common
    one. The form's name and email (else the signed-in user's) count as words easy to guess."""

    def __call__(self, form, field) -> None:
        from flask_login import current_user

        inputs = [getattr(form, name).data for name in ("name", "email") if hasattr(form, name)]
        if not inputs and current_user and current_user.is_authenticated:
            inputs += [current_user.name, current_user.email]
        problem = password_policy.problem_with(field.data or "", [v for v in inputs if v])
        if problem:
            raise ValidationError(problem)


def new_password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(), AcceptablePassword()],
        render_kw={"autocomplete": "new-password", "minlength": password_policy.MIN_LENGTH},
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), MaxLength(200)])
    remember = BooleanField(_l("Keep me signed in"))
    next = HiddenField()


class LanguageForm(FlaskForm):
    language = SelectField(choices=LANGUAGE_CHOICES)
    next = HiddenField()


class EmailOnlyForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])


class SignUpForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), MaxLength(200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])
    password = new_password_field(_l("Password"))


class NewPasswordForm(FlaskForm):
    password = new_password_field(_l("New password"))


class ChangePasswordForm(FlaskForm):
    """On the account page: the current password, then the new one twice."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), MaxLength(200)],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


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
