"""Supervisor figures over a date range, computed with SQL aggregates where SQL can do it.

Medians and 90th percentiles are computed in Python over one column each (portable across SQLite
and PostgreSQL). Every figure comes back as a ``Table`` so the page, the charts and the CSV export
show the same numbers. Definitions:

* tickets "in the period" were created in it (local days of the helpdesk's time zone);
* first-response compliance = met ÷ (met + missed), where missed means answered late or unanswered
  past the due time; tickets still inside their target are not counted yet (same for resolution);
* median = middle value (mean of the two middle ones); p90 = nearest rank (the ⌈0.9·n⌉-th value);
* backlog = active tickets now, by queue and age; deflection rate = deflections ÷ (deflections +
  portal cases), over the period only (queue and agent filters do not apply to it).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import Date, and_, case, cast, func, or_, select

from helpdesk.auth.models import StaffUser
from helpdesk.extensions import db
from helpdesk.i18n import format_number
from helpdesk.kb.models import Deflection
from helpdesk.sla.models import BreachKind, SlaBreach, SlaMetric, TicketSla
from helpdesk.tickets.labels import CHANNEL_LABELS
from helpdesk.tickets.models import Channel, CsatRating, Queue, Status, Ticket

ACTIVE = [s for s in Status if s.is_active]
DONE = [Status.SOLVED, Status.CLOSED]
AGE_BUCKETS: tuple[tuple[str, Any, int, int | None], ...] = (
    ("under_1d", _l("Under 1 day"), 0, 1),
    ("1_3d", _l("1–3 days"), 1, 3),
    ("3_7d", _l("3–7 days"), 3, 7),
    ("over_7d", _l("Over 7 days"), 7, None),
)
CHANNEL_NAMES = CHANNEL_LABELS
METRIC_NAMES = {
    SlaMetric.FIRST_RESPONSE: _l("First response"),
    SlaMetric.NEXT_RESPONSE: _l("Next response"),
    SlaMetric.RESOLUTION: _l("Resolution"),
}


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # inclusive
    timezone: ZoneInfo
    queue_id: int | None = None
    agent_id: int | None = None
    field_key: str | None = None  # the dropdown field of the "by field" breakdown

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), self.timezone)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), self.timezone)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass
class Table:
    """Rows of raw values; ``kinds`` says how to show each column: text, int, percent, minutes,
    number or datetime. ``None`` is "no data"."""

    title: Any
    headers: list[Any]
    kinds: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: Any = None


# --- shared filters -----------------------------------------------------------------------------


def _ticket_scope(f: ReportFilters) -> list:
    conditions = [Ticket.merged_into_id.is_(None)]
    if f.queue_id is not None:
        conditions.append(Ticket.queue_id == f.queue_id)
    if f.agent_id is not None:
        conditions.append(Ticket.assignee_id == f.agent_id)
    return conditions


def _created_in_period(f: ReportFilters) -> list:
    return [*_ticket_scope(f), Ticket.created_at >= f.since, Ticket.created_at < f.until]


def _count_if(condition) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- figures ------------------------------------------------------------------------------------


def _compliance_counts(now: datetime) -> list:
    """First response met, missed; resolution met, missed — as SQL sums over tickets."""
    fr_due, fr_at = Ticket.first_response_due_at, Ticket.first_response_at
    res_due, solved_at = Ticket.resolution_due_at, Ticket.solved_at
    solved = Ticket.status.in_(DONE)
    return [
        _count_if(and_(fr_due.is_not(None), fr_at.is_not(None), fr_at <= fr_due)),
        _count_if(and_(fr_due.is_not(None), or_(fr_at > fr_due, and_(fr_at.is_(None), fr_due < now)))),
        _count_if(and_(res_due.is_not(None), solved, solved_at <= res_due)),
        _count_if(
            and_(
                res_due.is_not(None),
                or_(and_(solved, solved_at > res_due), and_(Ticket.status.in_(ACTIVE), res_due < now)),
            )
        ),
    ]


def compliance(f: ReportFilters, now: datetime) -> Table:
    """Met and missed first-response and resolution targets of the period's tickets."""
    row = db.session.execute(select(*_compliance_counts(now)).where(*_created_in_period(f))).one()
    fr_met, fr_missed, res_met, res_missed = (int(v) for v in row)
    return Table(
        _l("SLA compliance"),
        [_l("Target"), _l("Met"), _l("Missed"), _l("Compliance (%)")],
        ["text", "int", "int", "percent"],
        [
            [METRIC_NAMES[SlaMetric.FIRST_RESPONSE], fr_met, fr_missed, _percent(fr_met, fr_met + fr_missed)],
            [
                METRIC_NAMES[SlaMetric.RESOLUTION],
                res_met,
                res_missed,
                _percent(res_met, res_met + res_missed),
            ],
        ],
        note=_l("Tickets created in the period; those still within their target are not counted yet."),
    )


