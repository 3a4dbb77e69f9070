"""``/api/v1/automations``: list, read, create, update and delete automation rules, and the dry run.

Supervisors and admins only (as on the rule pages); every change is validated and audited by
``automations.service``. An invalid rule (unknown field, unsafe automation …) is a 422 with the reason."""

from __future__ import annotations

from flask import request
from flask_smorest import abort
from marshmallow import fields, validate

from helpdesk.api.auth import api_auth, api_user
from helpdesk.api.blueprints import api_blueprint, as_response
from helpdesk.api.models import TokenScope
from helpdesk.api.schemas import StrictSchema, Text
from helpdesk.auth.models import Role
from helpdesk.automations import service
from helpdesk.automations.models import AutomationRule, RuleKind
from helpdesk.extensions import db
from helpdesk.transaction import unit_of_work

bp = api_blueprint(
    "Automations",
    "/api/v1/automations",
    "Automation rules: triggers (run when a ticket is created, updated or gets a message) and "
    "time-based automations (run by the worker). Conditions are `{all: [...], any: [...]}` of "
    "`{field, op, value}`; actions a list of `{type, value}` (see the README).",
)
RULE_ID = "<id:rule_id>"


class RuleSchema(StrictSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    position = fields.Integer()
    is_active = fields.Boolean()
    events = fields.List(fields.String())
    conditions = fields.Dict()
    actions = fields.List(fields.Dict())
    once_per_ticket = fields.Boolean()


class RuleWriteSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in RuleKind]))
    events = fields.List(fields.String(), load_default=list)
    conditions = fields.Dict(load_default=dict, metadata={"description": "{all: [...], any: [...]}"})
    actions = fields.List(fields.Dict(), required=True)
    is_active = fields.Boolean(load_default=True)
    once_per_ticket = fields.Boolean(load_default=False)


class DryRunSchema(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in RuleKind]))
    conditions = fields.Dict(required=True)


class TicketRefSchema(StrictSchema):
    number = fields.String()
    subject = fields.String()
    status = fields.String()


class DryRunResultSchema(StrictSchema):
    tickets = fields.List(fields.Nested(TicketRefSchema), metadata={"description": "At most 50."})


@bp.errorhandler(service.InvalidRule)
def invalid_rule(error: service.InvalidRule):
    db.session.rollback()
    return as_response(422, error.message)


def _rule(rule_id: int) -> AutomationRule:
    rule = db.session.get(AutomationRule, rule_id)
    if rule is None:
        abort(404, message=f"No automation rule has the id {rule_id}.")
    return rule


@bp.route("", methods=["GET"])
@api_auth(TokenScope.READ, role=Role.SUPERVISOR)
@bp.response(200, RuleSchema(many=True))
def list_rules():
    """Every rule: triggers, then automations, each in the order they run."""
    return service.rules()


@bp.route("", methods=["POST"])
@api_auth(TokenScope.WRITE, role=Role.SUPERVISOR)
@bp.arguments(RuleWriteSchema)
@bp.response(201, RuleSchema)
def create_rule(data: dict):
    """A new rule, last in its kind's order."""
    with unit_of_work():
        rule = service.save_rule(None, actor=api_user(), ip=request.remote_addr, **data)
    return rule


@bp.route(f"/{RULE_ID}", methods=["GET"])
@api_auth(TokenScope.READ, role=Role.SUPERVISOR)
@bp.response(200, RuleSchema)
def get_rule(rule_id: int):
    return _rule(rule_id)


@bp.route(f"/{RULE_ID}", methods=["PUT"])
@api_auth(TokenScope.WRITE, role=Role.SUPERVISOR)
@bp.arguments(RuleWriteSchema)
@bp.response(200, RuleSchema)
def update_rule(data: dict, rule_id: int):
    """Replace the rule's name, conditions, actions and switches (its kind cannot change)."""
    rule = _rule(rule_id)
    with unit_of_work():
        service.save_rule(rule, actor=api_user(), ip=request.remote_addr, **data)
    return rule


@bp.route(f"/{RULE_ID}", methods=["DELETE"])
@api_auth(TokenScope.WRITE, role=Role.SUPERVISOR)
@bp.response(204)
def delete_rule(rule_id: int):
    rule = _rule(rule_id)
    with unit_of_work():
        service.delete_rule(rule, actor=api_user(), ip=request.remote_addr)


@bp.route("/dry-run", methods=["POST"])
@api_auth(TokenScope.READ, role=Role.SUPERVISOR)
@bp.arguments(DryRunSchema)
@bp.response(200, DryRunResultSchema)
def dry_run(data: dict):
    """The current tickets these conditions match now; nothing is saved or changed."""
    found = service.matching_tickets(data["conditions"], data["kind"])
    return {"tickets": [{"number": t.number, "subject": t.subject, "status": t.status.value} for t in found]}
