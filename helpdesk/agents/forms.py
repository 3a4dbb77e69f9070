from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import HiddenInput

from helpdesk.fields import SelectField
from helpdesk.i18n import LANGUAGE_CHOICES, MaxLength
from helpdesk.tickets.labels import PRIORITY_LABELS, STATUS_LABELS
from helpdesk.tickets.macros import unfilled_message, unfilled_placeholders
from helpdesk.tickets.models import TAG_MAX_CHARS, MessageKind, Status
from helpdesk.tickets.replies import STATUSES_AFTER_REPLY


class TagNames:
    """Comma-separated tags, each no longer than a stored tag: an error, never a silent cut."""

    def __call__(self, form, field) -> None:
        if any(len(tag.strip()) > TAG_MAX_CHARS for tag in (field.data or "").split(",")):
            raise ValidationError(_l("Each tag may have at most %(max)s characters.", max=TAG_MAX_CHARS))


class FilledPlaceholders:
    """A public reply may not go out with a macro's unfilled ``{{ order_status }}`` in it."""

    def __call__(self, form, field) -> None:
        if form.kind.data != MessageKind.REPLY.value:
            return
        unfilled = unfilled_placeholders(field.data or "")
        if unfilled:
            raise ValidationError(unfilled_message(unfilled))


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), MaxLength(50000), FilledPlaceholders()])
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
    # Set by the "Send and set pending / solved" buttons (their name and value); empty: "Send".
    then_status = SelectField(
        choices=[("", "")] + [(s.value, STATUS_LABELS[s]) for s in STATUSES_AFTER_REPLY], default=""
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ClaimForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class TicketEditForm(FlaskForm):
    """Status, priority, queue, assignee and tags in one save; choices for queue/assignee are set
    by the view from the database."""

    status = SelectField(_l("Status"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()])
    priority = SelectField(_l("Priority"), choices=[(p.value, label) for p, label in PRIORITY_LABELS.items()])
    queue = SelectField(_l("Queue"), choices=[], validate_choice=True)
    assignee = SelectField(_l("Assignee"), choices=[], validate_choice=True)
    tags = StringField(_l("Tags"), validators=[Optional(), MaxLength(500), TagNames()])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class MergeForm(FlaskForm):
    target = StringField(_l("Merge into ticket number"), validators=[DataRequired(), MaxLength(20)])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class MacroApplyForm(FlaskForm):
    macro = SelectField(_l("Macro"), choices=[], coerce=int, validate_choice=True)
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class BulkForm(FlaskForm):
    """The selected tickets come as repeated ``ticket`` fields (their ids)."""

    action = SelectField(
        _l("Bulk action"),
        choices=[
            ("assign", _l("Assign to")),
            ("status", _l("Set status")),
            ("priority", _l("Set priority")),
            ("tag", _l("Add tag")),
            ("merge", _l("Merge into ticket")),
        ],
    )
    value = StringField(_l("Value"), validators=[DataRequired(), MaxLength(100)])


class PresenceForm(FlaskForm):
    typing = BooleanField()


class MacroForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(120)])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    body = TextAreaField(_l("Reply text"), validators=[DataRequired(), MaxLength(20000)])
    set_status = SelectField(
        _l("Set status"), choices=[("", "—")] + [(s.value, label) for s, label in STATUS_LABELS.items()]
    )
    set_priority = SelectField(
        _l("Set priority"), choices=[("", "—")] + [(p.value, label) for p, label in PRIORITY_LABELS.items()]
    )
    add_tags = StringField(
        _l("Add tags (comma-separated)"), validators=[Optional(), MaxLength(300), TagNames()]
    )
    is_active = BooleanField(_l("Active"), default=True)


class DeleteForm(FlaskForm):
    pass


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class SavedViewForm(FlaskForm):
    """Save the queue's filters (sent as hidden fields beside these) under a name."""

    name = StringField(_l("Name of the view"), validators=[DataRequired(), MaxLength(120)])
    share = SelectField(_l("Who sees it"), coerce=_optional_int, validate_choice=True)


class SavedViewMoveForm(FlaskForm):
    """The CSRF token of the saved views' buttons (move up or down, delete)."""

    direction = SelectField(choices=[("up", "up"), ("down", "down")], validate_choice=False)


__all__ = ["ClaimForm", "ReplyForm", "Status", "StatusForm"]


class CustomerMergeForm(FlaskForm):
    """Merge the ticket's customer with another record: ``keep`` says which of the two stays."""

    other_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    keep = SelectField(
        _l("Keep"),
        choices=[("this", _l("This ticket's customer")), ("other", _l("The other customer"))],
        default="this",
    )
    phone = StringField(_l("Phone number to keep"), validators=[Optional(), MaxLength(40)])
