"""Business-time arithmetic: hand-worked cases, then properties over random calendars and moments."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpdesk.sla.business_time import (
    CalendarNeverOpen,
    DateOverride,
    WorkingCalendar,
    add_business_time,
    business_minutes_between,
    business_time_between,
    format_intervals,
    parse_intervals,
)

RIYADH = ZoneInfo("Asia/Riyadh")
LONDON = ZoneInfo("Europe/London")
SUN, MON, TUE, WED, THU, FRI, SAT = 6, 0, 1, 2, 3, 4, 5
NINE_TO_FIVE = ((9 * 60, 17 * 60),)
SPLIT_DAY = ((9 * 60, 13 * 60), (16 * 60, 21 * 60))


def riyadh(*args) -> datetime:
    return datetime(*args, tzinfo=RIYADH)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def calendar(zone=RIYADH, days=(SUN, MON, TUE, WED, THU), hours=NINE_TO_FIVE, **kw) -> WorkingCalendar:
    return WorkingCalendar(timezone=zone, weekly={d: hours for d in days}, **kw)


def saudi_calendar(**kw) -> WorkingCalendar:
    public = holidays.country_holidays("SA")
    return calendar(is_holiday=lambda day: day in public, **kw)


# --- hand-worked cases ----------------------------------------------------------------------


def test_minutes_inside_one_working_day():
    # Sunday 10:00 + 90 minutes = Sunday 11:30.
    assert add_business_time(riyadh(2026, 11, 22, 10, 0), 90, calendar()) == riyadh(2026, 11, 22, 11, 30)


def test_thursday_evening_waits_for_sunday_morning():
    # Thursday 19:30 is after hours; Friday and Saturday are the weekend; 60 minutes end Sunday 10:00.
    due = add_business_time(riyadh(2026, 11, 26, 19, 30), 60, calendar())
    assert due == riyadh(2026, 11, 29, 10, 0)
    assert due.tzinfo == UTC


def test_time_left_on_thursday_carries_over_the_weekend():
    # Thursday 16:00 + 120: 60 minutes on Thursday, 60 on Sunday → Sunday 10:00.
    assert add_business_time(riyadh(2026, 11, 26, 16, 0), 120, calendar()) == riyadh(2026, 11, 29, 10, 0)


def test_a_night_is_skipped():
    # Monday 22:15 → Tuesday 09:00 + 45 = 09:45.
    assert add_business_time(riyadh(2026, 11, 23, 22, 15), 45, calendar()) == riyadh(2026, 11, 24, 9, 45)


def test_split_day_skips_the_afternoon_break():
    cal = calendar(hours=SPLIT_DAY)
    # Sunday 12:00 + 120: 60 until 13:00, break until 16:00, 60 more → 17:00.
    assert add_business_time(riyadh(2026, 11, 22, 12, 0), 120, cal) == riyadh(2026, 11, 22, 17, 0)
    # Starting inside the break: 14:30 + 30 → 16:30.
    assert add_business_time(riyadh(2026, 11, 22, 14, 30), 30, cal) == riyadh(2026, 11, 22, 16, 30)
    # A split day holds 4 + 5 = 9 working hours.
    assert business_minutes_between(riyadh(2026, 11, 22, 0, 0), riyadh(2026, 11, 23, 0, 0), cal) == 540
    # 20:00 + 120: 60 until 21:00, then Monday 09:00 + 60 → 10:00.
    assert add_business_time(riyadh(2026, 11, 22, 20, 0), 120, cal) == riyadh(2026, 11, 23, 10, 0)


def test_target_used_up_at_closing_is_due_at_closing():
    assert add_business_time(riyadh(2026, 11, 22, 16, 0), 60, calendar()) == riyadh(2026, 11, 22, 17, 0)
    cal = calendar(hours=SPLIT_DAY)
    assert add_business_time(riyadh(2026, 11, 22, 12, 0), 60, cal) == riyadh(2026, 11, 22, 13, 0)


def test_zero_minutes_is_the_start_itself():
    start = riyadh(2026, 11, 27, 3, 0)  # a Friday night
    assert add_business_time(start, 0, calendar()) == start


def test_public_holiday_is_skipped():
    # Saudi National Day, Wednesday 23 September 2026, is a public holiday.
    cal = saudi_calendar()
    assert cal.hours_on(date(2026, 9, 23)) == ()
    # Tuesday 16:30 + 60: 30 on Tuesday, Wednesday closed, 30 on Thursday → Thursday 09:30.
    assert add_business_time(riyadh(2026, 9, 22, 16, 30), 60, cal) == riyadh(2026, 9, 24, 9, 30)
    assert business_minutes_between(riyadh(2026, 9, 22, 17, 0), riyadh(2026, 9, 24, 9, 0), cal) == 0


def test_eid_holidays_and_the_weekend_together():
    # Eid al-Fitr 2026: 19–24 March are holidays (with the observed days); Sunday 22 March is closed.
    cal = saudi_calendar()
    due = add_business_time(riyadh(2026, 3, 18, 16, 0), 120, cal)
    assert due == riyadh(2026, 3, 25, 10, 0)


def test_custom_holiday_and_override_hours():
    ramadan = DateOverride(date(2026, 2, 18), date(2026, 3, 18), ((10 * 60, 15 * 60),))
    team_day_off = date(2026, 11, 24)
    cal = calendar(overrides=(ramadan,), is_holiday=lambda day: day == team_day_off)
    assert cal.hours_on(date(2026, 3, 1)) == ((600, 900),)
    # During Ramadan: Sunday 1 March 14:00 + 120 → 60 on Sunday, Monday 10:00 + 60 → 11:00.
    assert add_business_time(riyadh(2026, 3, 1, 14, 0), 120, cal) == riyadh(2026, 3, 2, 11, 0)
    # The team's own holiday (a Tuesday) is closed: Monday 16:00 + 120 → Wednesday 10:00.
    assert add_business_time(riyadh(2026, 11, 23, 16, 0), 120, cal) == riyadh(2026, 11, 25, 10, 0)


def test_override_opens_a_holiday_and_closes_a_working_day():
    open_friday = DateOverride(date(2026, 11, 27), date(2026, 11, 27), ((9 * 60, 12 * 60),))
    closed_sunday = DateOverride(date(2026, 11, 29), date(2026, 11, 29), ())
    cal = calendar(overrides=(open_friday, closed_sunday))
    assert add_business_time(riyadh(2026, 11, 26, 17, 0), 240, cal) == riyadh(2026, 11, 30, 10, 0)


def test_london_spring_forward_day_is_one_hour_shorter_around_the_clock():
    always = calendar(zone=LONDON, days=range(7), hours=((0, 24 * 60),))
    # 29 March 2026: clocks go from 01:00 GMT to 02:00 BST.
    assert business_minutes_between(london(2026, 3, 29, 0, 0), london(2026, 3, 30, 0, 0), always) == 23 * 60
    # 25 October 2026: clocks go back; that day has 25 hours.
    assert business_minutes_between(london(2026, 10, 25, 0, 0), london(2026, 10, 26, 0, 0), always) == 25 * 60


def test_london_office_hours_follow_local_time_across_dst():
    weekdays = calendar(zone=LONDON, days=(MON, TUE, WED, THU, FRI))
    # Friday 27 March 16:00 GMT + 120: 60 on Friday, Monday 30 March 09:00 BST + 60 → 10:00 BST.
    due = add_business_time(london(2026, 3, 27, 16, 0), 120, weekdays)
    assert due == london(2026, 3, 30, 10, 0)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    # A working week spanning the change is still 5 × 8 hours.
    assert business_minutes_between(london(2026, 3, 23, 0, 0), london(2026, 3, 30, 0, 0), weekdays) == 2400


def test_between_is_negative_when_reversed():
    a, b = riyadh(2026, 11, 22, 9, 0), riyadh(2026, 11, 22, 10, 0)
    assert business_minutes_between(b, a, calendar()) == -60


def test_calendar_that_never_opens_is_refused():
    closed = WorkingCalendar(timezone=RIYADH, weekly={})
    with pytest.raises(CalendarNeverOpen):
        add_business_time(riyadh(2026, 1, 1, 9, 0), 1, closed)


def test_interval_text_is_parsed_and_checked():
    assert parse_intervals("09:00-13:00, 16:00-21:00") == SPLIT_DAY
    assert parse_intervals("16:00 – 24:00،08:00-12:00") == ((480, 720), (960, 1440))
    assert parse_intervals("") == ()
    assert format_intervals(SPLIT_DAY) == "09:00-13:00, 16:00-21:00"
    for bad in ("9-5", "17:00-09:00", "09:00-13:00, 12:00-14:00", "25:00-26:00", "08:00-24:30"):
        with pytest.raises(ValueError):
            parse_intervals(bad)


# --- properties ------------------------------------------------------------------------------

ZONES = ["Asia/Riyadh", "Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"]


@st.composite
def day_hours(draw):
    cuts = sorted(draw(st.sets(st.integers(0, 24 * 4), min_size=0, max_size=6)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    return tuple((cuts[i] * 15, cuts[i + 1] * 15) for i in range(0, len(cuts), 2))


@st.composite
def calendars(draw):
    weekly = {day: draw(day_hours()) for day in range(7)}
    assume(any(weekly.values()))
    holiday_days = draw(st.sets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    overrides = tuple(
        DateOverride(start, start + timedelta(days=length), draw(day_hours()))
        for start, length in draw(
            st.lists(
                st.tuples(st.dates(date(2026, 1, 1), date(2026, 12, 31)), st.integers(0, 20)), max_size=3
            )
        )
    )
    return WorkingCalendar(
        timezone=ZoneInfo(draw(st.sampled_from(ZONES))),
        weekly=weekly,
        overrides=overrides,
        is_holiday=holiday_days.__contains__,
    )


moments = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))
durations = st.integers(0, 6000)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(calendars(), moments, durations)
def test_between_undoes_add(cal, start, minutes):
    end = add_business_time(start, minutes, cal)
    assert end >= start
    assert business_time_between(start, end, cal) == timedelta(minutes=minutes)


@PROPERTY_SETTINGS
@given(calendars(), moments, durations, durations)
def test_adding_in_two_steps_equals_adding_once(cal, start, a, b):
    assert add_business_time(add_business_time(start, a, cal), b, cal) == add_business_time(start, a + b, cal)


@PROPERTY_SETTINGS
@given(calendars(), moments, durations, durations)
def test_more_minutes_never_end_earlier(cal, start, a, b):
    low, high = sorted((a, b))
    assert add_business_time(start, low, cal) <= add_business_time(start, high, cal)


@PROPERTY_SETTINGS
@given(calendars(), moments, moments, moments)
def test_business_time_adds_up_over_consecutive_spans(cal, x, y, z):
    a, b, c = sorted((x, y, z))
    ab, bc, ac = (business_time_between(p, q, cal) for p, q in ((a, b), (b, c), (a, c)))
    assert ab + bc == ac
    assert timedelta() <= ac <= c - a
    assert business_time_between(c, a, cal) == -ac


@PROPERTY_SETTINGS
@given(moments, moments)
def test_an_always_open_calendar_counts_real_time(a, b):
    always = WorkingCalendar(timezone=ZoneInfo("Europe/London"), weekly={d: ((0, 1440),) for d in range(7)})
    assert business_time_between(a, b, always) == b - a


@PROPERTY_SETTINGS
@given(calendars(), st.lists(st.tuples(moments, moments), min_size=1, max_size=6))
def test_long_spans_from_running_totals_equal_walking_day_by_day(cal, spans):
    # One calendar for every span, in any order, as a queue page uses it for its badges.
    for x, y in spans:
        a, b = sorted((x, y))
        walked = sum((end - begin for begin, end in cal.periods_between(a, b)), timedelta())
        assert business_time_between(a, b, cal) == walked
