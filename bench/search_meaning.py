"""KB search by words and meaning at bench scale: embedding throughput at reindex, search latency
(portal search and the case form's live suggestions) and the web process's memory with the model.

    .venv/bin/python -m bench.search_meaning [--articles 2000] [--instance DIR]

Runs on a throw-away SQLite instance with the demo articles plus generated ones (``bench.words``,
as ``make bench`` generates them), so it needs no benchmark database. Prints one line per figure.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from bench import words
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.schema import upgrade_schema
from helpdesk.search import dense, embeddings, reindex
from tests.kb.quality import load_demo_articles, read_queries


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def build(instance: Path, articles: int) -> None:
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
                )
            )
        db.session.commit()
        start = time.perf_counter()
        reindex(["articles"])
        took = time.perf_counter() - start
        passages = len(dense._read(dense.store_path("articles")).doc_ids)
        size = dense.store_path("articles").stat().st_size / 1e6
        click.echo(f"reindex {articles} articles, {passages} passages: {took:.1f} s")
        click.echo(f"  {passages / took:.1f} passages/s (Whoosh included); vectors file {size:.1f} MB")


def config(instance: Path) -> dict:
    return {
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'helpdesk.db'}",
    }


def measure(instance: Path, with_model: bool) -> None:
    """What a fresh web process costs: memory after searching, and search latency."""
    app = create_app({**config(instance), "SEARCH_EMBEDDINGS": with_model})
    queries = read_queries("search_quality_heldout.jsonl")
    with app.app_context():
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
        for name, values in (("KB search", search), ("live suggestions", suggest)):
            click.echo(
                f"[{label}] {name}: n={len(values)} p50={statistics.median(values):.1f} ms"
                f" p95={percentile(values, 0.95):.1f} ms max={max(values):.1f} ms"
            )
        click.echo(f"[{label}] RSS after searching: {rss_mb():.0f} MB")


@click.command()
@click.option("--articles", default=2000, show_default=True)
@click.option("--instance", type=click.Path(path_type=Path), help="Kept between runs (built once).")
@click.option("--measure-only", type=click.Choice(["words", "both"]), hidden=True)
def main(articles: int, instance: Path | None, measure_only: str | None) -> None:
    if measure_only:
        measure(instance, with_model=measure_only == "both")
        return
    with tempfile.TemporaryDirectory() as scratch:
        instance = instance or Path(scratch)
        if not (instance / "search" / "articles.vectors.npz").exists():
            instance.mkdir(parents=True, exist_ok=True)
            build(instance, articles)
        click.echo(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for mode in ("words", "both"):  # each in a fresh process, as a web process starts
            command = [sys.executable, "-m", "bench.search_meaning", "--instance", str(instance)]
            subprocess.run([*command, "--measure-only", mode], check=True)


if __name__ == "__main__":
    main()
