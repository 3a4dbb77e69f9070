"""Admin pages for business calendars: zone, weekly hours, date overrides and holidays.

Every change recomputes the due times of open tickets, so queues keep sorting by the right time.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from helpdesk.admin.forms import WEEKDAYS, CalendarForm, ConfirmForm, HolidayForm, OverrideForm
from helpdesk.admin.views import bp
from helpdesk.auth.models import Role
from helpdesk.auth.permissions import staff_required
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.refusals import refused_goes_back_to, refused_shows_again
from helpdesk.sla import calendars
from helpdesk.sla.business_time import format_intervals, parse_intervals
from helpdesk.sla.models import BusinessCalendar, CalendarHoliday, CalendarOverride, SlaPolicy
from helpdesk.sla.service import recompute_all_open
from helpdesk.transaction import unit_of_work


def _calendar_or_404(calendar_id: int) -> BusinessCalendar:
    return db.session.get(BusinessCalendar, calendar_id) or abort(404)


@bp.get("/calendars")
@staff_required(Role.ADMIN)
def calendar_list():
    found = db.session.scalars(
        select(BusinessCalendar)
        .options(selectinload(BusinessCalendar.intervals))
        .order_by(BusinessCalendar.name)
    ).all()
    usage = dict(
        db.session.execute(
            select(SlaPolicy.calendar_id, func.count(SlaPolicy.id)).group_by(SlaPolicy.calendar_id)
        ).all()
    )
    weekly = {c.id: calendars.weekly_hours(c) for c in found}
    return render_template(
        "admin/calendars.html",
        calendars=found,
        usage=usage,
        weekly=weekly,
        weekdays=WEEKDAYS,
        format_intervals=format_intervals,
    )


def _calendar_form(calendar: BusinessCalendar | None) -> CalendarForm:
    form = CalendarForm(obj=calendar)
    form.timezone.choices = [(z, z) for z in calendars.timezone_names()]
    names = get_locale().territories
    countries = sorted(
        ((code, f"{names.get(code, code)} ({code})") for code in calendars.holiday_countries()),
        key=lambda choice: choice[1],
    )
    form.holiday_country.choices = [("", _("None")), *countries]
    if calendar is not None and not form.is_submitted():
        form.holiday_country.data = calendar.holiday_country or ""
        for weekday, hours in calendars.weekly_hours(calendar).items():
            form.hours_field(weekday).data = format_intervals(hours)
    elif calendar is None and not form.is_submitted():
        for weekday in (6, 0, 1, 2, 3):
            form.hours_field(weekday).data = "09:00-17:00"
    return form


def _upcoming_holidays(calendar: BusinessCalendar) -> list[tuple[date, str]]:
    """The next year's public holidays of the calendar's country, to check the setting at a glance."""
    if not calendar.holiday_country:
        return []
    import holidays

    today = utcnow().date()
    public = holidays.country_holidays(
        calendar.holiday_country,
        subdiv=calendar.holiday_subdivision or None,
        years=[today.year, today.year + 1],
    )
    return sorted((day, name) for day, name in public.items() if today <= day <= today + timedelta(days=365))


def _render_calendar(calendar: BusinessCalendar | None, form: CalendarForm, status: int = 200, **forms):
    return render_template(
        "admin/calendar.html",
        calendar=calendar,
        form=form,
        weekdays=WEEKDAYS,
        override_form=forms.get("override_form") or OverrideForm(prefix="override"),
        holiday_form=forms.get("holiday_form") or HolidayForm(prefix="holiday"),
        confirm_form=ConfirmForm(),
        upcoming=_upcoming_holidays(calendar) if calendar is not None else [],
        format_intervals=format_intervals,
    ), status


@bp.route("/calendars/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def new_calendar():
    return _edit_calendar(None)


@bp.route("/calendars/<int:calendar_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def edit_calendar(calendar_id: int):
    return _edit_calendar(_calendar_or_404(calendar_id))


def _edit_calendar(calendar: BusinessCalendar | None):
    form = _calendar_form(calendar)
    if not form.is_submitted():
        return _render_calendar(calendar, form)
    if not form.validate():
        return _render_calendar(calendar, form, 400)
    weekly = {day: list(parse_intervals(form.hours_field(day).data or "")) for day, _label in WEEKDAYS}
    refused_shows_again(lambda: _render_calendar(calendar, form, 400))
    with unit_of_work():
        calendar = calendars.save_calendar(
            calendar,
            name=form.name.data,
            timezone=form.timezone.data,
            holiday_country=form.holiday_country.data or None,
            holiday_subdivision=(form.holiday_subdivision.data or "").strip().upper() or None,
            weekly=weekly,
            actor=current_user,
        )
    recompute_all_open()
    flash(_("Calendar saved; due times of open tickets were recomputed."), "success")
    return redirect(url_for("admin.edit_calendar", calendar_id=calendar.id), 303)


@bp.post("/calendars/<int:calendar_id>/overrides")
@staff_required(Role.ADMIN)
def add_override(calendar_id: int):
    calendar = _calendar_or_404(calendar_id)
    form = OverrideForm(prefix="override")
    if not form.validate_on_submit():
        return _render_calendar(calendar, _calendar_form(calendar), 400, override_form=form)
    refused_shows_again(
        lambda: _render_calendar(calendar, _calendar_form(calendar), 400, override_form=form), form.last_day
    )
    with unit_of_work():
        calendars.add_override(
            calendar,
            name=form.name.data,
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            intervals=parse_intervals(form.hours.data or ""),
            actor=current_user,
        )
    recompute_all_open()
    flash(_("Special hours added."), "success")
    return redirect(url_for("admin.edit_calendar", calendar_id=calendar.id), 303)


@bp.post("/calendars/<int:calendar_id>/overrides/<int:override_id>/delete")
@staff_required(Role.ADMIN)
def remove_override(calendar_id: int, override_id: int):
    override = db.session.get(CalendarOverride, override_id)
    if override is None or override.calendar_id != calendar_id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        calendars.remove_override(override, actor=current_user)
    recompute_all_open()
    flash(_("Special hours removed."), "success")
    return redirect(url_for("admin.edit_calendar", calendar_id=calendar_id), 303)


@bp.post("/calendars/<int:calendar_id>/holidays")
@staff_required(Role.ADMIN)
def add_holiday(calendar_id: int):
    calendar = _calendar_or_404(calendar_id)
    form = HolidayForm(prefix="holiday")
    if not form.validate_on_submit():
        return _render_calendar(calendar, _calendar_form(calendar), 400, holiday_form=form)
    refused_shows_again(
        lambda: _render_calendar(calendar, _calendar_form(calendar), 400, holiday_form=form), form.day
    )
    with unit_of_work():
        calendars.add_holiday(calendar, day=form.day.data, name=form.name.data, actor=current_user)
    recompute_all_open()
    flash(_("Holiday added."), "success")
    return redirect(url_for("admin.edit_calendar", calendar_id=calendar.id), 303)


@bp.post("/calendars/<int:calendar_id>/holidays/<int:holiday_id>/delete")
@staff_required(Role.ADMIN)
def remove_holiday(calendar_id: int, holiday_id: int):
    holiday = db.session.get(CalendarHoliday, holiday_id)
    if holiday is None or holiday.calendar_id != calendar_id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    with unit_of_work():
        calendars.remove_holiday(holiday, actor=current_user)
    recompute_all_open()
    flash(_("Holiday removed."), "success")
    return redirect(url_for("admin.edit_calendar", calendar_id=calendar_id), 303)


@bp.post("/calendars/<int:calendar_id>/delete")
@staff_required(Role.ADMIN)
def delete_calendar(calendar_id: int):
    calendar = _calendar_or_404(calendar_id)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("The form was incomplete."))
    refused_goes_back_to("admin.edit_calendar", calendar_id=calendar_id)
    with unit_of_work():
        calendars.delete_calendar(calendar, actor=current_user)
    flash(_("Calendar deleted."), "success")
    return redirect(url_for("admin.calendar_list"), 303)
