"""The knowledge-base API: articles (drafts too, for staff tools) and the Arabic/English search."""

from __future__ import annotations

import pytest

from helpdesk import search
from helpdesk.extensions import db
from helpdesk.kb.models import Article, ArticleStatus
from tests.api.api_helpers import ApiClient, api_token
from tests.factories import count_queries


@pytest.fixture
def api(client):
    _staff, secret = api_token()
    return ApiClient(client, secret)


def add_article(slug: str, locale: str, title: str, body: str, status=ArticleStatus.PUBLISHED) -> Article:
    article = Article(slug=slug, locale=locale, title=title, body_md=body, status=status, tags=["t"])
    db.session.add(article)
    db.session.commit()
    return article


def test_articles_are_listed_paged_and_read_by_slug(api):
    english = add_article("returns", "en", "How to return an item", "Within 14 days.")
    add_article("returns-ar", "ar", "كيف أرجع المنتج", "خلال ١٤ يوماً.").translation_of = english
    add_article("draft", "en", "Unfinished", "…", status=ArticleStatus.DRAFT)
    db.session.commit()

    first = api.get("/api/v1/kb/articles?limit=2").get_json()
    assert [a["slug"] for a in first["items"]] == ["draft", "returns-ar"]
    rest = api.get(f"/api/v1/kb/articles?limit=2&cursor={first['next_cursor']}").get_json()
    assert [a["slug"] for a in rest["items"]] == ["returns"] and rest["next_cursor"] is None
    assert [a["slug"] for a in api.get("/api/v1/kb/articles?locale=ar").get_json()["items"]] == ["returns-ar"]
    assert api.get("/api/v1/kb/articles?status=draft").get_json()["items"][0]["status"] == "draft"

    article = api.get("/api/v1/kb/articles/returns-ar").get_json()
    assert article["translation_of"] == "returns" and article["body_md"] == "خلال ١٤ يوماً."
    missing = api.get("/api/v1/kb/articles/nope")
    assert missing.status_code == 404 and "nope" in missing.get_json()["message"]
    assert api.get("/api/v1/kb/articles?locale=fr").status_code == 422


def test_search_finds_arabic_spellings_and_leaves_drafts_out(api):
    add_article("cod", "ar", "الدفع عند الاستلام", "ادفع نقداً عند وصول الطلب.")
    add_article("cod-draft", "ar", "الدفع عند الاستلام (مسودة)", "…", status=ArticleStatus.DRAFT)
    search.apply_pending_jobs()
    hits = api.get("/api/v1/kb/search?q=دفع الإستلام&locale=ar").get_json()
    assert [h["slug"] for h in hits] == ["cod"]
    assert set(hits[0]) == {"slug", "title", "locale", "score", "snippet"}
    assert api.get("/api/v1/kb/search").status_code == 422  # q is required


def test_the_kb_api_needs_a_token_and_a_fixed_number_of_queries(api, client):
    assert client.get("/api/v1/kb/articles").status_code == 401
    for n in range(30):
        add_article(f"a{n}", "en", f"Article {n}", "body")
    with count_queries() as statements:
        assert len(api.get("/api/v1/kb/articles?limit=100").get_json()["items"]) == 30
    assert len(statements) <= 4
