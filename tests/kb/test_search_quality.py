"""Search quality on the demo articles: every query finds its article in the top 3.

Prints recall@1, recall@3 and MRR per language (``pytest -s`` shows them).
"""

import json
from pathlib import Path

from helpdesk import search
from helpdesk.demo.loader import CONTENT
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Category

QUERIES = [
    json.loads(line)
    for line in (Path(__file__).parent / "search_quality_queries.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


def load_demo_articles() -> None:
    for position, data in enumerate(json.loads((CONTENT / "categories.json").read_text(encoding="utf-8"))):
        db.session.add(Category(position=position, **data))
    db.session.commit()
    service.import_articles((CONTENT / "kb_articles.jsonl").read_text(encoding="utf-8").splitlines())
    search.reindex()


def test_quality_queries_cover_both_languages():
    assert len(QUERIES) >= 60
    assert sum(q["locale"] == "ar" for q in QUERIES) >= 30
    assert sum(q["locale"] == "en" for q in QUERIES) >= 30


def test_every_quality_query_finds_its_article_in_the_top_three(app):
    load_demo_articles()
    ranks: dict[str, list[int | None]] = {"ar": [], "en": []}
    misses = []
    for case in QUERIES:
        hits = service.search_articles(case["query"], locale=case["locale"], limit=10).hits
        slugs = [h.slug for h in hits]
        rank = slugs.index(case["expected"]) + 1 if case["expected"] in slugs else None
        ranks[case["locale"]].append(rank)
        if rank is None or rank > 3:
            misses.append((case["query"], case["expected"], slugs[:3]))
    for locale, found in ranks.items():
        n = len(found)
        recall1 = sum(r == 1 for r in found) / n
        recall3 = sum(r is not None and r <= 3 for r in found) / n
        mrr = sum(1 / r for r in found if r) / n
        print(f"\n[{locale}] queries={n} recall@1={recall1:.3f} recall@3={recall3:.3f} MRR={mrr:.3f}")
        assert recall3 >= 0.9, locale
    assert misses == []
