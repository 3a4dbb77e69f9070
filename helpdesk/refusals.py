"""Refused writes on HTML pages: one handler per blueprint instead of a try/except in every view.

A service raises a ``DomainError`` with a message for people; the ORM raises ``StaleDataError`` when
another agent's write to the same ticket won between our version check and our flush. Either way
the transaction is rolled back and the blueprint answers with the message, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.extensions import db
from helpdesk.tickets import queries, service
from helpdesk.tickets.errors import DomainError


def refusal_message(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    number = (request.view_args or {}).get("number")
    expected = request.form.get("version", type=int)
    if expected is None and request.is_json:
        expected = (request.get_json(silent=True) or {}).get("version")
    ticket = queries.ticket_by_number(number) if number else None
    if ticket is not None and isinstance(expected, int) and expected != ticket.version:
        return service.stale_ticket_error(ticket, expected).message
    return _("Someone else changed this at the same moment. Reload the page and try again.")


def handle_refusals(bp: Blueprint, respond: Callable[[str], ResponseReturnValue]) -> None:
    """Roll back and answer ``respond(message)`` for every domain error and lost race in ``bp``."""

    def refused(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        return respond(refusal_message(error))

    bp.register_error_handler(DomainError, refused)
    bp.register_error_handler(StaleDataError, refused)
