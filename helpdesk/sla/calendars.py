"""Business calendars: building the working schedule from the database, and the admin's edits.

The ``holidays`` package (4 MB, every country's rules) is imported by what reads public holidays,
not when a web process starts."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import date
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.extensions import db
from helpdesk.sla.business_time import DateOverride, Interval, WorkingCalendar
from helpdesk.sla.models import BusinessCalendar, CalendarHoliday, CalendarOverride, WorkingInterval
from helpdesk.tickets.errors import DomainError

# Schedules are rebuilt only when a calendar's revision changes; they also cache day periods.
_schedules_lock = threading.Lock()


class InvalidCalendar(DomainError):
    pass


@cache
def timezone_names() -> list[str]:
    return sorted(available_timezones())


@cache
def holiday_countries() -> list[str]:
    import holidays

    return sorted(holidays.list_supported_countries(include_aliases=False))


def schedule_for(calendar: BusinessCalendar) -> WorkingCalendar:
    """The calendar as plain data for the business-time arithmetic (cached per app and revision)."""
    schedules: dict[int, tuple[int, WorkingCalendar]] = current_app.extensions.setdefault("sla_schedules", {})
    with _schedules_lock:
        cached = schedules.get(calendar.id)
    if cached is not None and cached[0] == calendar.revision:
        return cached[1]
    schedule = build_schedule(calendar)
    with _schedules_lock:
        schedules[calendar.id] = (calendar.revision, schedule)
    return schedule


def build_schedule(calendar: BusinessCalendar) -> WorkingCalendar:
    weekly: dict[int, list[Interval]] = {}
    for interval in calendar.intervals:
        weekly.setdefault(interval.weekday, []).append((interval.start_minute, interval.end_minute))
    overrides = tuple(
        DateOverride(o.first_day, o.last_day, tuple(tuple(pair) for pair in o.intervals))
        for o in calendar.overrides
    )
    custom_days = frozenset(h.day for h in calendar.holidays)
    public = None
    if calendar.holiday_country:
        import holidays

        public = holidays.country_holidays(
            calendar.holiday_country, subdiv=calendar.holiday_subdivision or None
        )
    lock = threading.Lock()

    def is_holiday(day: date) -> bool:
        if day in custom_days:
            return True
        if public is None:
            return False
        with lock:  # the holidays object fills in years lazily on lookup
            return day in public

    return WorkingCalendar(
        timezone=ZoneInfo(calendar.timezone),
        weekly={day: tuple(sorted(hours)) for day, hours in weekly.items()},
        overrides=overrides,
        is_holiday=is_holiday,
    )


def weekly_hours(calendar: BusinessCalendar) -> dict[int, list[Interval]]:
    hours: dict[int, list[Interval]] = {day: [] for day in range(7)}
    for interval in calendar.intervals:
        hours[interval.weekday].append((interval.start_minute, interval.end_minute))
    return hours


def _validate(timezone: str, country: str | None, subdivision: str | None) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidCalendar(_("Unknown time zone %(zone)s.", zone=timezone)) from exc
    if country:
        import holidays

        supported = holidays.list_supported_countries()
        if country not in supported:
            raise InvalidCalendar(_("No public holidays are known for %(code)s.", code=country))
        if subdivision and subdivision not in supported[country]:
            raise InvalidCalendar(_("Unknown region %(code)s.", code=subdivision))


def save_calendar(
    calendar: BusinessCalendar | None,
    *,
    name: str,
    timezone: str,
    holiday_country: str | None,
    holiday_subdivision: str | None,
    weekly: Mapping[int, list[Interval]],
    actor: StaffUser,
) -> BusinessCalendar:
    """Create or update a calendar with its weekly hours (a weekday without intervals is a day off)."""
    _validate(timezone, holiday_country, holiday_subdivision)
    name = name.strip()
    clash = db.session.scalar(select(BusinessCalendar.id).where(BusinessCalendar.name == name))
    if clash is not None and (calendar is None or clash != calendar.id):
        raise InvalidCalendar(_("A calendar named %(name)s already exists.", name=name))
    if not any(weekly.get(day) for day in range(7)):
        raise InvalidCalendar(_("A calendar needs working hours on at least one day."))
    created = calendar is None
    if calendar is None:
        calendar = BusinessCalendar(name=name)
        db.session.add(calendar)
    calendar.name = name
    calendar.timezone = timezone
    calendar.holiday_country = holiday_country or None
    calendar.holiday_subdivision = (holiday_subdivision or None) if holiday_country else None
    calendar.intervals = [
        WorkingInterval(weekday=day, start_minute=start, end_minute=end)
        for day in range(7)
        for start, end in weekly.get(day, [])
    ]
    _bump(calendar)
    db.session.flush()
    audit.record(
        "sla.calendar_created" if created else "sla.calendar_changed",
        actor=actor,
        target=f"calendar:{calendar.id}",
        name=name,
        timezone=timezone,
        country=calendar.holiday_country,
    )
    return calendar


def add_override(
    calendar: BusinessCalendar,
    *,
    name: str,
    first_day: date,
    last_day: date,
    intervals: tuple[Interval, ...],
    actor: StaffUser,
) -> CalendarOverride:
    if last_day < first_day:
        raise InvalidCalendar(_("The last day comes before the first day."))
    override = CalendarOverride(
        calendar=calendar,
        name=name.strip(),
        first_day=first_day,
        last_day=last_day,
        intervals=[list(pair) for pair in intervals],
    )
    db.session.add(override)
    _bump(calendar)
    audit.record(
        "sla.calendar_override_added",
        actor=actor,
        target=f"calendar:{calendar.id}",
        name=override.name,
        first_day=first_day.isoformat(),
        last_day=last_day.isoformat(),
    )
    return override


def remove_override(override: CalendarOverride, *, actor: StaffUser) -> None:
    calendar = override.calendar
    audit.record(
        "sla.calendar_override_removed", actor=actor, target=f"calendar:{calendar.id}", name=override.name
    )
    calendar.overrides.remove(override)
    _bump(calendar)


def add_holiday(calendar: BusinessCalendar, *, day: date, name: str, actor: StaffUser) -> CalendarHoliday:
    if any(h.day == day for h in calendar.holidays):
        raise InvalidCalendar(_("%(day)s is already a holiday in this calendar.", day=day.isoformat()))
    holiday = CalendarHoliday(calendar=calendar, day=day, name=name.strip())
    db.session.add(holiday)
    _bump(calendar)
    audit.record(
        "sla.holiday_added", actor=actor, target=f"calendar:{calendar.id}", day=day.isoformat(), name=name
    )
    return holiday


def remove_holiday(holiday: CalendarHoliday, *, actor: StaffUser) -> None:
    calendar = holiday.calendar
    audit.record(
        "sla.holiday_removed", actor=actor, target=f"calendar:{calendar.id}", day=holiday.day.isoformat()
    )
    calendar.holidays.remove(holiday)
    _bump(calendar)


def delete_calendar(calendar: BusinessCalendar, *, actor: StaffUser) -> None:
    from helpdesk.sla.models import SlaPolicy

    used = db.session.scalar(select(SlaPolicy.id).where(SlaPolicy.calendar_id == calendar.id).limit(1))
    if used is not None:
        raise InvalidCalendar(_("This calendar is used by an SLA policy."))
    audit.record("sla.calendar_deleted", actor=actor, target=f"calendar:{calendar.id}", name=calendar.name)
    db.session.delete(calendar)


def _bump(calendar: BusinessCalendar) -> None:
    calendar.revision = (calendar.revision or 0) + 1
