"""Refused writes on HTML pages: one handler per blueprint instead of a try/except in every view.

A service raises a ``DomainError`` with a message for people; the ORM raises ``StaleDataError`` when
another agent's write to the same ticket won between our version check and our flush. Either way
the transaction is rolled back and the blueprint answers with the message, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, g, redirect, request, url_for
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


def show_again_when_refused(render: Callable[[str], ResponseReturnValue]) -> None:
    """Let this request's refusal be answered by ``render(message)``: the submitted form shown again
    with the reason beside the field it concerns, instead of the blueprint's general answer."""
    g.show_again_when_refused = render


def refused_shows_again(render: Callable[[], ResponseReturnValue], field=None) -> None:
    """A refused form is shown again by ``render()``, the reason beside ``field`` (or flashed)."""

    def again(message: str) -> ResponseReturnValue:
        if field is None:
            flash(message, "error")
        else:
            field.errors = [*field.errors, message]
        return render()

    show_again_when_refused(again)


def refused_goes_back_to(endpoint: str, **values) -> None:
    """A refused one-click change goes back to the page it came from, with the reason flashed."""

    def back(message: str) -> ResponseReturnValue:
        flash(message, "error")
        return redirect(url_for(endpoint, **values), 303)

    show_again_when_refused(back)


def handle_refusals(bp: Blueprint, respond: Callable[[str], ResponseReturnValue]) -> None:
    """Roll back and answer ``respond(message)`` for every domain error and lost race in ``bp``
    (or the view's own ``show_again_when_refused`` answer)."""

    def refused(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        render = g.pop("show_again_when_refused", None) or respond
        return render(refusal_message(error))

    bp.register_error_handler(DomainError, refused)
    bp.register_error_handler(StaleDataError, refused)
