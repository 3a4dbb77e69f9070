"""Filtering the queue by a custom field at 100,000 tickets (part of `make bench`; alone:
`python -m bench.fields`, or `--tickets 2000` for a quick check).

Three fields are filled on every generated ticket (reason for return: 4 options, one of them on 1 %
of tickets; courier: 4 options; city: free text), then the agent queue's real query
(``queries.queue_page`` with the field filter, the "all open" view sorted by SLA due time) and the
count of a filter are timed. Target: a filtered page ≤ 50 ms p50 on SQLite. The query plan is
printed: the values are read through the (field_id, value, ticket_id) index, never scanned.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace

import click

RUNS = 30
# (option, share of the tickets): a rare value shows whether the index finds it without a scan.
REASONS = [("damaged", 0.01), ("wrong_size", 0.19), ("changed_mind", 0.3), ("late", 0.5)]
COURIERS = ["smsa", "aramex", "spl", "jt"]
CITIES = ["الرياض", "جدة", "الدمام", "مكة المكرمة", "المدينة المنورة", "الخبر", "أبها", "تبوك"]


def _scale(tickets: int):
    from bench.generate import Scale

    full = Scale()
    share = tickets / full.tickets
    if share >= 1:
        return full
    smaller = lambda n, least=1: max(least, int(n * share))  # noqa: E731
    return replace(
        full,
        tickets=tickets,
        customers=smaller(full.customers, 5),
        messages=smaller(full.messages, tickets),
        orders=smaller(full.orders, 5),
        articles=smaller(full.articles, 5),
        emails=smaller(full.emails, 5),
        agents=min(full.agents, 5),
        big_customer_tickets=min(full.big_customer_tickets, 6),
        big_customer_orders=min(full.big_customer_orders, 10),
    )


def _fill_fields() -> dict:
    """The fields and one value each per ticket, written with INSERT … SELECT (seconds, not minutes)."""
    from sqlalchemy import case, insert, literal, select

    from helpdesk.custom_fields import service
    from helpdesk.custom_fields.models import CustomField, FieldType, TicketFieldValue
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket
    from helpdesk.transaction import unit_of_work

    with unit_of_work():
        if db.session.scalar(select(CustomField.id).where(CustomField.key == "reason")) is not None:
            return {"fields": "already filled"}
        reason = service.save_field(
            None,
            actor=None,
            options=[(r, r, r) for r, _ in REASONS],
            key="reason",
            type=FieldType.DROPDOWN,
            label_ar="سبب الإرجاع",
            label_en="Reason for return",
        )
        courier = service.save_field(
            None,
            actor=None,
            options=[(c, c, c) for c in COURIERS],
            key="courier",
            type=FieldType.DROPDOWN,
            label_ar="شركة الشحن",
            label_en="Courier",
        )
        city = service.save_field(
            None, actor=None, key="city", type=FieldType.TEXT, label_ar="المدينة", label_en="City"
        )
        bucket, low, reason_value = Ticket.id % 100, 0, []
        for value, share in REASONS:
            high = low + round(share * 100)
            reason_value.append(((bucket >= low) & (bucket < high), value))
            low = high
        columns = ["field_id", "ticket_id", "value_text"]
        for field, value in (
            (reason, case(*reason_value, else_=REASONS[-1][0])),
            (courier, case(*[(Ticket.id % 4 == n, c) for n, c in enumerate(COURIERS)])),
            (city, case(*[(Ticket.id % len(CITIES) == n, c) for n, c in enumerate(CITIES)])),
        ):
            rows = select(literal(field.id), Ticket.id, value)
            db.session.execute(insert(TicketFieldValue).from_select(columns, rows))
    return {"fields": 3}


def _timed(call) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def time_field_filters(app) -> dict:
    from sqlalchemy import func, select, text

    from helpdesk.custom_fields.models import TicketFieldValue
    from helpdesk.custom_fields.queries import filters_from_args
    from helpdesk.custom_fields.values import active_fields
    from helpdesk.extensions import db
    from helpdesk.tickets import queries
    from helpdesk.tickets.models import Ticket

    figures: dict = {}
    with app.app_context(), app.test_request_context():
        figures.update(_fill_fields())
        figures["tickets"] = db.session.scalar(select(func.count(Ticket.id)))
        figures["field_values"] = db.session.scalar(select(func.count(TicketFieldValue.id)))
        fields = active_fields()
        for name, args in (
            ("no_field_filter", {}),
            ("rare_option_1pct", {"cf_reason": "damaged"}),
            ("common_option_50pct", {"cf_reason": "late"}),
            ("two_fields", {"cf_reason": "wrong_size", "cf_courier": "smsa"}),
            ("text_value", {"cf_city": "جدة"}),
        ):
            # The page as the agent queue builds it (EXISTS per ticket), the count as saved views do.
            probed, _used = filters_from_args(fields, args, locale="en", correlated=True)
            conditions, _used = filters_from_args(fields, args, locale="en")
            filters = queries.QueueFilters(extra=probed)

            def page(filters=filters):
                queries.queue_page("open", user_id=1, filters=filters, page_size=50)
                db.session.expunge_all()

            count_query = select(func.count(Ticket.id)).where(*conditions)
            page_ms, count_ms = _timed(page), _timed(lambda query=count_query: db.session.scalar(query))
            figures[name] = {
                "matching_tickets": db.session.scalar(count_query),
                "queue_page_ms_p50": round(statistics.median(page_ms), 2),
                "count_ms_p50": round(statistics.median(count_ms), 2),
            }
        if db.engine.dialect.name == "sqlite":
            conditions, _used = filters_from_args(fields, {"cf_reason": "damaged"}, locale="en")
            compiled = (
                select(Ticket.id)
                .where(*conditions)
                .compile(db.engine, compile_kwargs={"literal_binds": True})
            )
            plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            figures["plan_rare_option"] = [row[-1] for row in plan]
        db.session.remove()
    return figures


@click.command()
@click.option(
    "--tickets", default=100_000, show_default=True, help="Dataset size (smaller for a quick check)."
)
def main(tickets: int) -> None:
    """Generate the dataset in its own folder if needed, add the fields, time the filters."""
    from bench import generate

    data_dir = generate.DATA_DIR / ("fields" if tickets == 100_000 else f"fields-{tickets}")
    url = generate.default_database_url(data_dir)
    generate._reindex_if_available = lambda: {"reindex": "skipped"}
    generate.ensure_dataset(_scale(tickets), url, data_dir=data_dir)
    app = generate.bench_app(url, data_dir)
    click.echo(json.dumps(time_field_filters(app), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
