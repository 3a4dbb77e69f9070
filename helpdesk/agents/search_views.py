"""Agent search: ``/agent/search?q=`` — a ticket number, or an order number with one active ticket,
redirects to the ticket; an order number with several lists them first; anything else lists
matching tickets with highlighted snippets (a page, or the results fragment for htmx, where a
number is offered as a link rather than followed while the agent is still typing)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from helpdesk.agents.views import bp
from helpdesk.auth.permissions import staff_required
from helpdesk.extensions import htmx
from helpdesk.tickets.labels import STATUS_LABELS
from helpdesk.tickets.search import MAX_QUERY_CHARS, NumberLookup, look_up_number, search_tickets


@bp.get("/search")
@staff_required()
def search():
    text = request.args.get("q", "").strip()[:MAX_QUERY_CHARS]
    found = look_up_number(text) if text else NumberLookup()
    if found.jump and not htmx:
        return redirect(url_for("agents.ticket", number=found.jump))
    context = {
        "q": text,
        "jump": found.jump,
        "order_number": found.order_number,
        "order_tickets": found.order_tickets,
        "results": search_tickets(text, as_you_type=bool(htmx)) if text else None,
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
    }
    if htmx:
        return render_template("agents/_search_results.html", **context)
    return render_template("agents/search.html", **context)
