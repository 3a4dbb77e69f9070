"""SLA data: business calendars, ordered policies, each ticket's clock state, pauses and breaches."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.auth.models import StaffUser
from helpdesk.customers.models import Tier
from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db
from helpdesk.tickets.models import Priority, Queue, Ticket


class BusinessCalendar(db.Model):
    """A team's working time: a zone, hours per weekday, date overrides and holidays."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Riyadh")
    holiday_country: Mapped[str | None] = mapped_column(String(3))  # ISO code known to `holidays`
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))
    # Bumped on every change, so cached schedules built from an older state are not reused.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intervals: Mapped[list[WorkingInterval]] = relationship(
        back_populates="calendar",
        cascade="all, delete-orphan",
        order_by="WorkingInterval.weekday, WorkingInterval.start_minute",
    )
    overrides: Mapped[list[CalendarOverride]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarOverride.first_day"
    )
    holidays: Mapped[list[CalendarHoliday]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarHoliday.day"
    )


class WorkingInterval(db.Model):
    """Working hours on a weekday, in minutes after local midnight; a day may have several."""

    __tablename__ = "working_intervals"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # date.weekday(): Monday 0 … Sunday 6
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="intervals")


class CalendarOverride(db.Model):
    """Other hours over a date range (e.g. Ramadan); an empty list of intervals closes those days."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("business_calendars.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    intervals: Mapped[list] = mapped_column(JSON, default=list)  # [[start_minute, end_minute], …]

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="overrides")


class CalendarHoliday(db.Model):
    """A closed day of the team's own, on top of the country's public holidays."""

    __tablename__ = "calendar_holidays"
    __table_args__ = (UniqueConstraint("calendar_id", "day", name="uq_calendar_holidays_calendar_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120))

    calendar: Mapped[BusinessCalendar] = relationship(back_populates="holidays")


class SlaPolicy(db.Model):
    """One ordered rule: tickets matching priority, queue and customer tier (empty = any) get these
    targets in business minutes of the calendar. The first active match by position wins."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    match_priority: Mapped[Priority | None] = mapped_column(enum_type(Priority))
    match_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    match_tier: Mapped[Tier | None] = mapped_column(enum_type(Tier))
    # The tier of the customer's company (B2B contracts); empty = any, and customers of no company.
    match_company_tier: Mapped[Tier | None] = mapped_column(enum_type(Tier))
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    pause_when_pending: Mapped[bool] = mapped_column(default=True)
    pause_when_on_hold: Mapped[bool] = mapped_column(default=True)
    warn_at_percent: Mapped[int] = mapped_column(Integer, default=75)
    # Escalation on a breach, besides the email to the queue's supervisor.
    breach_raises_priority: Mapped[bool] = mapped_column(default=False)
    breach_reassign_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calendar: Mapped[BusinessCalendar] = relationship()
    match_queue: Mapped[Queue | None] = relationship()
    breach_reassign_to: Mapped[StaffUser | None] = relationship()


class SlaMetric(enum.StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class PauseReason(enum.StrEnum):
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"  # solved or closed: every clock stops; a reopened ticket resumes them


class TicketSla(db.Model):
    """A ticket's clock state beyond the due times stored on the ticket itself."""

    __tablename__ = "ticket_sla"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id", ondelete="SET NULL"))
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("business_calendars.id", ondelete="SET NULL"))
    # The customer message the team owes an answer to (starts the next-response clock).
    awaiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Business minutes the clocks ran (pauses excluded), once they stopped; for reports.
    first_response_business_minutes: Mapped[float | None] = mapped_column(Float)
    resolution_business_minutes: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    policy: Mapped[SlaPolicy | None] = relationship()


class SlaPause(db.Model):
    """A span in which the ticket's clocks may stop (which reasons stop them is the policy's choice)."""

    __tablename__ = "sla_pauses"
    __table_args__ = (Index("ix_sla_pauses_ticket_started", "ticket_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    reason: Mapped[PauseReason] = mapped_column(enum_type(PauseReason))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()


class BreachKind(enum.StrEnum):
    WARNING = "warning"  # the configured share of the target is used up
    BREACH = "breach"  # the target is missed


class SlaBreach(db.Model):
    """A warning or breach, recorded once per clock: the unique key makes a second worker run a no-op."""

    __tablename__ = "sla_breaches"
    __table_args__ = (
        UniqueConstraint(
            "ticket_id", "metric", "kind", "clock_started_at", name="uq_sla_breaches_ticket_metric_kind_clock"
        ),
        Index("ix_sla_breaches_kind_due", "kind", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    metric: Mapped[SlaMetric] = mapped_column(enum_type(SlaMetric))
    kind: Mapped[BreachKind] = mapped_column(enum_type(BreachKind))
    clock_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id", ondelete="SET NULL"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    notified_to: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    queue: Mapped[Queue | None] = relationship()
    assignee: Mapped[StaffUser | None] = relationship()