def _on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _spreads(where: list, end: Any, business: Any, group: Any = None) -> dict[Any, list]:
    """Per ``group`` (None: one group), the spans from a ticket's creation to ``end`` (tickets
    without ``end`` left out): [count, median and p90 of the business minutes, median and p90 of
    the calendar minutes]. On PostgreSQL the database works them out (percentile_cont is
    statistics.median, percentile_disc the nearest rank of ``p90``): a month of a large helpdesk
    is tens of thousands of tickets, too many rows to fetch for five numbers."""
    keys = [group] if group is not None else []
    business = case((end.is_not(None), business))
    if _on_postgres():
        calendar = func.extract("epoch", end - Ticket.created_at) / 60
        query = (
            select(
                *keys,
                func.count(end),
                func.percentile_cont(0.5).within_group(business),
                func.percentile_disc(0.9).within_group(business),
                func.percentile_cont(0.5).within_group(calendar),
                func.percentile_disc(0.9).within_group(calendar),
            )
            .outerjoin(TicketSla, TicketSla.ticket_id == Ticket.id)
            .where(*where)
            .group_by(*keys)
        )
        return {
            (row[0] if keys else None): [row[-5], *(None if v is None else float(v) for v in row[-4:])]
            for row in db.session.execute(query)
        }
    spans: dict[Any, tuple[list, list]] = {}
    rows = db.session.execute(
        select(*keys, Ticket.created_at, end, business)
        .outerjoin(TicketSla, TicketSla.ticket_id == Ticket.id)
        .where(*where)
    )
    for *key, created, ended, minutes in rows:
        if ended is None:
            continue
        in_business, in_calendar = spans.setdefault(key[0] if keys else None, ([], []))
        in_calendar.append((ended - created) / timedelta(minutes=1))
        if minutes is not None:
            in_business.append(minutes)
    return {
        key: [len(calendar), median(business), p90(business), median(calendar), p90(calendar)]
        for key, (business, calendar) in spans.items()
    }


def response_times(f: ReportFilters) -> Table:
    """Median and p90 first-response and resolution times, in business and in calendar minutes."""
    first = _spreads(
        [*_created_in_period(f), Ticket.first_response_at.is_not(None)],
        Ticket.first_response_at,
        TicketSla.first_response_business_minutes,
    )
    resolved = _spreads(
        [*_created_in_period(f), Ticket.status.in_(DONE), Ticket.solved_at.is_not(None)],
        Ticket.solved_at,
        TicketSla.resolution_business_minutes,
    )
    rows = []
    for metric, spreads in ((SlaMetric.FIRST_RESPONSE, first), (SlaMetric.RESOLUTION, resolved)):
        rows.append([METRIC_NAMES[metric], *spreads.get(None, [0, None, None, None, None])])
    return Table(
        _l("Response and resolution times"),
        [
            _l("Measure"),
            _l("Tickets"),
            _l("Median (business time)"),
            _l("p90 (business time)"),
            _l("Median (calendar time)"),
            _l("p90 (calendar time)"),
        ],
        ["text", "int", "minutes", "minutes", "minutes", "minutes"],
        rows,
    )


