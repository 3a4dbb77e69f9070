"""Business-time arithmetic: how long a team is open between two moments, and when N open minutes end.

The calendar is plain data (a time zone, working intervals per weekday, per-date overrides and
holidays), so this module needs no database and is tested with property tests. Working intervals are
wall-clock times in the calendar's zone; business time is the real time elapsed inside them, so on a
DST change day an interval that spans the change is an hour longer or shorter, as it is for the team.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# A calendar whose next working minute is further away than this is treated as never open.
SEARCH_LIMIT_DAYS = 3 * 366
# Spans longer than this are measured from the calendar's running totals instead of day by day.
LONG_SPAN = timedelta(days=7)

Interval = tuple[int, int]  # minutes after local midnight: [start, end), 0 <= start < end <= 1440
INTERVAL_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class CalendarNeverOpen(ValueError):
    """The calendar has no working time within the search limit, so no due time exists."""


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """Read ``"09:00-13:00, 16:00-21:00"`` (``24:00`` allowed as an end) into sorted, disjoint intervals.

    An empty text means closed. Raises ``ValueError`` with a readable reason otherwise.
    """
    intervals: list[Interval] = []
    for part in filter(None, (p.strip() for p in re.split(r"[,،;\n]", text or ""))):
        match = INTERVAL_PATTERN.match(part)
        if not match:
            raise ValueError(f"{part!r} is not of the form HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if m1 > 59 or m2 > 59 or h1 > 23 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"{part!r} is not a valid time range")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start:
            raise ValueError(f"{part!r} ends before it starts")
        intervals.append((start, end))
    intervals.sort()
    for (_s1, e1), (s2, _e2) in pairwise(intervals):
        if s2 < e1:
            raise ValueError("working intervals overlap")
    return tuple(intervals)


def format_intervals(intervals: Iterable[Interval]) -> str:
    return ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in intervals)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class DateOverride:
    """Different hours (possibly none) from ``first_day`` to ``last_day`` inclusive, e.g. Ramadan hours."""

    first_day: date
    last_day: date
    intervals: tuple[Interval, ...]


@dataclass
class WorkingCalendar:
    """When a team works. ``weekly`` is keyed by ``date.weekday()`` (Monday 0 … Sunday 6).

    Per day the rule is: a date override wins (the latest-starting one if several cover the day),
    then a holiday closes the day, then the weekly hours apply.
    """

    timezone: ZoneInfo
    weekly: Mapping[int, tuple[Interval, ...]]
    overrides: tuple[DateOverride, ...] = ()
    is_holiday: Callable[[date], bool] = lambda _day: False
    _periods: dict[date, tuple[tuple[datetime, datetime], ...]] = field(default_factory=dict, repr=False)
    _tally: _RunningTally | None = field(default=None, repr=False, compare=False)
    # Schedules are shared by the threads of a web process (calendars.schedule_for).
    _tally_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The wall-clock working intervals of a local date."""
        chosen: DateOverride | None = None
        for override in self.overrides:
            if override.first_day <= day <= override.last_day and (
                chosen is None or override.first_day >= chosen.first_day
            ):
                chosen = override
        if chosen is not None:
            return chosen.intervals
        if self.is_holiday(day):
            return ()
        return tuple(self.weekly.get(day.weekday(), ()))

    def periods_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's working periods as UTC instants, ordered and disjoint (cached per date)."""
        cached = self._periods.get(day)
        if cached is not None:
            return cached
        periods = []
        for start, end in self.hours_on(day):
            begin, finish = self._instant(day, start), self._instant(day, end)
            if finish > begin:
                periods.append((begin, finish))
        # A wall-clock time in a DST gap maps to a shifted instant; keep periods ordered and disjoint.
        clean: list[tuple[datetime, datetime]] = []
        for begin, finish in periods:
            if clean and begin < clean[-1][1]:
                begin = clean[-1][1]
            if finish > begin:
                clean.append((begin, finish))
        result = tuple(clean)
        self._periods[day] = result
        return result

    def _instant(self, day: date, minutes: int) -> datetime:
        extra_days, minute_of_day = divmod(minutes, MINUTES_PER_DAY)
        local = datetime.combine(day + timedelta(days=extra_days), time(*divmod(minute_of_day, 60)))
        return local.replace(tzinfo=self.timezone).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return _aware(moment).astimezone(self.timezone).date()

    def periods_from(self, moment: datetime):
        """Working periods that end after ``moment``, in order, clipped to start no earlier than it."""
        moment = _aware(moment)
        # Start a day early: a period of the previous local date can still be running (DST edge cases).
        day = self.local_date(moment) - timedelta(days=1)
        last_end: datetime | None = None
        idle_days = 0
        while idle_days <= SEARCH_LIMIT_DAYS:
            found = False
            for begin, finish in self.periods_on(day):
                if last_end is not None and begin < last_end:
                    begin = last_end
                if finish <= moment or finish <= begin:
                    continue
                found = True
                last_end = finish
                yield max(begin, moment), finish
            idle_days = 0 if found else idle_days + 1
            day += timedelta(days=1)
        raise CalendarNeverOpen("the calendar has no working time in the next three years")

    def periods_between(self, start: datetime, end: datetime):
        """Working periods overlapping [start, end), clipped to it."""
        end = _aware(end)
        moment = _aware(start)
        if end <= moment:
            return
        day = self.local_date(moment) - timedelta(days=1)
        last_day = self.local_date(end) + timedelta(days=1)
        last_end: datetime | None = None
        while day <= last_day:
            for begin, finish in self.periods_on(day):
                if last_end is not None and begin < last_end:
                    begin = last_end
                if finish <= begin:
                    continue
                last_end = finish
                begin, finish = max(begin, moment), min(finish, end)
                if finish > begin:
                    yield begin, finish
            day += timedelta(days=1)

    def long_span(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to a later ``end``, as the difference of running totals kept
        on the calendar: a bisection once the days in between have been walked, instead of a walk
        per call (a badge of a ticket overdue for months). The same as summing periods_between."""
        start, end = _aware(start), _aware(end)
        # periods_between starts its walk here; a walk that started earlier gives the same differences.
        since = self.local_date(start) - timedelta(days=1)
        with self._tally_lock:
            tally = self._tally
            if tally is None or tally.first_day > since:
                tally = self._tally = _RunningTally(since)
            tally.walk_until(self, self.local_date(end) + timedelta(days=1))
            return tally.before(end) - tally.before(start)


@dataclass
class _RunningTally:
    """Every working period from ``first_day`` on, as periods_between walks them, with the working
    time before each one."""

    first_day: date
    begins: list[datetime] = field(default_factory=list)
    ends: list[datetime] = field(default_factory=list)
    totals: list[timedelta] = field(default_factory=list)
    next_day: date | None = None
    last_end: datetime | None = None

    def walk_until(self, calendar: WorkingCalendar, last_day: date) -> None:
        day = self.next_day or self.first_day
        while day <= last_day:
            for begin, finish in calendar.periods_on(day):
                if self.last_end is not None and begin < self.last_end:
                    begin = self.last_end
                if finish <= begin:
                    continue
                self.last_end = finish
                running = self.totals[-1] + (self.ends[-1] - self.begins[-1]) if self.totals else timedelta()
                self.begins.append(begin)
                self.ends.append(finish)
                self.totals.append(running)
            day += timedelta(days=1)
        self.next_day = max(day, self.next_day or day)

    def before(self, moment: datetime) -> timedelta:
        i = bisect_right(self.begins, moment) - 1
        if i < 0:
            return timedelta()
        return self.totals[i] + (min(moment, self.ends[i]) - self.begins[i])


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware datetimes")
    return moment.astimezone(UTC)


def add_business_time(start: datetime, minutes: float | timedelta, calendar: WorkingCalendar) -> datetime:
    """The moment when ``minutes`` of working time after ``start`` have passed (UTC).

    Zero minutes give ``start`` itself. Otherwise the result lies inside a working period or at its
    end: a target that is used up exactly at closing time is due at closing time, not next morning.
    """
    remaining = minutes if isinstance(minutes, timedelta) else timedelta(minutes=minutes)
    if remaining < timedelta():
        raise ValueError("minutes must not be negative")
    start = _aware(start)
    if not remaining:
        return start
    for begin, finish in calendar.periods_from(start):
        length = finish - begin
        if remaining <= length:
            return begin + remaining
        remaining -= length
    raise AssertionError("unreachable: periods_from raises when the calendar never opens")


def business_time_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> timedelta:
    """Working time from ``a`` to ``b``; negative when ``b`` is before ``a``."""
    a, b = _aware(a), _aware(b)
    if b < a:
        return -business_time_between(b, a, calendar)
    if b - a > LONG_SPAN:
        return calendar.long_span(a, b)
    total = timedelta()
    for begin, finish in calendar.periods_between(a, b):
        total += finish - begin
    return total


def business_minutes_between(a: datetime, b: datetime, calendar: WorkingCalendar) -> float:
    """Working minutes from ``a`` to ``b`` (the inverse of ``add_business_time``)."""
    return business_time_between(a, b, calendar) / timedelta(minutes=1)
