"""What the queue badges need: each ticket's running clock in business time, batched per page.

``sla_clock(ticket)`` is a template global. Its first call in a request loads the SLA rows of every
ticket the request has loaded so far (one query), and the calendars once, so a queue page costs two
queries for its badges however many rows it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from babel.lists import format_list
from babel.units import format_unit
from flask import Flask, g
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.i18n import format_local_datetime
from helpdesk.sla.business_time import WorkingCalendar
from helpdesk.sla.calendars import schedule_for
from helpdesk.sla.models import BusinessCalendar, TicketSla
from helpdesk.sla.service import ClockSummary, summarize
from helpdesk.tickets.models import Ticket


def _rows_for(ticket: Ticket) -> dict[int, TicketSla | None]:
    rows: dict[int, TicketSla | None] = g.setdefault("_sla_rows", {})
    if ticket.id not in rows:
        loaded = {obj.id for obj in db.session.identity_map.values() if isinstance(obj, Ticket)}
        wanted = (loaded | {ticket.id}) - rows.keys()
        rows.update(dict.fromkeys(wanted))
        for row in db.session.scalars(select(TicketSla).where(TicketSla.ticket_id.in_(wanted))):
            rows[row.ticket_id] = row
    return rows


def _calendars() -> dict[int, WorkingCalendar]:
    if "_sla_calendars" not in g:
        g._sla_calendars = {c.id: schedule_for(c) for c in db.session.scalars(select(BusinessCalendar))}
    return g._sla_calendars


def sla_clock(ticket: Ticket) -> ClockSummary | None:
    """The ticket's most urgent running clock, or None when no SLA clock runs."""
    row = _rows_for(ticket).get(ticket.id)
    if row is None or row.calendar_id is None:
        return None
    if "_sla_now" not in g:
        g._sla_now = utcnow()
    return summarize(ticket, row, _calendars().get(row.calendar_id), g._sla_now)


@dataclass(frozen=True)
class BadgeText:
    state: str  # "running", "warning", "overdue", "paused"
    label: Markup  # e.g. "1 hour and 35 minutes left", "Overdue 3 days"
    title: Markup  # e.g. "first response due 26 Nov 2026, 3:00 PM" (empty when paused)


def sla_badge_text(ticket: Ticket) -> BadgeText | None:
    """The badge's words for the ticket's running clock, or None. The sentences are translated once
    per page and language, not once per row; variables are escaped as in a template's ``_()``."""
    clock = sla_clock(ticket)
    if clock is None:
        return None
    words = _badge_words()
    if clock.state == "paused":
        return BadgeText("paused", Markup(words["paused"]), Markup())
    title = Markup(words["due"]) % {
        "metric": words[clock.metric],
        "due": format_local_datetime(clock.due_at, "short"),
    }
    # Wall-clock time to or past the due time, as people count it ("3 days", not "496 h"); the
    # warning share and the due time itself are in business time.
    if clock.state != "overdue":
        label = Markup(words["left"]) % {"time": humanised_duration(clock.due_at - g._sla_now)}
    elif g._sla_now - clock.due_at >= timedelta(minutes=1):
        label = Markup(words["overdue_for"]) % {"time": humanised_duration(g._sla_now - clock.due_at)}
    else:
        label = Markup(words["overdue"])
    return BadgeText(clock.state, label, title)


def _badge_words() -> dict:
    from helpdesk.sla.labels import METRIC_LABELS

    cache = g.setdefault("_sla_badge_words", {})
    locale = str(get_locale())
    if locale not in cache:
        cache[locale] = {
            "paused": _("SLA paused"),
            "due": _("%(metric)s due %(due)s"),
            "left": _("%(time)s left"),
            "overdue_for": _("Overdue %(time)s"),
            "overdue": _("Overdue"),
            **{metric: str(label) for metric, label in METRIC_LABELS.items()},
        }
    return cache[locale]


def humanised_duration(span: timedelta) -> str:
    """A span in Babel's words for the page's language, as precise as it matters: "35 دقيقة",
    "ساعة و35 دقيقة" below three hours, then whole hours ("20 ساعة"), days ("3 أيام"), weeks…"""
    minutes = max(-(-int(span.total_seconds()) // 60), 1)  # rounded up: "1 min left", never "0"
    if minutes < 60:
        return format_timedelta(timedelta(minutes=minutes), granularity="minute", threshold=1)
    hours, rest = divmod(minutes, 60)
    if hours < 3 and rest:
        whole_hours = format_timedelta(timedelta(hours=hours), threshold=1)
        return format_list([whole_hours, format_timedelta(timedelta(minutes=rest))], locale=get_locale())
    return format_timedelta(timedelta(minutes=minutes), threshold=1)


def business_duration(minutes: int) -> str:
    """``95`` → "1 hour and 35 minutes" / "ساعة و35 دقيقة": business hours and minutes in words
    with the language's plural forms (business hours are not folded into days: a working day is not 24 h)."""
    hours, rest = divmod(max(int(minutes), 0), 60)
    locale = get_locale()
    parts = [format_unit(hours, "duration-hour", length="long", locale=locale)] if hours else []
    if rest or not hours:
        parts.append(format_unit(rest, "duration-minute", length="long", locale=locale))
    return format_list(parts, locale=locale)


def register_template_helpers(app: Flask) -> None:
    app.add_template_global(sla_clock)
    app.add_template_global(sla_badge_text)
    app.add_template_global(business_duration)
