"""Automation rule pages for supervisors and admins: list, create, edit (with a dry run before
saving), reorder, switch on and off, delete. Every change goes through ``automations.service``
(validated, audited) and commits once."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.automations import service
from helpdesk.automations.forms import (
    ACTION_ROWS,
    ALL_ROWS,
    ANY_ROWS,
    ROW_NAME,
    ControlForm,
    EditorChoices,
    RuleForm,
    action_choices,
    condition_choices,
    email_template,
    read_actions,
    read_conditions,
    rows_of,
)
from helpdesk.automations.models import AutomationRule, RuleKind
from helpdesk.extensions import db
from helpdesk.i18n import current_language
from helpdesk.refusals import handle_refusals
from helpdesk.transaction import unit_of_work

bp = Blueprint("automations", __name__, url_prefix="/admin/automations")


def _refused(message: str):
    """A refused rule: the editor again, as typed, with the reason; elsewhere back to the list."""
    flash(message, "error")
    if request.endpoint in ("automations.new_rule", "automations.edit_rule") and "form" in g:
        return _render_editor(g.rule, g.kind, g.form, rows=request.form, status=400)
    return redirect(url_for("automations.rules"), 303)


handle_refusals(bp, _refused)


def _rule_or_404(rule_id: int) -> AutomationRule:
    return db.session.get(AutomationRule, rule_id) or abort(404)


@bp.get("")
@staff_required(Role.SUPERVISOR)
def rules():
    found = service.rules()
    return render_template(
        "automations/rules.html",
        triggers=[r for r in found if r.kind == RuleKind.TRIGGER],
        automations=[r for r in found if r.kind == RuleKind.AUTOMATION],
        control=ControlForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def new_rule():
    kind = RuleKind.AUTOMATION if request.values.get("kind") == "automation" else RuleKind.TRIGGER
    return _edit(None, kind)


@bp.route("/<int:rule_id>", methods=["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def edit_rule(rule_id: int):
    rule = _rule_or_404(rule_id)
    return _edit(rule, rule.kind)


def _edit(rule: AutomationRule | None, kind: RuleKind):
    if rule is not None and not request.form:
        template = email_template(rule.actions)
        form = RuleForm(obj=rule, data={**template, "events": rule.events})
    else:
        form = RuleForm()
    g.rule, g.kind, g.form = rule, kind, form
    if not form.is_submitted():
        rows = rows_of(rule.conditions, rule.actions) if rule else MultiDict()
        return _render_editor(rule, kind, form, rows=rows)
    if request.form.get("refresh"):  # without JavaScript: the value pickers of the chosen rows
        return _render_editor(rule, kind, form, rows=request.form)
    if not form.validate():
        return _render_editor(rule, kind, form, rows=request.form, status=400)
    errors: dict[str, str] = {}
    conditions = read_conditions(request.form, errors)
    actions = read_actions(request.form, errors)
    if errors:
        flash(_("Some values are missing: see the messages beside them."), "error")
        return _render_editor(rule, kind, form, rows=request.form, errors=errors, status=400)
    if request.form.get("dry_run"):
        matches = service.matching_tickets(conditions, kind)
        return _render_editor(rule, kind, form, rows=request.form, matches=matches)
    with unit_of_work():
        saved = service.save_rule(
            rule,
            actor=current_user._get_current_object(),
            name=form.name.data,
            kind=kind,
            events=form.events.data,
            conditions=conditions,
            actions=actions,
            is_active=form.is_active.data,
            once_per_ticket=form.once_per_ticket.data,
            ip=request.remote_addr,
        )
    flash(_("Rule «%(name)s» saved.", name=saved.name), "success")
    return redirect(url_for("automations.rules"), 303)


def _render_editor(rule, kind, form, *, rows, matches=None, errors=None, status: int = 200):
    choices = EditorChoices(current_language())
    pickers = {
        f"{group}-{n}": choices.picker(
            rows.get(f"{group}-{n}-condition", ""), values=rows.getlist(f"{group}-{n}-value")
        )
        for group, count in (("all", ALL_ROWS), ("any", ANY_ROWS))
        for n in range(count)
    }
    pickers |= {
        f"action-{n}": choices.picker(
            rows.get(f"action-{n}-type", ""), action=True, values=rows.getlist(f"action-{n}-value")
        )
        for n in range(ACTION_ROWS)
    }
    return render_template(
        "automations/rule.html",
        rule=rule,
        kind=kind,
        form=form,
        rows=rows,
        matches=matches,
        errors=errors or {},
        pickers=pickers,
        tags=choices.tags,
        condition_choices=condition_choices(choices),
        action_choices=action_choices(choices),
        all_rows=range(ALL_ROWS),
        any_rows=range(ANY_ROWS),
        action_rows=range(ACTION_ROWS),
    ), status


@bp.get("/picker")
@staff_required(Role.SUPERVISOR)
def picker():
    """The value picker of one row for the chosen condition or action (htmx swaps it in place)."""
    row = request.args.get("row", "")
    if not ROW_NAME.fullmatch(row):
        abort(400, description=_("Unknown row of the rule editor."))
    is_action = row.startswith("action-")
    choice = request.args.get(f"{row}-type" if is_action else f"{row}-condition", "")
    found = EditorChoices(current_language()).picker(choice, action=is_action)
    return render_template("automations/_picker.html", row=row, picker=found, values=[], unit="", error="")


def _checked_control() -> ControlForm:
    form = ControlForm()
    if not form.validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    return form


@bp.post("/<int:rule_id>/move")
@staff_required(Role.SUPERVISOR)
def move_rule(rule_id: int):
    form = _checked_control()
    with unit_of_work():
        service.move_rule(
            _rule_or_404(rule_id),
            -1 if form.direction.data == "up" else 1,
            actor=current_user._get_current_object(),
            ip=request.remote_addr,
        )
    return redirect(url_for("automations.rules"), 303)


@bp.post("/<int:rule_id>/active")
@staff_required(Role.SUPERVISOR)
def set_active(rule_id: int):
    _checked_control()
    rule = _rule_or_404(rule_id)
    with unit_of_work():
        service.set_active(
            rule,
            request.form.get("active") == "1",
            actor=current_user._get_current_object(),
            ip=request.remote_addr,
        )
    return redirect(url_for("automations.rules"), 303)


@bp.post("/<int:rule_id>/delete")
@staff_required(Role.SUPERVISOR)
def delete_rule(rule_id: int):
    _checked_control()
    rule = _rule_or_404(rule_id)
    name = rule.name
    with unit_of_work():
        service.delete_rule(rule, actor=current_user._get_current_object(), ip=request.remote_addr)
    flash(_("Rule «%(name)s» deleted.", name=name), "success")
    return redirect(url_for("automations.rules"), 303)
