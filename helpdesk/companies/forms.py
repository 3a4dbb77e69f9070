"""Admin forms for companies."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Optional

from helpdesk.auth.forms import EmailAddress
from helpdesk.customers.labels import TIER_LABELS
from helpdesk.fields import SelectField
from helpdesk.i18n import MaxLength


class CompanyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), MaxLength(200)])
    domain = StringField(
        _l("Email domain"), validators=[Optional(), MaxLength(253)], description=_l("e.g. example.sa")
    )
    tier = SelectField(_l("Customer tier"), choices=[(t.value, label) for t, label in TIER_LABELS.items()])


class MemberForm(FlaskForm):
    email = StringField(
        _l("Customer's email address"), validators=[DataRequired(), EmailAddress(), MaxLength(254)]
    )
    sees_company_cases = BooleanField(_l("May see colleagues' cases in the portal"))
