"""A small index's BM25F ranking over arrays (``helpdesk/search/arrays.py``) gives Whoosh's scores:
checked against Whoosh scoring every match, on the demo articles and the quality set's queries."""

import pytest
from whoosh.query import And, Term

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.search import arrays, lexicon
from helpdesk.search.indexer import _documents_with, search_where, searcher
from helpdesk.search.querying import build_query
from tests.kb.quality import load_demo_articles, read_queries


@pytest.fixture
def demo_index(app):
    app.config.update(SEARCH_BACKEND="whoosh", SEARCH_EMBEDDINGS=False)
    load_demo_articles()


def whooshs_ranking(current, query, limit, allowed=None) -> list[tuple[float, int]]:
    """Every match scored by Whoosh (no pruning), best first, ties in document order."""
    everything = current.search(query, limit=None, filter=allowed, optimize=False)
    return sorted(((hit.score, hit.docnum) for hit in everything), key=lambda s: (-s[0], s[1]))[:limit]


def assert_same_ranking(found: list[tuple[float, int]], expected: list[tuple[float, int]]) -> None:
    assert [d for _s, d in found] == [d for _s, d in expected]
    assert [s for s, _d in found] == pytest.approx([s for s, _d in expected], rel=1e-9)


def cases() -> list[tuple[str, str, bool]]:
    """The quality set's questions whole, and cut short as the case form sends them while typing."""
    queries = read_queries("search_quality_queries.jsonl")
    whole = [(q["query"], q["locale"], False) for q in queries]
    typing = [
        (q["query"][:cut], q["locale"], True) for q in queries[::4] for cut in range(3, len(q["query"]), 5)
    ]
    return whole + typing


def test_the_arrays_rank_as_whoosh_scores(app, demo_index):
    current = searcher("articles")
    compared = 0
    for text, locale, typing in cases():
        built, _ = build_query(
            "articles",
            text,
            as_you_type=typing,
            expand=lambda words, loc=locale: lexicon.expansions(words, loc),
        )
        if built is None:
            continue
        for fields in ({}, {"status": "published"}, {"status": "published", "locale": locale}):
            allowed = _documents_with(current, fields)
            fast = arrays.search(current, built, 10, allowed)
            assert fast is not None
            assert_same_ranking(
                [(hit.score, hit.docnum) for hit in fast], whooshs_ranking(current, built, 10, allowed)
            )
            compared += 1
    assert compared > 150


def test_an_edited_article_is_ranked_in_its_new_version_only(app, demo_index):
    article = db.session.scalars(db.select(Article).where(Article.locale == "en")).first()
    article.title = "Zebra crossing and parcel lockers"
    db.session.commit()
    search.apply_pending_jobs()  # Whoosh deletes the old document and adds the new one
    current = searcher("articles")
    built, _ = build_query("articles", "zebra parcel lockers")
    found = [(hit.score, hit.docnum) for hit in arrays.search(current, built, 5, None)]
    assert_same_ranking(found, whooshs_ranking(current, built, 5))
    assert current.stored_fields(found[0][1])["slug"] == article.slug


def test_other_queries_and_large_indexes_are_left_to_whoosh(app, demo_index, monkeypatch):
    current = searcher("articles")
    both = And([Term("body", "order"), Term("body", "track")])
    assert arrays.search(current, both, 5, None) is None
    assert len(search_where("articles", both, 5, {})) > 0  # Whoosh answers it
    built, _ = build_query("articles", "track my order")
    monkeypatch.setattr(arrays, "SMALL_INDEX_DOCUMENTS", current.doc_count_all() - 1)
    assert arrays.search(current, built, 5, None) is None
    ranked = [(hit.score, hit.docnum) for hit in search_where("articles", built, 5, {})]
    assert_same_ranking(ranked, whooshs_ranking(current, built, 5))


def test_a_filter_nothing_passes_finds_nothing(app, demo_index):
    db.session.execute(db.update(Article).values(status=ArticleStatus.DRAFT))
    db.session.commit()
    search.reindex()
    built, _ = build_query("articles", "track my order")
    assert search_where("articles", built, 5, {"status": "published"}) is None
    assert search.query("articles", "track my order", filters={"status": "published"}).hits == []


def test_the_tickets_index_is_ranked_by_whoosh(app, monkeypatch):
    """Written at every message, its searchers would build the arrays again at each new version."""
    from tests.factories import make_ticket

    app.config.update(SEARCH_BACKEND="whoosh", SEARCH_EMBEDDINGS=False)
    make_ticket(subject="Parcel never arrived")
    db.session.commit()
    search.apply_pending_jobs()

    def refuse(*_args):
        raise AssertionError("the tickets index was ranked over arrays")

    monkeypatch.setattr(arrays, "search", refuse)
    assert [hit.fields["subject"] for hit in search.query("tickets", "parcel")] == ["Parcel never arrived"]
