"""The rule editor's value pickers: each condition and action shows the field a supervisor knows
(ticked statuses, a queue or an agent by name, a tag with suggestions, hours in calendar or business
time), in both languages, with and without JavaScript, and a saved rule comes back as it was saved."""

from __future__ import annotations

from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

from helpdesk.auth.models import Role
from helpdesk.automations.models import AutomationRule
from helpdesk.extensions import db
from helpdesk.tickets.models import Tag
from tests.factories import make_automation, make_queue, make_staff


class FormValues(HTMLParser):
    """What a browser would send for the editor's form: named inputs (checked boxes only),
    selected options (else the first), textareas, and no submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.values: MultiDict = MultiDict()
        self.in_form = self.done = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "admin-form" in (a.get("class") or "") and not self.done:
            self.in_form = True
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.add(name, a.get("value") or ("y" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form, self.done = False, True
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [self._options[0][0]]
            self.values.add(self._select, chosen[0])
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.add(self._textarea, self._text.removeprefix("\n"))
            self._textarea = None


def form_of(html: str) -> MultiDict:
    parser = FormValues()
    parser.feed(html)
    return parser.values


def test_a_saved_rule_comes_back_in_its_pickers_and_saves_unchanged(app, client, login):
    login(make_staff(Role.SUPERVISOR, language="en"))
    returns = make_queue("returns", name_en="Returns")
    sara = make_staff(Role.AGENT, name="Sara Alqahtani")
    db.session.add_all([Tag(name="reminded"), Tag(name="vip-care")])
    db.session.commit()
    conditions = {
        "all": [
            {"field": "status", "op": "is", "value": ["pending", "on_hold"]},
            {"field": "queue", "op": "is_not", "value": [returns.id]},
            {"field": "hours_since_status_set", "op": "at_least", "value": {"hours": 24.0, "business": True}},
            {"field": "tags", "op": "lacks", "value": "reminded"},
            {"field": "assignee", "op": "none", "value": None},
            {"field": "customer_tier", "op": "is", "value": ["vip"]},
        ],
        "any": [
            {"field": "sla", "op": "breached", "value": None},
            {"field": "order_status", "op": "is", "value": ["shipped", "awaiting_pickup"]},
            {"field": "text", "op": "contains", "value": ["استرجاع", "return"]},
            {"field": "assignee", "op": "is_not", "value": sara.id},
        ],
    }
    actions = [
        {"type": "set_priority", "value": "high"},
        {"type": "set_queue", "value": returns.id},
        {"type": "assign", "value": sara.id},
        {"type": "add_tags", "value": ["reminded", "vip-care"]},
        {"type": "add_note", "value": "Checked by the rule."},
    ]
    rule = make_automation(name="Everything", kind="automation", conditions=conditions, actions=actions)
    html = client.get(f"/admin/automations/{rule.id}").get_data(as_text=True)

    assert '<input type="checkbox" name="all-0-value" value="pending" checked> <bdi>Pending</bdi>' in html
    assert '<input type="checkbox" name="all-0-value" value="open"> <bdi>Open</bdi>' in html
    assert 'name="all-2-value" id="all-2-value" min="0.5" step="0.5" inputmode="decimal" value="24"' in html
    assert '<option value="business" selected>' in html
    assert 'list="tag-suggestions"' in html and '<option value="vip-care">' in html  # existing tags
    assert '<option value="none" selected>nobody (unassigned)</option>' in html
    assert '<option value="breached" selected>breached</option>' in html
    assert 'value="awaiting_pickup" checked> <bdi>awaiting_pickup</bdi>' in html  # a shop's own status, kept
    assert f'<option value="{sara.id}" selected>Sara Alqahtani</option>' in html
    assert f'<option value="{returns.id}" selected>Returns</option>' in html
    assert "Checked by the rule.</textarea>" in html

    sent = form_of(html).to_dict(flat=False)
    assert client.submit(f"/admin/automations/{rule.id}", sent).status_code == 303
    db.session.expire_all()
    saved = db.session.get(AutomationRule, rule.id)
    assert saved.conditions == conditions
    assert saved.actions == actions


def test_the_picker_follows_the_chosen_condition_or_action(app, client, login):
    login(make_staff(Role.SUPERVISOR, language="en"))
    make_staff(Role.AGENT, name="Sara Alqahtani")
    db.session.add(Tag(name="reminded"))
    db.session.commit()

    def picker(row: str, choice: str) -> str:
        key = f"{row}-type" if row.startswith("action-") else f"{row}-condition"
        response = client.get("/admin/automations/picker", query_string={"row": row, key: choice})
        assert response.status_code == 200
        return response.get_data(as_text=True)

    priority = picker("all-1", "priority:is")
    assert 'type="checkbox" name="all-1-value" value="urgent"> <bdi>Urgent</bdi>' in priority
    hours = picker("any-0", "hours_since_created:at_least")
    assert 'type="number" name="any-0-value"' in hours and '<option value="business">' in hours
    assert "Sara Alqahtani" in picker("all-0", "assignee:is") and "nobody" in picker("all-0", "assignee:is")
    assert "nobody" not in picker("all-0", "assignee:is_not")
    assert 'list="tag-suggestions"' in picker("all-0", "tags:has")
    assert "round robin" in picker("action-2", "assign")
    assert "<textarea" in picker("action-0", "add_note")
    assert picker("action-0", "webhook").strip().startswith("{#") is False  # no field, no error
    assert "input" not in picker("action-0", "webhook")
    bad = client.get("/admin/automations/picker?row=../etc")
    assert bad.status_code == 400 and "Unknown row" in bad.get_data(as_text=True)


def test_agents_cannot_ask_for_a_picker(app, client, login):
    login(make_staff(Role.AGENT))
    assert client.get("/admin/automations/picker?row=all-0&all-0-condition=status:is").status_code == 403


def test_without_javascript_the_show_button_gives_the_chosen_rows_their_pickers(app, client, login):
    login(make_staff(Role.SUPERVISOR, language="en"))
    typed = {"kind": "automation", "name": "Quiet", "all-0-condition": "hours_since_updated:at_least"}
    page = client.submit("/admin/automations/new", {**typed, "refresh": "1"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'type="number" name="all-0-value"' in html and 'value="Quiet"' in html
    assert 'class="button no-htmx" formnovalidate>' in html  # hidden once htmx is loaded; no name needed
    assert db.session.query(AutomationRule).count() == 0


def test_missing_values_are_named_beside_their_rows_and_nothing_is_saved(app, client, login):
    login(make_staff(Role.SUPERVISOR, language="en"))
    typed = {
        "kind": "automation",
        "name": "Half done",
        "all-0-condition": "status:is",
        "all-1-condition": "hours_since_updated:at_least",
        "all-1-value": "-3",
        "action-0-type": "add_tags",
    }
    page = client.submit("/admin/automations/new", typed)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert '<p class="field-error" id="all-0-error">Tick at least one.</p>' in html
    assert '<p class="field-error" id="all-1-error">Give a number of hours greater than 0.</p>' in html
    assert '<p class="field-error" id="action-0-error">Give a tag.</p>' in html
    assert 'aria-describedby="all-1-error" aria-invalid="true"' in html
    assert db.session.query(AutomationRule).count() == 0


def test_the_pickers_speak_arabic(app, client, login):
    login(make_staff(Role.SUPERVISOR, language="ar"))
    client.submit("/language", {"language": "ar"})
    make_queue("returns", name_ar="المرتجعات")

    def picker(query: str) -> str:
        return client.get(f"/admin/automations/picker?{query}").get_data(as_text=True)

    assert "<bdi>بانتظار العميل</bdi>" in picker("row=all-0&all-0-condition=status:is")
    assert "المرتجعات" in picker("row=action-0&action-0-type=set_queue")
    assert "ساعات العمل" in picker("row=all-0&all-0-condition=hours_since_created:at_least")
