"""The PostgreSQL search backend: documents written in the transaction of the change (no worker,
nothing left by a rollback), "did you mean" by trigrams, field weights, and ``helpdesk reindex``.

Runs in CI's PostgreSQL run (HELPDESK_TEST_DATABASE_URL); the rest of the search suite runs there
on this backend too."""

import pytest
from sqlalchemy import event, func, select, text

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus
from helpdesk.search import analysis, pg
from helpdesk.search.backend import uses_postgres
from helpdesk.search.models import IndexJob, SearchDocument, SearchWord
from helpdesk.tickets import service
from helpdesk.tickets.models import MessageKind
from tests.factories import POSTGRES_URL, make_article, make_staff, make_ticket

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="the PostgreSQL backend: set HELPDESK_TEST_DATABASE_URL (CI's second run does)"
)


def numbers(text_: str) -> list[str]:
    return [hit.fields["number"] for hit in search.query("tickets", text_)]


def document_count(index: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SearchDocument).where(SearchDocument.index_name == index)
    )


def test_the_backend_is_chosen_from_the_database_and_can_be_overridden(app):
    assert uses_postgres()
    app.config["SEARCH_BACKEND"] = "whoosh"
    assert not uses_postgres()


def test_a_ticket_is_found_right_after_its_commit_without_a_worker(app):
    ticket = make_ticket(subject="Kettle lid cracked", body="The lid of my kettle cracked on day one.")
    assert db.session.scalar(select(func.count()).select_from(IndexJob)) == 0  # no job for a worker
    assert numbers("cracked kettles") == [ticket.number]
    service.add_message(ticket, author=make_staff(), body="courier ref QX-19 booked", kind=MessageKind.NOTE)
    db.session.commit()
    assert numbers("QX-19") == [ticket.number]
    # Another connection (another node) sees the committed document too.
    with db.engine.connect() as other:
        found = other.execute(
            text("SELECT fields->>'number' FROM search_documents WHERE terms @@ CAST('qx' AS tsquery)")
        ).scalars()
        assert list(found) == [ticket.number]


def test_a_rolled_back_change_leaves_no_document_and_the_old_one_stands(app):
    article = make_article("gift-wrap", "Gift wrapping", "We wrap presents.")
    before = search.query("articles", "wrapping").hits
    assert [hit.fields["slug"] for hit in before] == ["gift-wrap"]
    db.session.add(Article(slug="ghost", locale="en", title="Ghost parcels", body_md="", status="published"))
    article.title = "Parcel lockers"
    db.session.flush()
    db.session.rollback()
    assert document_count("articles") == 1
    assert search.query("articles", "ghost").hits == [] and search.query("articles", "lockers").hits == []
    assert [hit.fields["title"] for hit in search.query("articles", "wrapping")] == ["Gift wrapping"]


def test_a_deleted_row_loses_its_document_and_its_unique_words(app):
    article = make_article("zanzibar", "Shipping to Zanzibar", "Ferries leave on Mondays.")
    assert db.session.scalar(select(SearchWord.word).where(SearchWord.word == "zanzibar")) == "zanzibar"
    db.session.delete(article)
    db.session.commit()
    assert search.query("articles", "zanzibar").hits == []
    assert db.session.scalar(select(SearchWord.word).where(SearchWord.word == "zanzibar")) is None


def test_did_you_mean_finds_the_word_by_trigrams(app):
    make_article("refunds", "How long refunds take", "Refunds reach your card in five days.")
    # "refnusd" shares few trigrams with "refunds" (similarity 0.23, under pg_trgm's default 0.3)
    typo = search.query("articles", "refnusd", filters={"status": ArticleStatus.PUBLISHED.value})
    assert typo.suggestion == "refunds" and typo.hits[0].fields["slug"] == "refunds"
    assert search.query("articles", "xyzzyq").suggestion is None


def test_title_words_weigh_more_than_body_words_and_prefixes_match_while_typing(app):
    make_article("body-only", "Opening hours", "Ask about a voucher at the desk.")
    make_article("in-title", "Voucher codes", "Enter it at checkout.")
    assert [hit.fields["slug"] for hit in search.query("articles", "voucher")] == ["in-title", "body-only"]
    typed = search.query("articles", "vouch", as_you_type=True)
    assert {hit.fields["slug"] for hit in typed} == {"in-title", "body-only"}
    in_body = next(hit for hit in typed if hit.fields["slug"] == "body-only")
    assert "<mark>voucher</mark>" in in_body.snippet  # the prefix's matches are highlighted


def test_reindex_rebuilds_the_tables(app):
    make_ticket(subject="Damaged box")
    db.session.execute(text("DELETE FROM search_documents"))
    db.session.execute(text("DELETE FROM search_words"))
    db.session.commit()
    assert numbers("damaged") == []
    result = app.test_cli_runner().invoke(args=["reindex", "tickets"])
    assert result.exit_code == 0 and "tickets: 1 documents indexed" in result.output
    assert len(numbers("damaged")) == 1


def test_a_common_word_ranks_its_most_recently_written_matches(app, monkeypatch):
    """Past ``RANKED_AT_MOST`` matches only the newest writes are ranked: a ticket with a new
    message counts as new, and the oldest untouched one drops out (not the other way round)."""
    oldest, middle, newest = (make_ticket(subject=f"Kettle {n}", body="kettle leaks") for n in range(3))
    monkeypatch.setattr(pg, "RANKED_AT_MOST", 2)
    assert set(numbers("kettle")) == {middle.number, newest.number}
    service.add_message(oldest, author=make_staff(), body="the kettle was replaced", kind=MessageKind.NOTE)
    db.session.commit()
    assert set(numbers("kettle")) == {oldest.number, newest.number}
    monkeypatch.setattr(pg, "RANKED_AT_MOST", 5_000)
    assert len(numbers("kettle")) == 3


def test_a_common_words_frequency_comes_from_the_statistics_not_a_count(app, monkeypatch):
    """At a million tickets counting "card" built a bitmap of 128,660 documents at each search;
    a large index takes its common words' counts from ANALYZE's statistics instead."""
    for n in range(6):
        make_ticket(subject=f"Kettle {n}", body="kettle leaks")
    make_ticket(subject="Toaster", body="toaster sparks")
    db.session.execute(text("ANALYZE search_documents"))
    db.session.commit()
    monkeypatch.setattr(pg, "STATS_CACHED_FROM", 1)  # as an index of thousands of documents
    pg._stats_cache.clear()
    kettle, rare = analysis.word_terms("kettle")[0], "qx19"
    assert pg._stats("tickets").common[kettle] == 6
    counts = []

    def listen(_conn, _cursor, statement, *_rest):
        if "count(*)" in statement:
            counts.append(statement)

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert pg.document_frequencies("tickets", [kettle]) == {kettle: 6}
        assert counts == []  # no count for a common word
        assert pg.document_frequencies("tickets", [rare]) == {rare: 0}
        assert len(counts) == 1  # a word the statistics do not list is counted
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
