"""Search by words and meaning at bench scale: embedding throughput at reindex, KB search and the
case form's live suggestions, the agent page's suggested answers and similar solved tickets, and
the web process's memory with the model and the vectors of 100,000 tickets loaded.

    .venv/bin/python -m bench.search_meaning [--articles 2000] [--tickets 100000] [--instance DIR]
                                             [--json FILE]

Runs on its own SQLite instance (kept with ``--instance``: built once) with the demo articles and
macros plus generated articles (``bench.words``), and one ticket per held-out question (the
question is the customer's message). Embedding 100,000 tickets takes over an hour on this 2-core
machine (about 20 passages/s), so the tickets' vector file is filled up to ``--tickets`` with
perturbed copies of the real tickets' vectors: the search over them costs what it would with real
ones; the words' side of similar tickets runs on the real tickets' index only (``make bench``
measures that side at 100,000 tickets, as "similar panel"). Prints one line per figure.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from bench import words
from helpdesk import create_app
from helpdesk.agents.suggestions import suggested_answers
from helpdesk.customers.models import Customer
from helpdesk.demo.loader import DEMO_MACROS
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.schema import upgrade_schema
from helpdesk.search import dense, embeddings, reindex
from helpdesk.tickets import search_index as ticket_index
from helpdesk.tickets import service as ticket_service
from helpdesk.tickets.models import Macro, Status, Ticket
from tests.kb.quality import load_demo_articles, read_queries

FIGURES: dict[str, object] = {}


def report(key: str, line: str, value: object) -> None:
    FIGURES[key] = value
    click.echo(line)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mapped_mb(suffix: str) -> float:
    """Resident MB of the files mapped into this process whose path ends with ``suffix`` (the model:
    clean file pages, shared by every process that maps it and dropped first under pressure)."""
    total, current = 0, ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if "-" in line.split(" ", 1)[0] and not line.endswith("kB"):
            current = line
        elif line.startswith("Rss:") and current.endswith(suffix):
            total += int(line.split()[1])
    return total / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(calls) -> list[float]:
    out = []
    for call in calls:
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def build(instance: Path, articles: int, tickets: int) -> None:
    """Demo articles plus generated ones, indexed and embedded (the worker's and reindex's work)."""
    app = create_app(config(instance))
    with app.app_context():
        upgrade_schema()
        load_demo_articles()
        rng = random.Random(7)
        for n in range(articles - db.session.query(Article).count()):
            language = "en" if n % 2 else "ar"
            title = words.title(rng, language)
            paragraphs = "\n\n".join(words.paragraph(rng, language, 4) for _ in range(3))
            db.session.add(
                Article(
                    slug=f"generated-{n}",
                    locale=language,
                    title=title,
                    body_md=f"## {title}\n\n{paragraphs}",
                    status=ArticleStatus.PUBLISHED,
                    tags=[],
                    # Three "other ways customers ask" each, as a shop that reviews its deflections has.
                    phrasings=[words.sentence(rng, language, 6) for _ in range(3)],
                )
            )
        db.session.commit()
        start = time.perf_counter()
        reindex(["articles"])
        took = time.perf_counter() - start
        passages = len(dense._read(dense.store_path("articles")).doc_ids)
        size = dense.store_path("articles").stat().st_size / 1e6
        report("reindex_articles_s", f"reindex {articles} articles, {passages} passages: {took:.1f} s", took)
        report(
            "article_passages_per_s",
            f"  {passages / took:.1f} passages/s (Whoosh included); vectors file {size:.1f} MB",
            round(passages / took, 1),
        )
        add_macros_and_tickets()
        start = time.perf_counter()
        reindex(["tickets", "macros"])
        took = time.perf_counter() - start
        count = len(dense._read(dense.store_path("tickets")).doc_ids)
        report(
            "ticket_passages_per_s",
            f"reindex {count} tickets (one passage each) and the macros: {took:.1f} s,"
            f" {count / took:.1f} tickets/s",
            round(count / took, 1),
        )
        fill_ticket_vectors(tickets)


def add_macros_and_tickets() -> None:
    """The demo macros, and one ticket per held-out question (a third of them solved)."""
    for locale, name, body, status, priority, tags in DEMO_MACROS:
        db.session.add(
            Macro(
                name=name, locale=locale, body=body, set_status=status, set_priority=priority, add_tags=tags
            )
        )
    customer = Customer(name="Bench Customer", password_hash="-")
    db.session.add(customer)
    for n, case in enumerate(read_queries("search_quality_heldout.jsonl")):
        ticket = ticket_service.open_ticket(
            customer=customer, subject=case["query"][:60], body=case["query"], created_at=None
        )
        ticket.language = case["locale"]
        if n % 3 == 0:
            ticket_service.change_status(ticket, Status.SOLVED, actor=None)
    db.session.commit()


def fill_ticket_vectors(total: int) -> None:
    """The tickets' vector file filled up to ``total`` rows with perturbed copies of the real ones
    (ids past the real tickets', two thirds solved), as the index writer would have written it."""
    path = dense.store_path("tickets")
    store = dense._read(path)
    real = len(store.doc_ids)
    if real >= total:
        return
    rng = np.random.default_rng(7)
    extra = total - real
    picks = rng.integers(0, real, extra)
    vectors = store.vectors[picks].astype(np.float32) + rng.normal(0, 0.02, (extra, embeddings.DIMENSIONS))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first = int(store.doc_ids.max()) + 1
    fields = {
        "status": np.where(rng.random(extra) < 2 / 3, "solved", "open"),
        "merged": np.full(extra, "no"),
    }
    filled = dense._Store(
        np.concatenate([store.vectors, vectors.astype(np.float16)]),
        np.concatenate([store.doc_ids, np.arange(first, first + extra, dtype=np.int64)]),
        np.concatenate([store.hashes, np.zeros(extra, "S12")]),
        {k: np.concatenate([store.fields[k], fields[k].astype(store.fields[k].dtype)]) for k in fields},
    )
    dense._save(path, filled)
    click.echo(
        f"tickets' vectors: {real} real + {extra} perturbed copies ({path.stat().st_size / 1e6:.0f} MB)"
    )


def config(instance: Path) -> dict:
    return {
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'helpdesk.db'}",
    }