def backlog(f: ReportFilters, now: datetime) -> Table:
    """Active tickets now, by queue and by age."""
    # case() takes the first true branch, so test the youngest bucket first.
    bucket = case(
        *[
            (Ticket.created_at > now - timedelta(days=high), key)
            for key, _label, _low, high in AGE_BUCKETS
            if high is not None
        ],
        else_=AGE_BUCKETS[-1][0],
    )
    counts = db.session.execute(
        select(Ticket.queue_id, bucket.label("bucket"), func.count(Ticket.id))
        .where(*_ticket_scope(f), Ticket.status.in_(ACTIVE))
        .group_by(Ticket.queue_id, bucket)
    ).all()
    queue_names = _queue_names({queue_id for queue_id, _b, _n in counts})
    by_queue: dict[int | None, Counter] = {}
    for queue_id, key, n in counts:
        by_queue.setdefault(queue_id, Counter())[key] = n
    rows = []
    for queue_id in sorted(by_queue, key=lambda q: (q is None, str(queue_names.get(q, "")))):
        cells = [by_queue[queue_id][key] for key, *_rest in AGE_BUCKETS]
        rows.append([queue_names.get(queue_id, _l("No queue")), *cells, sum(cells)])
    return Table(
        _l("Backlog by queue and age"),
        [_l("Queue"), *[label for _key, label, *_rest in AGE_BUCKETS], _l("Total")],
        ["text", *["int"] * len(AGE_BUCKETS), "int"],
        rows,
        note=_l("Open tickets now; the date range does not apply."),
    )


def _queue_names(ids: set) -> dict[int | None, str]:
    from flask_babel import get_locale

    locale = str(get_locale() or "ar")
    found = [i for i in ids if i is not None]
    queues = db.session.scalars(select(Queue).where(Queue.id.in_(found))) if found else []
    return {q.id: q.name_for(locale) for q in queues}


def breaches(f: ReportFilters, limit: int | None = None) -> Table:
    """Missed targets whose due time fell in the period, newest first."""
    query = (
        select(SlaBreach, Ticket)
        .join(Ticket, Ticket.id == SlaBreach.ticket_id)
        .where(
            *_ticket_scope(f),
            SlaBreach.kind == BreachKind.BREACH,
            SlaBreach.due_at >= f.since,
            SlaBreach.due_at < f.until,
        )
        .order_by(SlaBreach.due_at.desc(), SlaBreach.id.desc())
    )
    if limit:
        query = query.limit(limit)
    found = db.session.execute(query).all()
    staff = _staff_names({t.assignee_id for _b, t in found})
    queues = _queue_names({t.queue_id for _b, t in found})
    rows = [
        [
            ticket.number,
            ticket.subject,
            METRIC_NAMES[breach.metric],
            breach.due_at,
            queues.get(ticket.queue_id, "—"),
            staff.get(ticket.assignee_id, "—"),
        ]
        for breach, ticket in found
    ]
    return Table(
        _l("Breaches"),
        [_l("Ticket"), _l("Subject"), _l("Target"), _l("Due"), _l("Queue"), _l("Assignee")],
        ["ticket", "text", "text", "datetime", "text", "text"],
        rows,
    )


def _staff_names(ids: set) -> dict[int, str]:
    found = [i for i in ids if i is not None]
    if not found:
        return {}
    return dict(db.session.execute(select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(found))).all())


