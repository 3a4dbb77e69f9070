"""Articles' phrasings ("other ways customers ask"): edited, imported and exported, searched by words
and meaning, and suggested from what customers typed before an article answered them."""

import json
import re

import pytest
from sqlalchemy import select

from helpdesk import search
from helpdesk.auth.models import Role
from helpdesk.customers import privacy
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Article, Deflection
from helpdesk.search import hybrid
from tests.factories import NEW_ARTICLE_FORM, make_article, make_customer, make_staff


def test_an_article_is_found_by_the_words_of_its_phrasings(app):
    make_article("refund-times", "How long refunds take", "Refunds reach your card in 5 days.")
    make_article("gift-cards", "Gift cards", "Buy a gift card for a friend.")
    search.apply_pending_jobs()
    assert [h.slug for h in service.search_articles("zorblax", locale="en").hits] == []
    article = service.article_by_slug("refund-times")
    service.save_article(
        article,
        slug=article.slug,
        locale="en",
        title=article.title,
        body=article.body_md,
        category=None,
        tags=[],
        translation_of=None,
        status=article.status,
        phrasings=["my zorblax money never came back"],
    )
    db.session.commit()
    search.apply_pending_jobs()
    hits = service.search_articles("zorblax", locale="en").hits
    assert [h.slug for h in hits] == ["refund-times"]
    assert "zorblax" not in hits[0].snippet  # the snippet still shows the article's own text


def test_the_phrasing_nearest_in_meaning_stands_out(app):
    body = "Refunds are sent to the original payment method within 5 business days of approval."
    make_article("refund-times", "Refund processing times", body, phrasings=["where is my money back"])
    make_article("gift-cards", "Gift cards", "Buy a gift card.", phrasings=["a voucher for a friend"])
    make_article("opening-hours", "Opening hours", "We answer from 9 to 5.", phrasings=["when are you open"])
    search.apply_pending_jobs()
    found = hybrid.signals("articles", "I still have not got my cash back", "en", {"status": "published"})
    if not found.meaning:
        pytest.skip("the embedding model could not be loaded here")
    ids = {a.slug: str(a.id) for a in db.session.scalars(select(Article))}
    assert max(found.questions, key=found.questions.get) == ids["refund-times"]
    assert found.questions[ids["refund-times"]] > 1.0  # standard deviations above the questions' mean


def test_editors_write_phrasings_one_per_line(client, login):
    login(make_staff(Role.SUPERVISOR, language="en"))
    data = {**NEW_ARTICLE_FORM, "phrasings": "can you wrap it\n\n  is   it a present?  \nCan you wrap it\n"}
    assert client.submit("/agent/kb/new", data).status_code == 303
    article = db.session.scalars(select(Article)).one()
    assert article.phrasings == ["can you wrap it", "is it a present?"]
    page = client.get(f"/agent/kb/{article.id}/edit").get_data(as_text=True)
    assert "can you wrap it\nis it a present?" in page
    too_long = client.submit(f"/agent/kb/{article.id}/edit", {**data, "phrasings": "x" * 201})
    assert too_long.status_code == 400 and "A phrasing is at most 200 characters" in too_long.get_data(
        as_text=True
    )


def test_phrasings_go_through_import_and_export(app):
    record = {"slug": "a", "locale": "en", "title": "A", "body": "x", "phrasings": ["where is it", "wen"]}
    service.import_articles([json.dumps(record)])
    exported = list(service.export_articles())
    assert exported[0]["phrasings"] == ["where is it", "wen"]
    assert service.import_articles([json.dumps(exported[0])])["unchanged"] == 1
    older = {k: v for k, v in record.items() if k != "phrasings"}  # a file from before phrasings
    service.import_articles([json.dumps(older)])
    assert service.article_by_slug("a").phrasings == ["where is it", "wen"]
    with pytest.raises(service.ImportProblem) as problem:
        service.import_articles([json.dumps({**record, "phrasings": "where is it"})])
    assert "phrasings must be a list of text" in problem.value.problems[0]


def _customer_with_an_article(client, login):
    make_article("refund-times", "How long refunds take", "Refunds reach your card in 5 days.")
    search.apply_pending_jobs()
    customer = make_customer()
    login(customer)
    client.submit("/language", {"language": "en"})
    return customer