def measure(instance: Path, with_model: bool) -> None:
    mode = "both" if with_model else "words"
    """What a fresh web process costs: memory after searching, and search latency."""
    app = create_app({**config(instance), "SEARCH_EMBEDDINGS": with_model})
    queries = read_queries("search_quality_heldout.jsonl")
    with app.test_request_context("/"):  # article addresses are built as in a request
        start = time.perf_counter()
        embeddings.is_available()
        label = "words and meaning" if with_model else "words only"
        click.echo(f"[{label}] model load {(time.perf_counter() - start) * 1000:.0f} ms")
        service.search_articles("warmup", locale="en")
        search = timed(
            lambda q=q: service.search_articles(q["query"], locale=q["locale"], limit=10) for q in queries
        )
        # Typing: prefixes of the question, as the debounced case form sends them.
        typing = [
            (q["query"][:cut], q["locale"]) for q in queries[:80] for cut in range(4, len(q["query"]), 6)
        ]
        suggest = timed(
            lambda t=t, loc=loc: service.search_articles(t, locale=loc, limit=5, as_you_type=True)
            for t, loc in typing
        )
        timings = [("kb_search", "KB search", search), ("live_suggestions", "live suggestions", suggest)]
        tickets = list(db.session.scalars(db.select(Ticket).order_by(Ticket.id)))
        timings.append(
            (
                "suggested_answers",
                "suggested answers",
                timed(lambda t=t: suggested_answers(t) for t in tickets),
            )
        )

        def similar(ticket: Ticket) -> None:
            ticket_index._similar_cache.clear()  # every call computes, as for a ticket seen first
            ticket_index.similar_solved_tickets(ticket)

        timings.append(
            ("similar_tickets", "similar solved tickets", timed(lambda t=t: similar(t) for t in tickets))
        )
        for key, name, values in timings:
            p95 = percentile(values, 0.95)
            report(
                f"{mode}.{key}_p95_ms",
                f"[{label}] {name}: n={len(values)} p50={statistics.median(values):.1f} ms"
                f" p95={p95:.1f} ms max={max(values):.1f} ms",
                round(p95, 1),
            )
        vectors = dense._current("tickets")
        rows = 0 if vectors is None else len(vectors.doc_ids)
        report(
            f"{mode}.rss_mb",
            f"[{label}] RSS after all of it ({rows} tickets' vectors loaded): {rss_mb():.0f} MB",
            round(rss_mb()),
        )
        model_pages = mapped_mb(".bin")
        report(
            f"{mode}.model_pages_mb",
            f"[{label}]   of which the model file's pages: {model_pages:.0f} MB",
            round(model_pages),
        )


@click.command()
@click.option("--articles", default=2000, show_default=True)
@click.option("--tickets", default=100_000, show_default=True, help="Rows of the tickets' vector file.")
@click.option("--instance", type=click.Path(path_type=Path), help="Kept between runs (built once).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Also write the figures here.")
@click.option("--measure-only", type=click.Choice(["words", "both"]), hidden=True)
def main(
    articles: int, tickets: int, instance: Path | None, json_path: Path | None, measure_only: str | None
) -> None:
    if measure_only:
        measure(instance, with_model=measure_only == "both")
        if json_path:
            json_path.write_text(json.dumps(FIGURES))
        return
    with tempfile.TemporaryDirectory() as scratch:
        instance = instance or Path(scratch)
        built = instance / "bench-built"  # written last: an interrupted build starts again
        if not built.exists():
            instance.mkdir(parents=True, exist_ok=True)
            for leftover in instance.iterdir():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            build(instance, articles, tickets)
            built.write_text(f"{articles} articles, {tickets} tickets\n")
        report(
            "load_average",
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            os.getloadavg()[0],
        )
        for mode in ("words", "both"):  # each in a fresh process, as a web process starts
            part = Path(scratch) / f"{mode}.json"
            command = [sys.executable, "-m", "bench.search_meaning", "--instance", str(instance)]
            subprocess.run([*command, "--measure-only", mode, "--json", str(part)], check=True)
            FIGURES.update(json.loads(part.read_text()))
        if json_path:
            json_path.write_text(json.dumps(FIGURES, indent=2))


if __name__ == "__main__":
    main()
