"""The polling fallback: the same log and the same checks as the stream, as JSON, for a page whose
stream is blocked (a proxy that buffers, a network that cuts long requests)."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.auth.permissions import customer_required, staff_required
from helpdesk.live import feed
from helpdesk.live.access import Refused, audience_for

bp = Blueprint("live", __name__, url_prefix="/live")

POLL_LIMIT = 200


@bp.get("/agent/poll")
@staff_required()
def agent_poll():
    """Events for the queue (all tickets) or, with ``ticket=<number>``, one ticket."""
    return _poll(request.args.get("ticket") or None)


@bp.get("/cases/<number>/poll")
@customer_required
def case_poll(number: str):
    """Events a customer may see on one of their own cases."""
    return _poll(number)


def _poll(number: str | None):
    try:
        audience = audience_for(current_user, number)
    except Refused as refused:
        abort(refused.status, description=refused.message)
    after = request.args.get("after", "")
    if not after:
        return jsonify(events=[], last_id=feed.latest_id())
    if not after.isdigit():
        abort(400, description=_("“after” must be an event number."))
    rows = feed.rows_after(int(after), limit=POLL_LIMIT)
    last_id = rows[-1]["id"] if rows else int(after)
    # More than a page behind (a long sleep): the page reloads instead of replaying.
    return jsonify(events=feed.for_audience(rows, audience), last_id=last_id, more=len(rows) == POLL_LIMIT)
