"""The queue's filters read from a query string: the page's own arguments and a saved view's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import gettext as _

from helpdesk.custom_fields import queries as field_queries
from helpdesk.custom_fields.models import CustomField
from helpdesk.custom_fields.values import InvalidFieldValue
from helpdesk.tickets import queries
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Channel, Priority, Status

FILTER_ARGS = ("status", "priority", "queue", "assignee", "tag", "channel", "customer", "from", "to")


class BadQueueFilter(DomainError):
    """A filter value the queue cannot use; the message says which."""


def _unknown(name: str, value: str) -> BadQueueFilter:
    return BadQueueFilter(_("Unknown %(field)s: %(value)s", field=name, value=value))


def _enum(args: Mapping[str, str], name: str, enum_cls):
    raw = args.get(name, "")
    if not raw:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        raise _unknown(name, raw) from None


def _date(args: Mapping[str, str], name: str) -> date | None:
    raw = args.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadQueueFilter(_("Dates are written YYYY-MM-DD (%(field)s).", field=name)) from None


def queue_filters(
    args: Mapping[str, str], fields: list[CustomField], *, locale: str, correlated: bool = False
) -> tuple[queries.QueueFilters, dict[str, str]]:
    """The filters of ``args`` and the field filters' arguments (for links); ``BadQueueFilter`` or
    ``InvalidFieldValue`` for a value that cannot be used. ``correlated``: field filters as the page
    of a walk in order wants them (see ``custom_fields.queries.ticket_filter``); counts leave it off."""
    queue_raw = args.get("queue", "")
    if queue_raw and not queue_raw.isdigit():
        raise _unknown("queue", queue_raw)
    assignee = args.get("assignee", "")
    if assignee and assignee != "none" and not assignee.isdigit():
        raise _unknown("assignee", assignee)
    filters = queries.QueueFilters(
        status=_enum(args, "status", Status),
        priority=_enum(args, "priority", Priority),
        queue_id=int(queue_raw) if queue_raw else None,
        assignee=assignee,
        tag=args.get("tag", "")[:60],
        channel=_enum(args, "channel", Channel),
        customer=args.get("customer", "")[:100],
        created_from=_date(args, "from"),
        created_to=_date(args, "to"),
    )
    filters.extra, field_args = field_queries.filters_from_args(
        fields, args, locale=locale, correlated=correlated
    )
    return filters, field_args


__all__ = ["FILTER_ARGS", "BadQueueFilter", "InvalidFieldValue", "queue_filters"]
