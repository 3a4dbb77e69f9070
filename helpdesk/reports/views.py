"""The supervisor dashboard, its SVG charts and the CSV export of each table."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import force_locale, format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from helpdesk.audit import service as audit
from helpdesk.auth.models import Role, StaffUser
from helpdesk.auth.permissions import staff_required
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.i18n import current_language, format_local_date, format_share, text_direction
from helpdesk.reports import charts, service
from helpdesk.reports.forms import ReportFilterForm
from helpdesk.reports.service import AGE_BUCKETS, ReportFilters, Table
from helpdesk.sla.badges import business_duration
from helpdesk.tickets.models import Queue

bp = Blueprint("reports", __name__, url_prefix="/reports")

DEFAULT_DAYS = 30
LONGEST_RANGE_DAYS = 366
BREACHES_ON_PAGE = 25
CHARTS = ("compliance", "by_type", "days", "channels", "backlog", "csat")


def _filter_form(fields: list | None = None) -> ReportFilterForm:
    """The filters, with the dropdown fields a breakdown can use (``fields``: read here if not given)."""
    form = ReportFilterForm(formdata=request.args)
    locale = current_language()
    queues = db.session.scalars(select(Queue).order_by(Queue.name_en)).all()
    staff = db.session.scalars(select(StaffUser).order_by(StaffUser.name)).all()
    fields = service.breakdown_fields() if fields is None else fields
    form.queue.choices = [("", _("All queues")), *[(q.id, q.name_for(locale)) for q in queues]]
    form.agent.choices = [("", _("All agents")), *[(s.id, s.name) for s in staff]]
    form.field.choices = [("", "—"), *[(f.key, f.label_for(locale)) for f in fields]]
    return form


class BadFilters(ValueError):
    """The filters in the query string cannot be used; ``message`` says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _read_filters(form: ReportFilterForm) -> ReportFilters:
    """The validated filters; BadFilters when they cannot be used."""
    if not form.validate():
        raise BadFilters(_("The report filters are not valid: use dates like 2026-01-31."))
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    end = form.end.data or utcnow().astimezone(zone).date()
    start = form.start.data or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise BadFilters(_("The start date must not be after the end date."))
    if (end - start).days >= LONGEST_RANGE_DAYS:
        raise BadFilters(_("Choose a period of at most one year."))
    return ReportFilters(
        start,
        end,
        zone,
        queue_id=form.queue.data,
        agent_id=form.agent.data,
        field_key=form.field.data or None,
    )


def _default_filters() -> ReportFilters:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    end = utcnow().astimezone(zone).date()
    return ReportFilters(end - timedelta(days=DEFAULT_DAYS - 1), end, zone)


def _filters(form: ReportFilterForm) -> ReportFilters:
    """For the charts and CSV files (requested by the page's own links): bad filters are a 400."""
    try:
        return _read_filters(form)
    except BadFilters as error:
        abort(400, description=error.message)


def _query_args(f: ReportFilters) -> dict[str, Any]:
    args: dict[str, Any] = {"start": f.start.isoformat(), "end": f.end.isoformat()}
    if f.queue_id is not None:
        args["queue"] = f.queue_id
    if f.agent_id is not None:
        args["agent"] = f.agent_id
    if f.field_key:
        args["field"] = f.field_key
    return args


@bp.get("")
@staff_required(Role.SUPERVISOR)
def dashboard():
    """Bad filters (typed into the address, or an old link) show the form with what is wrong and
    the default period's figures, as 400, rather than a bare error page."""
    fields = service.breakdown_fields()
    form = _filter_form(fields)
    try:
        filters, problem = _read_filters(form), None
    except BadFilters as error:
        filters, problem = _default_filters(), error.message
    now = utcnow()
    own = ("breaches", "by_field")
    tables = {name: build(filters, now) for name, build in service.TABLES.items() if name not in own}
    tables["breaches"] = service.breaches(filters, limit=BREACHES_ON_PAGE)
    tables["by_field"] = service.by_field(filters, now, fields)
    csat_average, csat_count = service.csat_average(filters)
    return render_template(
        "reports/dashboard.html",
        form=form,
        filters=filters,
        args=_query_args(filters),
        # The language is part of a chart's address, so a browser's cached chart (max-age below)
        # never stands in for the same chart in the other language after a switch.
        chart_args={**_query_args(filters), "lang": current_language()},
        problem=problem,
        tables=tables,
        charts=CHARTS,
        chart_titles={name: _chart_title(name) for name in CHARTS},
        csat_average=csat_average,
        csat_count=csat_count,
        backlog_total=sum(row[-1] for row in tables["backlog"].rows),
        breaches_on_page=BREACHES_ON_PAGE,
    ), (400 if problem else 200)


