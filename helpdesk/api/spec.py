"""The API's assembly: flask-smorest generates the OpenAPI 3 document from the views and schemas.

flask-smorest (not apiflask) because it plugs into our plain ``Flask`` app factory and blueprints
(apiflask wants its own ``APIFlask`` app class), and it documents the marshmallow schemas that
validate each request, so the document cannot drift from the code.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_smorest import Api
from werkzeug.routing import BaseConverter, IntegerConverter

from helpdesk.api.auth import rate_limit_key
from helpdesk.api.schemas import MAX_ID
from helpdesk.extensions import csrf, limiter

TICKET_NUMBER_PATTERN = "^[Hh][Dd]-[0-9]{1,12}$"


class TicketNumberConverter(BaseConverter):
    """``HD-1234`` in a URL; anything else is a 404 before any query (and documents the pattern)."""

    regex = TICKET_NUMBER_PATTERN.strip("^$")


class IdConverter(IntegerConverter):
    """A row id in a URL: 1 … 2³¹−1 (larger numbers would overflow the database's integer)."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


class HelpdeskApi(Api):
    def _register_error_handlers(self) -> None:
        """flask-smorest would answer every HTTP error of the whole app in JSON; only the API's
        blueprints do (``helpdesk.api.errors``), the pages keep their HTML error pages."""


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def init_api(app: Flask) -> Api:
    from helpdesk.api import automations, custom_fields, customers, kb, tickets

    app.url_map.converters["ticket_number"] = TicketNumberConverter
    app.url_map.converters["id"] = IdConverter
    api = HelpdeskApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "The helpdesk's REST API. Authenticate with a staff API token "
                    "(`Authorization: Bearer hdk_…`), created on the API tokens page. Read-scoped tokens "
                    "may only GET. Lists are paginated with `limit` and the `next_cursor` of the previous "
                    "page. Errors are JSON: `{code, status, message, errors?}`. Updates to a ticket carry "
                    "the `version` you read; if the ticket changed since, the answer is 409."
                )
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api.register_converter(
        TicketNumberConverter,
        lambda _converter: {"type": "string", "pattern": TICKET_NUMBER_PATTERN, "example": "HD-1001"},
    )
    api.register_converter(
        IdConverter, lambda _converter: {"type": "integer", "minimum": 1, "maximum": MAX_ID, "example": 1}
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A staff API token."}
    )
    for blueprint in (tickets.bp, customers.bp, kb.bp, automations.bp, custom_fields.bp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # bearer tokens only, never cookies: nothing for a forged form to use
    return api


def limit_blueprint(blueprint) -> None:
    """Every API request counts against its token's budget (``API_RATE_LIMIT``)."""
    limiter.limit(_rate_limit, key_func=rate_limit_key)(blueprint)
