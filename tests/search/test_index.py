"""Index jobs are queued in the article's transaction and applied by the worker (single writer).

The Whoosh backend's machinery (the job queue, the pool of searchers, the segment files) is tested
with that backend chosen on either database; the search behaviour tests run on the app's own
backend (PostgreSQL's tables in the PostgreSQL run: tests/search/test_pg_backend.py)."""

import pytest
from sqlalchemy import func, select

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.search.models import IndexJob
from helpdesk.worker.runner import run_once


def add_article(slug="track-order", title="How to track your order", body="Open My orders.", **kw) -> Article:
    article = service.save_article(
        None,
        slug=slug,
        locale=kw.pop("locale", "en"),
        title=title,
        body=body,
        category=None,
        tags=kw.pop("tags", []),
        translation_of=None,
        status=kw.pop("status", ArticleStatus.PUBLISHED),
    )
    db.session.commit()
    return article


@pytest.fixture
def whoosh(app):
    app.config["SEARCH_BACKEND"] = "whoosh"


def job_count() -> int:
    return db.session.scalar(select(func.count()).select_from(IndexJob))


def test_saving_an_article_queues_a_job_that_the_worker_applies(app, whoosh):
    article = add_article()
    assert job_count() == 1
    assert search.query("articles", "tracking").hits == []
    assert run_once(app)["search.apply_index_jobs"] == {"applied": 1}
    assert job_count() == 0
    assert [h.fields["slug"] for h in search.query("articles", "tracking")] == ["track-order"]
    article.title = "Where is my parcel"
    db.session.commit()
    search.apply_pending_jobs()
    assert search.query("articles", "parcel").hits[0].id == str(article.id)


def test_a_rolled_back_change_queues_nothing_and_views_do_not_reindex(app):
    article = add_article()
    search.apply_pending_jobs()
    article.title = "Changed"
    db.session.flush()
    db.session.rollback()
    assert job_count() == 0
    service.record_view(article)
    assert job_count() == 0


def test_deleting_an_article_removes_it_from_the_index(app):
    article = add_article()
    search.apply_pending_jobs()
    db.session.delete(article)
    db.session.commit()
    search.apply_pending_jobs()
    assert search.query("articles", "track").hits == []


def test_reindex_rebuilds_from_the_database_and_clears_the_queue(app):
    add_article()
    add_article(slug="refunds", title="How long refunds take", body="Five to ten days.")
    assert search.reindex()["articles"] == 2
    assert job_count() == 0
    assert search.query("articles", "refund").hits[0].fields["slug"] == "refunds"


def test_prefix_fuzzy_snippets_and_filters(app):
    add_article(slug="refunds", title="How long refunds take", body="Refunds reach your card in five days.")
    add_article(slug="draft", title="Refund secrets", body="Draft.", status=ArticleStatus.DRAFT)
    add_article(slug="ar", title="مدة استرداد المبلغ", body="يصل المبلغ خلال خمسة أيام", locale="ar")
    search.apply_pending_jobs()
    assert [
        h.fields["slug"]
        for h in search.query("articles", "refu", as_you_type=True, limit=5, filters={"status": "published"})
    ] == ["refunds"]
    typo = search.query("articles", "refnuds", filters={"status": "published"})
    assert typo.suggestion == "refunds" and typo.hits[0].fields["slug"] == "refunds"
    assert "<mark" in search.query("articles", "card", locale="en").hits[0].snippet
    assert [h.fields["slug"] for h in search.query("articles", "المبالغ", locale="ar")] == ["ar"]
    assert search.query("articles", "refund", locale="ar").hits == []


def test_requests_share_a_small_pool_of_searchers(app, whoosh):
    """A searcher of a large index holds hundreds of MB: threads take turns, none keeps its own."""
    import threading

    from helpdesk.search import indexer

    add_article()
    run_once(app)
    with app.app_context():
        first = indexer.searcher("articles")
        assert indexer.searcher("articles") is first  # the same one for the whole request
    with app.app_context():
        assert indexer.searcher("articles") is first  # given back, then taken again

    barrier = threading.Barrier(4)
    seen: list = []

    def request() -> None:
        with app.app_context():
            seen.append(indexer.searcher("articles"))
            barrier.wait(timeout=10)  # all four hold one at the same time

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in seen}) == 4  # never shared by two requests at once
    idle = list(indexer._idle_searchers[str(indexer.index_dir("articles"))])
    assert len(idle) == indexer.IDLE_SEARCHERS  # the others were closed
    assert sum(s.is_closed for s in seen) == 4 - indexer.IDLE_SEARCHERS

    add_article(slug="refunds", title="Refunds")
    run_once(app)
    with app.app_context():
        fresh = indexer.searcher("articles")  # the writer committed: the idle ones are stale
        assert fresh.up_to_date() and all(s.is_closed for s in idle)


def test_a_searcher_reads_its_segment_from_disk_instead_of_copying_it(app, whoosh):
    """Whoosh with mmap copies each part of a segment it opens into memory (over 200 MB per searcher
    on 100,000 tickets); the index is opened without it, so a searcher costs little memory."""
    import random
    import tracemalloc

    from helpdesk.search import indexer

    rng = random.Random(5)
    vocabulary = [f"word{n}" for n in range(5_000)]
    with app.app_context():
        writer = indexer.open_index("articles").writer()
        for n in range(800):
            body = " ".join(rng.choices(vocabulary, k=250))
            writer.add_document(
                id=str(n),
                slug=f"a{n}",
                locale="en",
                status="published",
                title=f"word{n}",
                body=body,
                words=body,
            )
        writer.commit()
        folder = indexer.index_dir("articles")
        on_disk = sum(f.stat().st_size for f in folder.iterdir())
        assert on_disk > 2_000_000
        tracemalloc.start()
        try:
            hits = search.query("articles", "word7 word42", limit=10)
            held, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(hits) == 10
    assert held < on_disk / 10, (held, on_disk)


def test_did_you_mean_from_the_words_in_memory_and_from_whooshs_suggester(app, whoosh, monkeypatch):
    from helpdesk.search import arrays, querying

    add_article(slug="refunds", title="How long refunds take", body="Refunds reach your card.")
    add_article(slug="returns", title="Returns", body="Send the parcel back within a month.")
    search.apply_pending_jobs()
    small = [search.query("articles", typo).suggestion for typo in ("refnuds", "parcle", "montth", "xyzzyq")]
    assert small == ["refunds", "parcel", "month", None]
    # Of two indexed words equally frequent and both within two edits, the closer one.
    assert querying._closest_word("articles", "retrns") == "returns"
    monkeypatch.setattr(arrays, "SMALL_INDEX_DOCUMENTS", 1)  # as for a large index
    large = [search.query("articles", typo).suggestion for typo in ("refnuds", "parcle", "montth", "xyzzyq")]
    assert large == small


def test_a_filter_follows_the_index_version_it_was_built_for(app, whoosh):
    """The set of published documents is kept on a searcher, which reads one version of the index."""
    article = add_article(slug="refunds", title="How long refunds take", body="Five days.")
    search.apply_pending_jobs()
    published = {"status": "published"}
    assert [h.fields["slug"] for h in search.query("articles", "refunds", filters=published)] == ["refunds"]
    article.status = ArticleStatus.DRAFT
    db.session.commit()
    search.apply_pending_jobs()
    assert search.query("articles", "refunds", filters=published).hits == []
    assert [h.fields["slug"] for h in search.query("articles", "refunds", filters={"status": "draft"})] == [
        "refunds"
    ]
