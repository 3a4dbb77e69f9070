"""Form fields shared by the features' forms."""

from __future__ import annotations

import wtforms
from markupsafe import Markup, escape
from wtforms.widgets import Select


class QuickSelect(Select):
    """WTForms' select with plain options written directly, the same HTML as its own: its generic
    attribute writer costs tens of microseconds an option, and a ticket page has dozens of them."""

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = " selected" if choice.selected else ""
        label = choice.label or choice.value
        return Markup(f'<option{selected} value="{escape(value)}">{escape(label)}</option>')


class SelectField(wtforms.SelectField):
    widget = QuickSelect()
