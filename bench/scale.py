"""How cost grows with the data: 10,000, 100,000 and 1,000,000 tickets on PostgreSQL.

    .venv/bin/python -m bench.scale                      # every size (part of `make bench`)
    .venv/bin/python -m bench.scale --sizes 10k,100k     # some of them
    .venv/bin/python -m bench.scale --server postgresql+psycopg://postgres@127.0.0.1

Each size has its own database (``hd_scale_10k``, ``hd_scale_100k``, ``hd_scale_1m``), filled once
by ``bench/generate.py`` (a stamp under ``bench/data/scale-<size>/`` lets a later run reuse it) with a
settled shop's mix: customers, messages and orders in proportion to the tickets, three years of
history, every old ticket solved or closed and a few thousand open among the newest. Then, per size,
p50/p95 of the pages in-process (signed in through the real forms, as ``bench/ours.py`` does), the
email ingest rate through ``helpdesk mail ingest``, the worker's SLA job and the reports dashboard
over 30 days. The report goes to ``bench/results/scale-<date>.json`` (sizes measured on another run
that day are kept) with an SVG plot of each operation's p95 against the size.

The pages are timed in rounds that take the sizes in turn (``--rounds``; each round and size in a
fresh process): on a shared machine a quiet or a busy minute then falls on every size alike, where
one size after the other let it decide a growth factor by itself (the same code measured a queue
page at 0.79×, 1.63× and 1.47× its 100k p95 in three runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import Flask
from sqlalchemy.engine import make_url

from bench.generate import DATA_DIR, PASSWORD, Scale, bench_app, ensure_dataset, stamp_path
from bench.measure import summary, time_requests
from bench.ours import InProcess, _csrf, _follow_next, operations, time_ingest
from bench.words import SEARCH_TERMS

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1"
SUPERVISOR_EMAIL = "supervisor@bench.test"
DEEP_PAGE = 20  # page 20 of the open view: tickets 951–1,000, there at every size
SLA_RUNS = 20
# The pages, which must not scan: at 1M, p95 at most 1.5 × p95 at 100k. The dashboard's work
# follows the tickets of its period (the last 30 days hold ten times more at 1M, and its own target
# is 500 ms there), so its "does not scan" check is a period holding as many tickets at every size.
PAGES = (
    "queue_default",
    "queue_filtered",
    "queue_deep",
    "ticket_page",
    "agent_search",
    "kb_search",
    "suggestions",
    "dashboard_same_volume",
)
GROWTH_TARGET = 1.5
DASHBOARD_TARGET_MS = 500.0
LABELS = {
    "queue_default": "Queue, default view (open)",
    "queue_filtered": "Queue, filtered (unassigned)",
    "queue_deep": f"Queue, page {DEEP_PAGE} (keyset)",
    "ticket_page": "Ticket page, customer with 50 tickets + 100 orders",
    "agent_search": "Agent search (tickets)",
    "kb_search": "KB search (Arabic and English)",
    "suggestions": "Live suggestions (case form)",
    "dashboard_30d": "Reports dashboard, last 30 days",
    "dashboard_same_volume": "Reports dashboard, a period with as many tickets (300 / 30 / 3 days)",
    "sla_job": "SLA job (the worker's breach check)",
}


def scale_for(tickets: int) -> Scale:
    """Customers, messages and orders in proportion; the knowledge base stays the same size."""
    return Scale(
        tickets=tickets,
        customers=max(2, tickets // 5),
        messages=tickets * 3,
        orders=max(100, tickets // 2),
        articles=1_000,
        emails=200,
        days=3 * 365,
        seed=23,
        open_tickets=min(3_000, tickets // 10),
    )


def database_url(server: str, label: str) -> str:
    return f"{server.rstrip('/')}/hd_scale_{label.lower()}"


def create_database(url: str) -> None:
    """CREATE DATABASE unless it exists (through the server's ``postgres`` database)."""
    import psycopg

    parsed = make_url(url)
    name = parsed.database
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def vacuum_analyze(url: str, stamp: dict, data_dir: Path) -> dict:
    """Planner statistics and the visibility map, as a live database has them: measured right after
    COPY, the planner guesses a few thousand rows for a million and picks its plans on that."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    stamp = {**stamp, "vacuumed_at": datetime.now(UTC).isoformat(timespec="seconds")}
    stamp_path(url, data_dir).write_text(json.dumps(stamp, indent=2))
    return stamp


# --- measuring one size ---------------------------------------------------------------------------


class Supervisor(InProcess):
    """The reports need a supervisor: the same sign-in form, another account."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        token = _csrf(self.client.get("/staff/login").get_data(as_text=True))
        answer = self.client.post(
            "/staff/login", data={"email": SUPERVISOR_EMAIL, "password": PASSWORD, "csrf_token": token}
        )
        if answer.status_code not in (302, 303):
            raise click.ClickException(f"Sign-in as {SUPERVISOR_EMAIL} failed (HTTP {answer.status_code}).")


@dataclass
class Timed:
    name: str
    who: str  # "staff", "customer" or "supervisor"
    urls: list[str]


def same_volume_days(tickets: int) -> int:
    """Days holding as many tickets as the last 30 days do at 100k (three years at every size)."""
    return max(1, round(30 * 100_000 / tickets))


def timed_pages(app: Flask, staff: InProcess, tickets: int) -> list[Timed]:
    ours = {op.name: op for op in operations(app, staff.html)}
    queue = ours["queue_default"].urls[0]
    deep = _follow_next(staff.html, queue, DEEP_PAGE)
    today = datetime.now(UTC).date()
    month = f"start={(today - timedelta(days=29)).isoformat()}&end={today.isoformat()}"
    days = same_volume_days(tickets)
    same = f"start={(today - timedelta(days=days - 1)).isoformat()}&end={today.isoformat()}"
    terms = SEARCH_TERMS["ar"] + SEARCH_TERMS["en"]
    kb = (ours["kb_search_ar"].urls or []) + (ours["kb_search_en"].urls or [])
    pages = [
        Timed("queue_default", "staff", [queue]),
        Timed("queue_filtered", "staff", ours["queue_filtered"].urls),
        Timed("queue_deep", "staff", [deep] if deep else []),
        Timed("ticket_page", "staff", ours["ticket_page"].urls or []),
        Timed("agent_search", "staff", [f"/agent/search?q={t}" for t in terms]),
        Timed("kb_search", "customer", kb),
        Timed("suggestions", "customer", ours["suggestions"].urls or []),
        Timed("dashboard_30d", "supervisor", [f"/reports?{month}"]),
        Timed("dashboard_same_volume", "supervisor", [f"/reports?{same}"]),
    ]
    return pages


def time_pages(
    app: Flask, count: int, budget: float, tickets: int, *, keep_samples: bool = False
) -> dict[str, dict]:
    clients: dict[str, InProcess] = {"staff": InProcess(app, "staff")}
    results: dict[str, dict] = {}
    for page in timed_pages(app, clients["staff"], tickets):
        if not page.urls:
            results[page.name] = {"skipped": "not available at this size"}
            continue
        if page.who not in clients:
            clients[page.who] = Supervisor(app) if page.who == "supervisor" else InProcess(app, page.who)
        client, urls = clients[page.who], page.urls
        results[page.name] = time_requests(
            lambda i, c=client, u=urls: c.get(u[i % len(u)]),
            count,
            budget_seconds=budget,
            keep_samples=keep_samples,
        )
    return results


def time_sla_job(app: Flask, runs: int = SLA_RUNS) -> dict:
    """The worker's every-minute job (``sla.check_breaches``): the first run records the generated
    backlog's breaches (timed once), the steady runs after it find nothing new (p50/p95)."""
    from helpdesk.extensions import db
    from helpdesk.sla.breaches import check_breaches_job

    with app.app_context():
        start = time.perf_counter()
        first = check_breaches_job(app)
        first_ms = (time.perf_counter() - start) * 1000
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            check_breaches_job(app)
            samples.append((time.perf_counter() - start) * 1000)
        db.session.remove()
    return {**summary(samples), "first_run_ms": round(first_ms, 1), "first_run_new": first}


def size_of(label: str, server: str) -> tuple[Scale, str, Path]:
    """A size's scale, database URL and data folder."""
    return scale_for(SIZES[label]), database_url(server, label), DATA_DIR / f"scale-{label.lower()}"


def prepare_size(label: str, server: str, echo: Callable[[str], None] = click.echo) -> tuple[dict, float]:
    """The size's dataset, generated once (and its statistics, as autovacuum leaves them)."""
    scale, url, data_dir = size_of(label, server)
    create_database(url)
    started = time.perf_counter()
    stamp = ensure_dataset(scale, url, data_dir=data_dir, echo=echo)
    if "vacuumed_at" not in stamp:
        echo(f"{label}: VACUUM ANALYZE (what autovacuum does after a bulk load)…")
        stamp = vacuum_analyze(url, stamp, data_dir)
    return stamp, time.perf_counter() - started


def page_samples(label: str, server: str, count: int, budget: float) -> dict[str, dict]:
    """One round of one size's pages, in this process: each page's samples (or why none)."""
    scale, url, data_dir = size_of(label, server)
    app = bench_app(url, data_dir)
    timed = time_pages(app, count, budget, scale.tickets, keep_samples=True)
    with app.app_context():
        from helpdesk.extensions import db

        db.engine.dispose()
    return timed


def interleaved_pages(
    labels: list[str], server: str, count: int, budget: float, rounds: int, echo: Callable[[str], None]
) -> dict[str, dict[str, dict]]:
    """Each size's pages over ``rounds`` rounds that take the sizes in turn, each in a fresh
    process; the samples of the rounds are pooled per page."""
    pooled: dict[str, dict[str, dict]] = {label: {} for label in labels}
    per_round = max(1, -(-count // rounds))
    with tempfile.TemporaryDirectory() as scratch:
        for turn in range(rounds):
            for label in labels:
                echo(f"round {turn + 1}/{rounds}, {label}: pages ({per_round} requests each)…")
                out = Path(scratch) / f"{label}-{turn}.json"
                command = [sys.executable, "-m", "bench.scale", "--pages-of", label, "--server", server]
                command += [
                    "--requests",
                    str(per_round),
                    "--budget",
                    str(budget / rounds),
                    "--samples-to",
                    str(out),
                ]
                subprocess.run(command, check=True)
                for name, entry in json.loads(out.read_text()).items():
                    kept = pooled[label].setdefault(name, {"samples": []} if "samples" in entry else entry)
                    if "samples" in entry and "samples" in kept:
                        kept["samples"] += entry["samples"]
    return {
        label: {
            name: {**summary(entry["samples"]), "rounds": rounds} if "samples" in entry else entry
            for name, entry in pages.items()
        }
        for label, pages in pooled.items()
    }


def measure_size(
    label: str,
    server: str,
    *,
    pages: dict[str, dict],
    stamp: dict,
    prepared: float,
    echo: Callable[[str], None] = click.echo,
) -> dict:
    """The size's entry of the report: its timed pages, then ingest and the SLA job in this process."""
    scale, url, data_dir = size_of(label, server)
    app = bench_app(url, data_dir)
    echo(f"{label}: ingest, SLA job…")
    ingest = time_ingest(app, data_dir)
    sla = time_sla_job(app)
    with app.app_context():
        from helpdesk.extensions import db

        db.engine.dispose()
    return {
        "tickets": scale.tickets,
        "database": make_url(url).database,
        "scale": asdict(scale),
        "dataset": {k: v for k, v in stamp.items() if k not in ("scale", "version")},
        "prepare_seconds": round(prepared, 1),
        "operations": {**pages, "sla_job": sla},
        "ingest": ingest,
    }


# --- the report -----------------------------------------------------------------------------------


def _p95(size: dict | None, name: str) -> float | None:
    entry = (size or {}).get("operations", {}).get(name, {})
    return entry.get("p95_ms")


def growth(sizes: dict[str, dict], small: str, large: str) -> dict[str, float]:
    factors = {}
    for name in LABELS:
        a, b = _p95(sizes.get(small), name), _p95(sizes.get(large), name)
        if a and b:
            factors[name] = round(b / a, 2)
    rate_a = (sizes.get(small) or {}).get("ingest", {}).get("messages_per_second")
    rate_b = (sizes.get(large) or {}).get("ingest", {}).get("messages_per_second")
    if rate_a and rate_b:
        factors["ingest_rate"] = round(rate_b / rate_a, 2)
    return factors


def verdicts(sizes: dict[str, dict]) -> dict[str, str]:
    """The issue's targets: pages at 1M within 1.5 × their 100k p95; the dashboard under 500 ms."""
    out = {}
    factors = growth(sizes, "100k", "1M")
    for name in PAGES:
        if name in factors:
            out[name] = "met" if factors[name] <= GROWTH_TARGET else "missed"
    dashboard = _p95(sizes.get("1M"), "dashboard_30d")
    if dashboard is not None:
        out["dashboard_30d_under_500ms"] = "met" if dashboard <= DASHBOARD_TARGET_MS else "missed"
    return out


def table(sizes: dict[str, dict]) -> str:
    labels = [s for s in SIZES if s in sizes]
    head = "| Operation | " + " | ".join(f"{s} p50 / p95 (ms)" for s in labels) + " | 100k→1M (p95) |"
    lines = [head, "|" + "---|" * (len(labels) + 2)]
    factors = growth(sizes, "100k", "1M")
    for name, label in LABELS.items():
        cells = []
        for s in labels:
            entry = sizes[s]["operations"].get(name, {})
            cells.append(f"{entry['p50_ms']:.1f} / {entry['p95_ms']:.1f}" if "p95_ms" in entry else "—")
        factor = f"{factors[name]:.2f}×" if name in factors else "—"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {factor} |")
    rates = [f"{sizes[s]['ingest'].get('messages_per_second', '—')}" for s in labels]
    factor = f"{factors['ingest_rate']:.2f}×" if "ingest_rate" in factors else "—"
    lines.append("| Email ingest (messages/s) | " + " | ".join(rates) + f" | {factor} |")
    return "\n".join(lines)


def plot(sizes: dict[str, dict], path: Path) -> Path:
    """p95 against the number of tickets, one line per operation, log–log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    labels = [s for s in SIZES if s in sizes]
    figure, axes = plt.subplots(figsize=(9, 5.5))
    for name, label in LABELS.items():
        points = [(sizes[s]["tickets"], _p95(sizes[s], name)) for s in labels]
        points = [(x, y) for x, y in points if y]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axes.yaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    axes.set_xticks([sizes[s]["tickets"] for s in labels], labels)
    axes.set_xlabel("tickets in the database")
    axes.set_ylabel("p95 latency (ms)")
    axes.set_title("How cost grows on PostgreSQL (p95 per operation)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="svg")
    plt.close(figure)
    return path


def report(sizes: dict[str, dict], results_dir: Path, date: str) -> dict:
    ordered = {s: sizes[s] for s in SIZES if s in sizes}
    result = {
        "date": date,
        "labels": LABELS,
        "sizes": ordered,
        "growth_10k_to_100k": growth(ordered, "10k", "100k"),
        "growth_100k_to_1M": growth(ordered, "100k", "1M"),
        "targets": verdicts(ordered),
        "plot": str(plot(ordered, results_dir / f"scale-{date}.svg").relative_to(results_dir.parent.parent)),
    }
    (results_dir / f"scale-{date}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result


@click.command()
@click.option("--sizes", default=",".join(SIZES), show_default=True, help="Comma-separated: 10k, 100k, 1M.")
@click.option("--server", default=DEFAULT_SERVER, show_default=True, help="PostgreSQL server URL.")
@click.option("--requests", "count", default=80, show_default=True, help="Timed requests per page.")
@click.option("--budget", default=60.0, show_default=True, help="Seconds per page at most.")
@click.option("--rounds", default=4, show_default=True, help="Rounds taking the sizes in turn.")
@click.option("--pages-of", type=click.Choice(list(SIZES)), hidden=True)
@click.option("--samples-to", type=click.Path(path_type=Path), hidden=True)
def main(
    sizes: str,
    server: str,
    count: int,
    budget: float,
    rounds: int,
    pages_of: str | None,
    samples_to: Path | None,
) -> None:
    """Measure how each operation's cost grows from 10k to 1M tickets."""
    if pages_of:  # one round of one size, for ``interleaved_pages``
        samples_to.write_text(json.dumps(page_samples(pages_of, server, count, budget)))
        return
    wanted = [s.strip() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SIZES]
    if unknown:
        raise click.BadParameter(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    date = datetime.now(UTC).date().isoformat()
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = RESULTS / f"scale-{date}.json"
    prepared = {label: prepare_size(label, server) for label in wanted}
    pages = interleaved_pages(wanted, server, count, budget, rounds, click.echo)
    for label in wanted:
        stamp, seconds = prepared[label]
        size = measure_size(label, server, pages=pages[label], stamp=stamp, prepared=seconds)
        # After each size, so a long run leaves its part; sizes measured by another run that day stay.
        measured = json.loads(previous.read_text())["sizes"] if previous.exists() else {}
        result = report({**measured, label: size}, RESULTS, date)
    click.echo(table(result["sizes"]))
    click.echo(f"Targets: {result['targets']}")
    click.echo(f"Written: bench/results/scale-{date}.json and {result['plot']}")


if __name__ == "__main__":
    main()