def _solved(client, article_url: str, typed: str) -> None:
    article_page = client.get(article_url).get_data(as_text=True)
    assert "This solved my problem" in article_page
    hidden = re.search(r'name="query" type="hidden" value="([^"]*)"', article_page)
    assert hidden is not None and hidden.group(1) == typed
    assert client.submit("/kb/refund-times/solved", {"query": hidden.group(1)}).status_code == 303


def _solved_after_searching(client, query: str) -> None:
    page = client.get("/kb/search", query_string={"q": query}).get_data(as_text=True)
    link = re.search(r'href="(/kb/refund-times\?q=[^"]+)"', page)
    assert link, "the result links to the article with the customer's words"
    _solved(client, link.group(1).replace("&amp;", "&"), query)


def test_a_search_that_answered_a_customer_is_suggested_and_an_editor_accepts_or_dismisses(client, login):
    _customer_with_an_article(client, login)
    _solved_after_searching(client, "refunds zorblax")
    _solved_after_searching(client, "refunds zorblax")  # the same words are suggested once
    _solved_after_searching(client, "refunds for 0501234567")
    client.post("/logout", data={"csrf_token": client.csrf_token()})
    article = service.article_by_slug("refund-times")
    assert article.phrasings == []  # nothing is added without an editor

    login(make_staff(Role.SUPERVISOR, language="en"))
    page = client.get(f"/agent/kb/{article.id}/edit").get_data(as_text=True)
    assert "Suggested phrasings" in page
    assert page.count("refunds zorblax") == 1 and "refunds for 0501234567" in page
    wanted, personal = [s.id for s in service.phrasing_suggestions(article)]
    accepted = client.submit(f"/agent/kb/{article.id}/suggestions/{wanted}", {"decision": "accept"})
    assert accepted.status_code == 303
    dismissed = client.submit(f"/agent/kb/{article.id}/suggestions/{personal}", {"decision": "dismiss"})
    assert dismissed.status_code == 303
    db.session.refresh(article)
    assert article.phrasings == ["refunds zorblax"]
    assert service.phrasing_suggestions(article) == []
    assert "Suggested phrasings" not in client.get(f"/agent/kb/{article.id}/edit").get_data(as_text=True)
    # The deflections still count (the deflection rate); only the review is recorded.
    assert db.session.query(Deflection).filter(Deflection.phrasing_reviewed.is_(True)).count() == 3
    search.apply_pending_jobs()
    assert [h.slug for h in service.search_articles("zorblax", locale="en").hits] == ["refund-times"]


def test_case_form_words_are_suggested_and_a_customers_erasure_takes_them_out(client, login):
    customer = _customer_with_an_article(client, login)
    client.get("/kb/suggest", query_string={"subject": "refunds late", "body": "two weeks now"})
    _solved(client, "/kb/refund-times?from=case_form", "refunds late")
    article = service.article_by_slug("refund-times")
    assert [s.query for s in service.phrasing_suggestions(article)] == ["refunds late"]
    privacy.erase_customer(customer, actor=make_staff(Role.ADMIN))
    db.session.commit()
    assert service.phrasing_suggestions(article) == []


def test_an_index_built_before_phrasings_keeps_working_until_reindexed(app):
    from whoosh.filedb.filestore import FileStorage

    from helpdesk.kb.search_index import article_schema
    from helpdesk.search.backend import uses_postgres
    from helpdesk.search.indexer import index_dir

    if uses_postgres():
        pytest.skip("the Whoosh backend's index files only")
    older = article_schema()
    older.remove("phrasings")
    index_dir("articles").mkdir(parents=True)
    FileStorage(str(index_dir("articles"))).create_index(older, indexname="articles")
    make_article("refund-times", "Refund times", "Five days.", phrasings=["where is my money"])
    search.apply_pending_jobs()
    assert [h.slug for h in service.search_articles("refund", locale="en").hits] == ["refund-times"]
    search.reindex(["articles"])
    assert "refund-times" in [h.slug for h in service.search_articles("money", locale="en").hits]


def test_the_demo_articles_carry_their_phrasings(app):
    from helpdesk.demo.loader import load_demo

    load_demo(ticket_count=5)
    with_phrasings = db.session.scalars(select(Article).where(Article.slug == "refund-times-ar")).one()
    assert len(with_phrasings.phrasings) >= 2
    assert sum(bool(a.phrasings) for a in db.session.scalars(select(Article))) >= 70
