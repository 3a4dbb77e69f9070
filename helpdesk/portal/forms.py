from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class NewCaseForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("How can we help?"), validators=[DataRequired(), Length(max=20000)])
    files = MultipleFileField(_l("Attachments"))


class CaseReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(max=20000)])
    files = MultipleFileField(_l("Attachments"))
