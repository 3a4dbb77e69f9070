"""Both search backends side by side, in one run: recall@3 of the held-out test half (words and
meaning, as tests/kb/test_search_quality_heldout.py computes it), and the latency of a KB query and
of an agent's ticket search.

    .venv/bin/python -m bench.search_backends [--tickets 1000] [--postgres URL] [--json FILE]

Whoosh runs on a fresh SQLite instance, PostgreSQL's tables on a fresh database (created, then
dropped). Each gets the demo articles (embedded) and the same generated tickets (words only: the
agent's ticket search ranks by words).
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import click
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import words
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.schema import upgrade_schema
from helpdesk.search import reindex
from helpdesk.tickets.search import search_tickets
from tests.factories import make_customer, make_ticket
from tests.kb.quality import figures, load_demo_articles, rank_of, read_queries, split_heldout

KB_QUERIES = ["وين طلبي", "how long do refunds take", "ابي ارجع المنتج", "change my delivery address"]
TICKET_QUERIES = ["kettle cracked", "طلبي متأخر", "refund card", "courier", "بطاقه"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(call, rounds: int) -> dict[str, float]:
    took = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        took.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(statistics.median(took), 2), "p95_ms": round(percentile(took, 0.95), 2)}


def run_backend(name: str, database_url: str, instance: Path, tickets: int) -> dict:
    app = create_app(
        {"SECRET_KEY": "bench", "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url}
    )
    out: dict = {}
    with app.app_context():
        upgrade_schema()
        load_demo_articles()  # imports the articles and runs ``reindex`` (embedding them)
        app.config["SEARCH_EMBEDDINGS"] = False  # the tickets: words only, for a short run
        rng = random.Random(5)
        customers = [make_customer(email=f"c{n}@bench.test", name=f"Customer {n}") for n in range(50)]
        start = time.perf_counter()
        for n in range(tickets):
            language = "ar" if n % 2 else "en"
            make_ticket(
                customer=customers[n % 50],
                subject=words.title(rng, language),
                body=words.paragraph(rng, language, 3),
            )
        out["tickets_written_per_s"] = round(tickets / (time.perf_counter() - start), 1)
        reindex(["tickets"])  # Whoosh: the worker's work; PostgreSQL: already written, rebuilt
        app.config["SEARCH_EMBEDDINGS"] = True
        _dev, test = split_heldout(read_queries("search_quality_heldout.jsonl"))
        ranks: dict[str, list] = {"ar": [], "en": []}
        for case in test:
            hits = service.search_articles(case["query"], locale=case["locale"], limit=10).hits
            ranks[case["locale"]].append(rank_of(case["expected"], [h.slug for h in hits]))
        out["recall@3"] = {loc: round(figures(found)["recall@3"], 3) for loc, found in ranks.items()}
        queries = iter(KB_QUERIES * 100)
        out["kb_query"] = timed(lambda: service.search_articles(next(queries), locale="ar"), 100)
        typed = iter(TICKET_QUERIES * 100)
        out["ticket_search"] = timed(lambda: search_tickets(next(typed)), 100)
        db.session.remove()
        db.engine.dispose()
    click.echo(
        f"{name:<10} recall@3 ar {out['recall@3']['ar']:.3f} en {out['recall@3']['en']:.3f} | "
        f"KB query p50 {out['kb_query']['p50_ms']} ms p95 {out['kb_query']['p95_ms']} ms | "
        f"ticket search p50 {out['ticket_search']['p50_ms']} ms p95 {out['ticket_search']['p95_ms']} ms | "
        f"{tickets} tickets written at {out['tickets_written_per_s']}/s"
    )
    return out


@click.command()
@click.option("--tickets", default=1000, show_default=True)
@click.option(
    "--postgres", "postgres_url", default="postgresql+psycopg://postgres@127.0.0.1/helpdesk_bench_search"
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
def main(tickets: int, postgres_url: str, json_path: str | None) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        sqlite = Path(folder) / "whoosh"
        sqlite.mkdir()
        results["whoosh"] = run_backend("whoosh", f"sqlite:///{sqlite / 'helpdesk.db'}", sqlite, tickets)
        url = make_url(postgres_url)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        try:
            pg = Path(folder) / "postgres"
            pg.mkdir()
            results["postgres"] = run_backend("postgres", postgres_url, pg, tickets)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
            admin.dispose()
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
