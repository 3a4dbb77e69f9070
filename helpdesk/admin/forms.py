from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from helpdesk.auth.forms import EmailAddress, new_password_field
from helpdesk.auth.models import Role
from helpdesk.customers.labels import TIER_LABELS
from helpdesk.customers.models import Tier
from helpdesk.fields import SelectField
from helpdesk.i18n import LANGUAGE_CHOICES, MaxLength
from helpdesk.sla.business_time import parse_intervals
from helpdesk.tickets.labels import PRIORITY_LABELS
from helpdesk.tickets.models import Priority

ROLE_LABELS = {Role.AGENT: _l("Agent"), Role.SUPERVISOR: _l("Supervisor"), Role.ADMIN: _l("Admin")}
# Weekdays as date.weekday() numbers, in the order an Arabic week is written (Sunday first).
WEEKDAYS = [
    (6, _l("Sunday")),
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
]


def _optional_id(value):
    return int(value) if value not in (None, "", "None") else None


def _optional_enum(enum_cls):
    def coerce(value):
        if value in (None, "", "None"):
            return None
        return value if isinstance(value, enum_cls) else enum_cls(value)

    return coerce


class WorkingHours:
    """Validates ``09:00-13:00, 16:00-21:00`` (empty = closed)."""

    def __call__(self, form, field) -> None:
        try:
            parse_intervals(field.data or "")
        except ValueError as exc:
            raise ValidationError(_l("Write hours like 09:00-13:00, 16:00-21:00.")) from exc


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])


class NewStaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(120)])
    email = StringField(_l("Email"), validators=[DataRequired(), EmailAddress(), MaxLength(254)])
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    password = new_password_field(_l("Password"))
    confirm = PasswordField(
        _l("Repeat the password"), validators=[EqualTo("password", message=_l("The passwords differ."))]
    )


class ActiveForm(FlaskForm):
    """Deactivate or reactivate (the button says which)."""


class QueueForm(FlaskForm):
    slug = StringField(_l("Short name"), validators=[DataRequired(), MaxLength(60)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), MaxLength(120)])
    name_ar = StringField(_l("Name in Arabic"), validators=[DataRequired(), MaxLength(120)])
    email_address = StringField(
        _l("Inbound email address"), validators=[Optional(), EmailAddress(), MaxLength(254)]
    )
    supervisor_id = SelectField(_l("Supervisor"), coerce=_optional_id, validate_choice=True)
    members = SelectMultipleField(_l("Members"), coerce=int, validate_choice=True)
    is_active = BooleanField(_l("Active"), default=True)


class CalendarForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(120)])
    timezone = SelectField(_l("Time zone"), default="Asia/Riyadh")
    holiday_country = SelectField(_l("Public holidays of"), default="SA")
    holiday_subdivision = StringField(_l("Region code (optional)"), validators=[Optional(), MaxLength(10)])
    hours_6 = StringField(_l("Sunday"), validators=[WorkingHours()])
    hours_0 = StringField(_l("Monday"), validators=[WorkingHours()])
    hours_1 = StringField(_l("Tuesday"), validators=[WorkingHours()])
    hours_2 = StringField(_l("Wednesday"), validators=[WorkingHours()])
    hours_3 = StringField(_l("Thursday"), validators=[WorkingHours()])
    hours_4 = StringField(_l("Friday"), validators=[WorkingHours()])
    hours_5 = StringField(_l("Saturday"), validators=[WorkingHours()])

    def hours_field(self, weekday: int):
        return self[f"hours_{weekday}"]


class OverrideForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(120)])
    first_day = DateField(_l("First day"), validators=[DataRequired()])
    last_day = DateField(_l("Last day"), validators=[DataRequired()])
    hours = StringField(_l("Hours (empty = closed)"), validators=[WorkingHours()])


class HolidayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(120)])


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change something (delete, move): just the CSRF token."""


TARGET_HELP = _l("Business minutes; empty for no target.")


class PolicyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(120)])
    is_active = BooleanField(_l("Active"), default=True)
    calendar_id = SelectField(_l("Business calendar"), coerce=int, validate_choice=True)
    match_priority = SelectField(
        _l("Priority"),
        coerce=_optional_enum(Priority),
        choices=[(None, _l("Any priority")), *[(p.value, label) for p, label in PRIORITY_LABELS.items()]],
    )
    match_queue_id = SelectField(_l("Queue"), coerce=_optional_id, validate_choice=True)
    match_tier = SelectField(
        _l("Customer tier"),
        coerce=_optional_enum(Tier),
        choices=[(None, _l("Any tier")), *[(t.value, label) for t, label in TIER_LABELS.items()]],
    )
    match_company_tier = SelectField(
        _l("Company tier"),
        coerce=_optional_enum(Tier),
        choices=[(None, _l("Any customer")), *[(t.value, label) for t, label in TIER_LABELS.items()]],
        description=_l(
            "The tier of the customer's company (B2B contracts); customers of no company never match."
        ),
    )
    first_response_minutes = IntegerField(
        _l("First response"), validators=[Optional(), NumberRange(min=1, max=525600)], description=TARGET_HELP
    )
    next_response_minutes = IntegerField(
        _l("Next response"), validators=[Optional(), NumberRange(min=1, max=525600)], description=TARGET_HELP
    )
    resolution_minutes = IntegerField(
        _l("Resolution"), validators=[Optional(), NumberRange(min=1, max=525600)], description=TARGET_HELP
    )
    pause_when_pending = BooleanField(_l("Pause while pending on the customer"), default=True)
    pause_when_on_hold = BooleanField(_l("Pause while on hold"), default=True)
    warn_at_percent = IntegerField(
        _l("Warn when this share of a target is used (%)"),
        default=75,
        validators=[DataRequired(), NumberRange(min=1, max=99)],
    )
    breach_raises_priority = BooleanField(_l("On a breach, raise the priority one step"))
    breach_reassign_to_id = SelectField(
        _l("On a breach, reassign to"), coerce=_optional_id, validate_choice=True
    )


class EraseCustomerForm(FlaskForm):
    """Erasing is irreversible: the admin types the customer's address (or number) to confirm."""

    confirm = StringField(_l("Type the customer's email address to confirm"), validators=[DataRequired()])


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (GET: nothing changes, no CSRF token)."""

    class Meta:
        csrf = False

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=60)])
    actor = StringField(_l("Who"), validators=[Optional(), Length(max=254)])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    before = IntegerField(validators=[Optional(), NumberRange(min=1)])