def agents(f: ReportFilters) -> Table:
    """Per agent: tickets assigned (created in the period), solved in the period, median first
    response (business minutes) of their tickets, and CSAT average of ratings given in the period."""
    assigned = dict(
        db.session.execute(
            select(Ticket.assignee_id, func.count(Ticket.id))
            .where(*_created_in_period(f), Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    solved = dict(
        db.session.execute(
            select(Ticket.assignee_id, func.count(Ticket.id))
            .where(
                *_ticket_scope(f),
                Ticket.assignee_id.is_not(None),
                Ticket.status.in_(DONE),
                Ticket.solved_at >= f.since,
                Ticket.solved_at < f.until,
            )
            .group_by(Ticket.assignee_id)
        ).all()
    )
    first_responses: dict[int, list[float]] = {}
    for agent_id, minutes in db.session.execute(
        select(Ticket.assignee_id, TicketSla.first_response_business_minutes)
        .join(TicketSla, TicketSla.ticket_id == Ticket.id)
        .where(
            *_created_in_period(f),
            Ticket.assignee_id.is_not(None),
            TicketSla.first_response_business_minutes.is_not(None),
        )
    ):
        first_responses.setdefault(agent_id, []).append(minutes)
    csat = {
        agent_id: (float(avg), n)
        for agent_id, avg, n in db.session.execute(
            select(CsatRating.agent_id, func.avg(CsatRating.score), func.count(CsatRating.id))
            .join(Ticket, Ticket.id == CsatRating.ticket_id)
            .where(*_csat_scope(f), CsatRating.agent_id.is_not(None))
            .group_by(CsatRating.agent_id)
        )
    }
    ids = set(assigned) | set(solved) | set(first_responses) | set(csat)
    if f.agent_id is not None:
        ids &= {f.agent_id}
    names = _staff_names(ids)
    rows = [
        [
            names.get(agent_id, "—"),
            assigned.get(agent_id, 0),
            solved.get(agent_id, 0),
            median(first_responses.get(agent_id, [])),
            round(csat[agent_id][0], 2) if agent_id in csat else None,
            csat[agent_id][1] if agent_id in csat else 0,
        ]
        for agent_id in sorted(ids, key=lambda i: names.get(i, ""))
    ]
    return Table(
        _l("Agents"),
        [
            _l("Agent"),
            _l("Assigned"),
            _l("Solved"),
            _l("Median first response (business time)"),
            _l("CSAT average"),
            _l("Ratings"),
        ],
        ["text", "int", "int", "minutes", "number", "int"],
        rows,
    )


def _csat_scope(f: ReportFilters) -> list:
    conditions = [CsatRating.created_at >= f.since, CsatRating.created_at < f.until]
    if f.queue_id is not None:
        conditions.append(Ticket.queue_id == f.queue_id)
    if f.agent_id is not None:
        conditions.append(CsatRating.agent_id == f.agent_id)
    return conditions


def csat(f: ReportFilters) -> Table:
    """Customer satisfaction ratings given in the period: count per score and the average."""
    counts = dict(
        db.session.execute(
            select(CsatRating.score, func.count(CsatRating.id))
            .join(Ticket, Ticket.id == CsatRating.ticket_id)
            .where(*_csat_scope(f))
            .group_by(CsatRating.score)
        ).all()
    )
    total = sum(counts.values())
    average = round(sum(score * n for score, n in counts.items()) / total, 2) if total else None
    rows = [
        [str(score), counts.get(score, 0), _percent(counts.get(score, 0), total)] for score in range(1, 6)
    ]
    return Table(
        _l("Customer satisfaction"),
        [_l("Score"), _l("Ratings"), _l("Share (%)")],
        ["text", "int", "percent"],
        rows,
        note=lazy_ngettext(
            "Average: %(average)s from %(num)d rating.",
            "Average: %(average)s from %(num)d ratings.",
            total,
            average=format_number(average, "0.##") if average else "—",
        ),
    )


def csat_average(f: ReportFilters) -> tuple[float | None, int]:
    avg, n = db.session.execute(
        select(func.avg(CsatRating.score), func.count(CsatRating.id))
        .join(Ticket, Ticket.id == CsatRating.ticket_id)
        .where(*_csat_scope(f))
    ).one()
    return (round(float(avg), 2) if avg is not None else None), int(n)


def deflection(f: ReportFilters) -> Table:
    deflections = db.session.scalar(
        select(func.count(Deflection.id)).where(
            Deflection.created_at >= f.since, Deflection.created_at < f.until
        )
    )
    portal_cases = db.session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.merged_into_id.is_(None),
            Ticket.channel == Channel.PORTAL,
            Ticket.created_at >= f.since,
            Ticket.created_at < f.until,
        )
    )
    return Table(
        _l("Self-service deflection"),
        [_l("Deflections"), _l("Portal cases"), _l("Deflection rate (%)")],
        ["int", "int", "percent"],
        [[deflections, portal_cases, _percent(deflections, deflections + portal_cases)]],
        note=_l("Deflections ÷ (deflections + portal cases); queue and agent filters do not apply."),
    )


def volume_by_channel(f: ReportFilters) -> Table:
    counts = dict(
        db.session.execute(
            select(Ticket.channel, func.count(Ticket.id))
            .where(*_created_in_period(f))
            .group_by(Ticket.channel)
        ).all()
    )
    return Table(
        _l("Tickets by channel"),
        [_l("Channel"), _l("Tickets")],
        ["text", "int"],
        [[CHANNEL_NAMES[channel], counts.get(channel, 0)] for channel in Channel],
    )


def first_response_by_channel(f: ReportFilters, now: datetime) -> Table:
    """Per channel: tickets answered, median and p90 first-response times, and the share that met
    the first-response target (missed: answered late, or unanswered past due), of the period's
    tickets. Two grouped queries."""
    answered, due = Ticket.first_response_at, Ticket.first_response_due_at
    spreads = _spreads(
        _created_in_period(f), answered, TicketSla.first_response_business_minutes, Ticket.channel
    )
    targets = {
        channel: (int(met), int(missed))
        for channel, met, missed in db.session.execute(
            select(
                Ticket.channel,
                _count_if(and_(due.is_not(None), answered.is_not(None), answered <= due)),
                _count_if(and_(due.is_not(None), or_(answered > due, and_(answered.is_(None), due < now)))),
            )
            .where(*_created_in_period(f))
            .group_by(Ticket.channel)
        )
    }
    rows = []
    for channel in Channel:
        count, business_median, business_p90, calendar_median, _p90 = spreads.get(
            channel, [0, None, None, None, None]
        )
        met, missed = targets.get(channel, (0, 0))
        rows.append(
            [
                CHANNEL_NAMES[channel],
                count,
                business_median,
                business_p90,
                calendar_median,
                _percent(met, met + missed),
            ]
        )
    return Table(
        _l("First response by channel"),
        [
            _l("Channel"),
            _l("Answered"),
            _l("Median (business time)"),
            _l("p90 (business time)"),
            _l("Median (calendar time)"),
            _l("Within target (%)"),
        ],
        ["text", "int", "minutes", "minutes", "minutes", "percent"],
        rows,
        note=_l("Tickets created in the period, by the channel they came in on."),
    )


def volume_by_day(f: ReportFilters) -> Table:
    """Tickets created per local day (day boundaries depend on the time zone: on PostgreSQL the
    database converts and counts, elsewhere the creation times are bucketed here)."""
    if _on_postgres():
        day = cast(func.timezone(f.timezone.key, Ticket.created_at), Date)
        per_day = dict(
            db.session.execute(select(day, func.count()).where(*_created_in_period(f)).group_by(day)).all()
        )
    else:
        per_day = Counter(
            created.astimezone(f.timezone).date()
            for created in db.session.scalars(select(Ticket.created_at).where(*_created_in_period(f)))
        )
    return Table(
        _l("Tickets by day"),
        [_l("Day"), _l("Tickets")],
        ["date", "int"],
        [[day, per_day.get(day, 0)] for day in f.days()],
    )


# --- breakdowns by request type and by a dropdown field --------------------------------------------


def _breakdown(f: ReportFilters, now: datetime, group: Any, join: Any | None) -> dict[Any, list]:
    """Per group key: tickets created in the period, the four compliance counts, the CSAT average
    and number of ratings given in the period (two grouped queries, however many groups)."""
    counted = select(group, func.count(Ticket.id), *_compliance_counts(now)).where(*_created_in_period(f))
    rated = (
        select(group, func.avg(CsatRating.score), func.count(CsatRating.id))
        .join(Ticket, Ticket.id == CsatRating.ticket_id)
        .where(*_csat_scope(f))
    )
    if join is not None:
        counted, rated = counted.outerjoin(*join), rated.outerjoin(*join)
    found: dict[Any, list] = {}
    for key, n, *counts in db.session.execute(counted.group_by(group)):
        found[key] = [int(n), *(int(c) for c in counts), None, 0]
    for key, average, n in db.session.execute(rated.group_by(group)):
        row = found.setdefault(key, [0, 0, 0, 0, 0, None, 0])
        row[5], row[6] = round(float(average), 2), int(n)
    return found


BREAKDOWN_HEADERS = [
    _l("Tickets"),
    _l("First response: met"),
    _l("First response: missed"),
    _l("First-response compliance (%)"),
    _l("Resolution compliance (%)"),
    _l("CSAT average"),
    _l("Ratings"),
]
BREAKDOWN_KINDS = ["int", "int", "int", "percent", "percent", "number", "int"]
BREAKDOWN_NOTE = _l(
    "Tickets and compliance: tickets created in the period (those still within their target are not "
    "counted yet); CSAT: ratings given in the period."
)


def _breakdown_row(name: Any, counts: list) -> list:
    n, fr_met, fr_missed, res_met, res_missed, average, ratings = counts
    return [
        name,
        n,
        fr_met,
        fr_missed,
        _percent(fr_met, fr_met + fr_missed),
        _percent(res_met, res_met + res_missed),
        average,
        ratings,
    ]


def by_request_type(f: ReportFilters, now: datetime) -> Table:
    """Volume, SLA compliance and CSAT per request type (types in their order, then "no type")."""
    from flask_babel import get_locale

    from helpdesk.custom_fields.models import RequestType

    found = _breakdown(f, now, Ticket.request_type_id, None)
    locale = str(get_locale() or "ar")
    types = db.session.scalars(
        select(RequestType)
        .where(or_(RequestType.is_active, RequestType.id.in_([k for k in found if k is not None])))
        .order_by(RequestType.position, RequestType.id)
    ).all()
    empty = [0, 0, 0, 0, 0, None, 0]
    rows = [_breakdown_row(t.name_for(locale), found.get(t.id, empty)) for t in types]
    if None in found:
        rows.append(_breakdown_row(_l("No request type"), found[None]))
    return Table(
        _l("By request type"),
        [_l("Request type"), *BREAKDOWN_HEADERS],
        ["text", *BREAKDOWN_KINDS],
        rows,
        note=BREAKDOWN_NOTE,
    )


def breakdown_fields() -> list:
    """The dropdown ticket fields a report can break down by (archived ones too: old values count)."""
    from helpdesk.custom_fields.models import CustomField, FieldScope, FieldType

    return list(
        db.session.scalars(
            select(CustomField)
            .where(CustomField.scope == FieldScope.TICKET, CustomField.type == FieldType.DROPDOWN)
            .order_by(CustomField.is_active.desc(), CustomField.position, CustomField.id)
        )
    )


def by_field(f: ReportFilters, now: datetime, fields: list | None = None) -> Table:
    """Volume, SLA compliance and CSAT per option of the chosen dropdown field (``f.field_key``, else
    the first one): options in their order, retired ones where tickets hold them, then "not set"."""
    from flask_babel import get_locale

    from helpdesk.custom_fields.models import FieldOption, TicketFieldValue

    fields = breakdown_fields() if fields is None else fields
    field = next((x for x in fields if x.key == f.field_key), fields[0] if fields else None)
    headers, kinds = [_l("Value"), *BREAKDOWN_HEADERS], ["text", *BREAKDOWN_KINDS]
    if field is None:
        return Table(_l("By field"), headers, kinds, [], note=_l("No dropdown field is defined yet."))
    locale = str(get_locale() or "ar")
    join = (
        TicketFieldValue,
        and_(TicketFieldValue.ticket_id == Ticket.id, TicketFieldValue.field_id == field.id),
    )
    found = _breakdown(f, now, TicketFieldValue.value_text, join)
    options = db.session.scalars(
        select(FieldOption)
        .where(FieldOption.field_id == field.id)
        .order_by(FieldOption.position, FieldOption.id)
    ).all()
    empty = [0, 0, 0, 0, 0, None, 0]
    rows = [
        _breakdown_row(o.label_for(locale), found.get(o.value, empty))
        for o in options
        if o.is_active or o.value in found
    ]
    if None in found:
        rows.append(_breakdown_row(_l("Not set"), found[None]))
    return Table(_l("By %(field)s", field=field.label_for(locale)), headers, kinds, rows, note=BREAKDOWN_NOTE)


TABLES: dict[str, Callable[[ReportFilters, datetime], Table]] = {
    "compliance": compliance,
    "times": lambda f, now: response_times(f),
    "backlog": backlog,
    "breaches": lambda f, now: breaches(f),
    "agents": lambda f, now: agents(f),
    "csat": lambda f, now: csat(f),
    "deflection": lambda f, now: deflection(f),
    "channels": lambda f, now: volume_by_channel(f),
    "first_response_channels": first_response_by_channel,
    "days": lambda f, now: volume_by_day(f),
    "by_type": by_request_type,
    "by_field": by_field,
}
