"""The scale benchmark's parts that need no million tickets: the settled mix of the generator, and
the report (growth factors, targets, table and plot) from measured figures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bench import scale
from bench.generate import generate
from helpdesk.extensions import db
from helpdesk.tickets.models import Status, Ticket
from helpdesk.tickets.queries import ACTIVE_STATUSES
from tests.bench.test_bench_generate import TINY


def test_settled_mix_closes_every_old_ticket_and_leaves_a_few_of_the_newest_open(app, tmp_path):
    generate(replace(TINY, open_tickets=5), data_dir=tmp_path, progress=False)

    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    still_open = [t for t in tickets if t.status in ACTIVE_STATUSES]
    assert 1 <= len(still_open) <= 10
    assert all(t.id > 40 for t in still_open)  # only among the newest 2 × 5
    assert all(t.status in (Status.SOLVED, Status.CLOSED) for t in tickets[:40])


def test_scale_sizes_keep_the_open_backlog_while_history_grows():
    small, large = scale.scale_for(100_000), scale.scale_for(1_000_000)

    assert small.open_tickets == large.open_tickets == 3_000
    assert (large.messages, large.customers, large.orders) == (3_000_000, 200_000, 500_000)
    assert scale.database_url("postgresql+psycopg://u@h", "1M") == "postgresql+psycopg://u@h/hd_scale_1m"


def _size(tickets: int, p95: float, dashboard: float, rate: float) -> dict:
    operations = {name: {"p50_ms": p95 / 2, "p95_ms": p95} for name in scale.LABELS}
    operations["dashboard_30d"] = {"p50_ms": dashboard / 2, "p95_ms": dashboard}
    return {"tickets": tickets, "operations": operations, "ingest": {"messages_per_second": rate}}


def test_the_same_volume_dashboard_period_holds_as_many_tickets_at_every_size():
    assert [scale.same_volume_days(n) for n in (10_000, 100_000, 1_000_000)] == [300, 30, 3]


def test_report_gives_growth_factors_targets_a_table_and_an_svg_plot(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs the bench extra: pip install -e '.[bench]'")
    sizes = {"100k": _size(100_000, 20.0, 100.0, 50.0), "1M": _size(1_000_000, 25.0, 700.0, 40.0)}
    results = tmp_path / "bench" / "results"
    results.mkdir(parents=True)

    result = scale.report(sizes, results, "2026-12-04")

    assert result["growth_100k_to_1M"]["queue_default"] == 1.25
    assert result["growth_100k_to_1M"]["ingest_rate"] == 0.8
    assert result["targets"]["queue_default"] == "met"
    assert result["targets"]["dashboard_same_volume"] == "met"
    assert "dashboard_30d" not in result["targets"]  # its period holds 10× the tickets: 500 ms instead
    assert result["targets"]["dashboard_30d_under_500ms"] == "missed"
    assert (results / "scale-2026-12-04.json").exists()
    assert (results / "scale-2026-12-04.svg").read_text().lstrip().startswith("<?xml")
    assert "| Queue, default view (open) | 10.0 / 20.0 | 12.5 / 25.0 | 1.25× |" in scale.table(sizes)


def test_pages_are_timed_in_rounds_that_take_the_sizes_in_turn(monkeypatch):
    order = []

    def run(command, check):
        label, out = (
            command[command.index("--pages-of") + 1],
            Path(command[command.index("--samples-to") + 1]),
        )
        order.append(label)
        turn = sum(seen == label for seen in order)
        pages = {"queue_default": {"samples": [float(turn)] * 2}, "queue_deep": {"skipped": "not here"}}
        out.write_text(json.dumps(pages))

    monkeypatch.setattr(scale.subprocess, "run", run)
    pages = scale.interleaved_pages(["100k", "1M"], "postgresql+psycopg://x", 4, 60.0, 2, lambda _m: None)

    assert order == ["100k", "1M", "100k", "1M"]
    assert pages["1M"]["queue_default"]["n"] == 4  # both rounds' samples, pooled
    assert pages["1M"]["queue_default"]["mean_ms"] == 1.5  # rounds 1 and 2
    assert pages["100k"]["queue_deep"] == {"skipped": "not here"}
