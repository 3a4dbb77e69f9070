"""What every API blueprint shares: JSON errors, domain errors as status codes, the rate limit."""

from __future__ import annotations

from flask_smorest import Blueprint, abort
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import default_exceptions

from helpdesk.api.errors import error_response, register_json_errors
from helpdesk.extensions import db
from helpdesk.refusals import refusal_message
from helpdesk.tickets.errors import DomainError, NotAllowed


def api_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    """``name`` is also the operations' tag in the OpenAPI document (hence ``Tickets``, capitalised)."""
    from helpdesk.api.spec import limit_blueprint

    blueprint = Blueprint(name, __name__, url_prefix=url_prefix, description=description)
    register_json_errors(blueprint)

    @blueprint.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        code = 403 if isinstance(error, NotAllowed) else 409
        return as_response(code, error.message)

    @blueprint.errorhandler(StaleDataError)
    def stale_write(error: StaleDataError):
        db.session.rollback()
        return as_response(409, refusal_message(error))

    @blueprint.errorhandler(IntegrityError)
    def conflicting_write(error: IntegrityError):
        db.session.rollback()
        return as_response(409, "This conflicts with existing data (a duplicate?); reload and try again.")

    limit_blueprint(blueprint)
    return blueprint


def as_response(code: int, message: str):
    """A JSON error answer with ``message``."""
    error = default_exceptions[code]()
    error.data = {"message": message}
    return error_response(error)


def invalid(field: str, message: str):
    """A 422 naming the field, like the schema validation errors."""
    abort(422, message="Some values are invalid.", errors={"json": {field: [message]}})