def _chart_title(name: str) -> str:
    return {
        "compliance": _("SLA compliance (%)"),
        "by_type": _("SLA compliance by request type (%)"),
        "days": _("Tickets by day"),
        "channels": _("Tickets by channel"),
        "backlog": _("Backlog by queue and age"),
        "csat": _("Customer satisfaction ratings"),
    }[name]


@bp.get("/chart/<name>.svg")
@staff_required(Role.SUPERVISOR)
def chart(name: str):
    if name not in CHARTS:
        abort(404)
    filters = _filters(_filter_form())
    language = request.args.get("lang")
    if language not in current_app.config["LANGUAGES"]:
        language = current_language()
    with force_locale(language):
        svg = _chart_svg(name, filters)
    response = Response(svg, mimetype="image/svg+xml")
    # The chart is an image with its own stylesheet and no script at all.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=60"
    response.headers["Content-Language"] = language
    response.vary.add("Cookie")  # without ?lang=, the language comes from the session or account
    return response


def _chart_svg(name: str, filters: ReportFilters) -> str:
    now = utcnow()
    rtl = text_direction(current_language()) == "rtl"
    title = _chart_title(name)
    if name == "compliance":
        table = service.compliance(filters, now)
        labels = [str(row[0]) for row in table.rows]
        series = [(_("Compliance (%)"), [row[3] for row in table.rows])]
        svg = _bar(title, table, labels, series, rtl=rtl, max_value=100, described_by=3)
    elif name == "by_type":
        table = service.by_request_type(filters, now)
        labels = [str(row[0]) for row in table.rows]
        series = [
            (_("First response"), [row[4] for row in table.rows]),
            (_("Resolution"), [row[5] for row in table.rows]),
        ]
        svg = _bar(title, table, labels, series, rtl=rtl, max_value=100, described_by=4)
    elif name == "days":
        table = service.volume_by_day(filters)
        labels = [format_date(row[0], "d MMM") for row in table.rows]
        every = max(len(labels) // 8, 1)
        svg = _bar(
            title, table, labels, [(_("Tickets"), [row[1] for row in table.rows])], rtl=rtl, every=every
        )
    elif name == "backlog":
        table = service.backlog(filters, now)
        labels = [str(row[0]) for row in table.rows]
        series = [
            (str(label), [row[1 + i] for row in table.rows])
            for i, (_key, label, *_rest) in enumerate(AGE_BUCKETS)
        ]
        svg = _bar(title, table, labels, series, rtl=rtl, stacked=True, described_by=len(AGE_BUCKETS) + 1)
    else:
        table = service.volume_by_channel(filters) if name == "channels" else service.csat(filters)
        labels = [str(row[0]) for row in table.rows]
        svg = _bar(
            title,
            table,
            labels,
            [(_("Tickets") if name == "channels" else _("Ratings"), [row[1] for row in table.rows])],
            rtl=rtl,
        )
    return svg


def _bar(
    title, table: Table, labels, series, *, rtl: bool, described_by: int = 1, every=None, **options
) -> str:
    description = "; ".join(
        f"{label}: {_plain(row[described_by])}" for label, row in zip(labels, table.rows, strict=True)
    )
    return charts.bar_chart(
        title,
        labels,
        series,
        description=description or _("No data"),
        rtl=rtl,
        major_label_every=every,
        **options,
    )


def _plain(value: Any) -> str:
    return "—" if value is None else format_decimal(value)


@bp.get("/export/<name>.csv")
@staff_required(Role.SUPERVISOR)
def export(name: str):
    build = service.TABLES.get(name)
    if build is None:
        abort(404)
    filters = _filters(_filter_form())
    table = build(filters, utcnow())
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8 (Arabic names)
    writer = csv.writer(out)
    writer.writerow([str(h) for h in table.headers])
    for row in table.rows:
        writer.writerow(
            [_csv_cell(value, kind, filters) for value, kind in zip(row, table.kinds, strict=True)]
        )
    filename = f"{name}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    audit.record(
        "report.exported",
        actor=current_user,
        target=f"report:{name}",
        ip=request.remote_addr,
        rows=len(table.rows),
        **_query_args(filters),
    )
    db.session.commit()
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _csv_cell(value: Any, kind: str, filters: ReportFilters) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(filters.timezone).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}" if kind in ("minutes", "percent") else f"{value:g}"
    text = str(value)
    # A cell starting with a formula character would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.app_template_filter("report_cell")
def report_cell(value: Any, kind: str) -> Markup | str:
    if value is None:
        return "—"
    if kind == "percent":
        return format_share(value)
    if kind == "minutes":
        return business_duration(round(value))
    if kind == "datetime":
        return current_app.jinja_env.filters["localtime"](value, "short")
    if kind == "date":
        return format_local_date(value)
    if kind == "number":
        return format_decimal(value, "#,##0.##")
    if kind == "int":
        return format_decimal(value)
    if kind == "ticket":
        url = url_for("agents.ticket", number=value)
        return Markup('<a href="{}" dir="ltr">{}</a>').format(url, escape(value))
    return str(value)
