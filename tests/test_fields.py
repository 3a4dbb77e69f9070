"""helpdesk.fields.SelectField writes the same HTML as WTForms' own select, only faster."""

import wtforms
from werkzeug.datastructures import MultiDict

from helpdesk.fields import SelectField


def test_quick_select_writes_what_wtforms_writes():
    choices = [
        ("", "—"),
        ("a&b", 'Tom "the" <b>cat</b>'),
        ("3", "ثلاثة"),
        (True, "yes"),
        ("k", "kept", {"disabled": True}),  # extra attributes go through WTForms itself
    ]

    class Ours(wtforms.Form):
        pick = SelectField(choices=choices, render_kw={"dir": "auto"})

    class Theirs(wtforms.Form):
        pick = wtforms.SelectField(choices=choices, render_kw={"dir": "auto"})

    for data in ({}, {"pick": "a&b"}, {"pick": "3"}, {"pick": "True"}):
        ours, theirs = Ours(MultiDict(data)).pick(), Theirs(MultiDict(data)).pick()
        assert ours == theirs
    page = Ours(MultiDict({"pick": "a&b"})).pick()
    assert '<option selected value="a&amp;b">Tom &#34;the&#34; &lt;b&gt;cat&lt;/b&gt;</option>' in page
