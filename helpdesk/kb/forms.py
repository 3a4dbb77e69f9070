from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from helpdesk.agents.forms import TagNames
from helpdesk.fields import SelectField
from helpdesk.i18n import LANGUAGE_CHOICES, MaxLength


class FeedbackForm(FlaskForm):
    helpful = RadioField(_l("Was this helpful?"), choices=[("yes", _l("Yes")), ("no", _l("No"))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), MaxLength(2000)])


class SolvedForm(FlaskForm):
    query = HiddenField(validators=[Optional(), MaxLength(500)])


class PhrasingReviewForm(FlaskForm):
    """Accept or dismiss a suggested phrasing (the buttons carry the choice)."""


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), MaxLength(255)])
    slug = StringField(_l("Slug"), validators=[DataRequired(), MaxLength(160)])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    category = SelectField(_l("Category"), coerce=int)
    translation_of = StringField(_l("Translation of (slug)"), validators=[Optional(), MaxLength(160)])
    tags = StringField(_l("Tags (comma-separated)"), validators=[Optional(), MaxLength(500), TagNames()])
    phrasings = TextAreaField(
        _l("Other ways customers ask (one per line)"),
        validators=[Optional(), MaxLength(12000)],
    )
    body = TextAreaField(_l("Body (markdown)"), validators=[Optional(), MaxLength(100000)])
    status = SelectField(_l("Status"), choices=[("draft", _l("Draft")), ("published", _l("Published"))])
