"""Public KB pages, the search endpoint, case-form suggestions, deflection, feedback, staff editor."""

import json

from sqlalchemy import func, select

from helpdesk import search
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.kb import service
from helpdesk.kb.models import Article, ArticleFeedback, ArticleStatus, ArticleView, Deflection, SearchEvent
from helpdesk.tickets.models import Ticket
from tests.factories import NEW_ARTICLE_FORM, make_article, make_staff


def add(slug, title, body, locale="en", status=ArticleStatus.PUBLISHED, translation_of=None) -> Article:
    return make_article(slug, title, body, locale=locale, status=status, translation_of=translation_of)


def kb_fixture():
    en = add("refund-times", "How long refunds take", "Refunds reach your **card** in 5 days.")
    add(
        "refund-times-ar",
        "مدة استرداد المبلغ",
        "يصل المبلغ إلى بطاقتك خلال ٥ أيام.",
        locale="ar",
        translation_of=en,
    )
    add("secret-draft", "Refund draft", "Not yet.", status=ArticleStatus.DRAFT)
    search.apply_pending_jobs()
    return en


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_search_answers_json_and_records_the_search(client):
    kb_fixture()
    response = client.get("/kb/search?q=refunds&locale=en", headers={"Accept": "application/json"})
    data = response.get_json()
    assert [d["slug"] for d in data] == ["refund-times"]
    assert set(data[0]) == {"slug", "title", "locale", "score", "snippet"}
    assert "<mark" in data[0]["snippet"]
    assert client.get("/kb/search?q=zzzqqq&format=json").get_json() == []
    events = db.session.scalars(select(SearchEvent).order_by(SearchEvent.id)).all()
    assert [(e.query, e.result_count) for e in events] == [("refunds", 1), ("zzzqqq", 0)]
    assert service.zero_result_searches()[0][0] == "zzzqqq"


def test_search_page_renders_in_arabic_and_refuses_a_bad_locale(client, queries):
    kb_fixture()
    with queries() as statements:
        page = client.get("/kb/search?q=استرداد")
    assert page.status_code == 200 and 'dir="rtl"' in page.get_data(as_text=True)
    assert "مدة استرداد المبلغ" in page.get_data(as_text=True)
    assert len(statements) <= 6
    assert client.get("/kb/search?q=x&locale=fr").status_code == 400


def test_the_search_page_lists_the_readers_version_once_and_offers_every_language(client):
    kb_fixture()
    english = {"Accept-Language": "en"}
    page = client.get("/kb/search", query_string={"q": "refund استرداد"}, headers=english)
    text = page.get_data(as_text=True)
    assert "How long refunds take" in text and "مدة استرداد المبلغ" not in text  # one article, once
    every = client.get("/kb/search", query_string={"q": "refund استرداد", "locale": "any"}, headers=english)
    text = every.get_data(as_text=True)
    assert "How long refunds take" in text and "مدة استرداد المبلغ" in text
    assert "Search articles in every language" not in text
    assert "locale=any" in page.get_data(as_text=True)


def test_drafts_are_not_found_or_shown_to_customers(client):
    kb_fixture()
    assert "Refund draft" not in client.get("/kb/search?q=draft").get_data(as_text=True)
    assert client.get("/kb/secret-draft").status_code == 404


def test_article_page_counts_views_links_translation_and_takes_feedback(client, queries):
    article = kb_fixture()
    with queries() as statements:
        page = client.get("/kb/refund-times").get_data(as_text=True)
    assert len(statements) <= 12
    assert "<strong>card</strong>" in page and "/kb/refund-times-ar" in page
    assert 'id="feedback"' in page and "kb-deflect" not in page  # "Was this helpful?" only
    db.session.refresh(article)
    assert article.view_count == 1
    response = client.submit("/kb/refund-times/feedback", {"helpful": "no", "comment": "Too vague"})
    assert response.status_code == 303
    feedback = db.session.scalars(select(ArticleFeedback)).one()
    assert (feedback.helpful, feedback.comment) == (False, "Too vague")
    assert client.submit("/kb/refund-times/feedback", {"helpful": "maybe"}).status_code == 400


def test_case_form_suggests_articles_and_deflection_opens_no_case(client, login_as, queries):
    kb_fixture()
    login_as("customer")
    client.submit("/language", {"language": "en"})
    with queries() as statements:
        fragment = client.get("/kb/suggest?subject=refund&body=when", headers={"HX-Request": "true"})
    assert len(statements) <= 6
    assert "/kb/refund-times?from=case_form" in fragment.get_data(as_text=True)
    client.get("/kb/refund-times?from=case_form")
    page = client.get("/kb/refund-times?from=case_form").get_data(as_text=True)
    assert "This solved my problem" in page
    assert 'id="feedback"' not in page  # one question at a time
    response = client.submit("/kb/refund-times/solved", {"query": "refund"})
    assert response.status_code == 303
    assert count(Deflection) == 1 and count(Ticket) == 0
    assert db.session.scalar(select(func.count()).where(ArticleView.source == "case_form")) == 2


def test_still_need_help_keeps_the_text_and_the_case_counts_viewed_articles(client, login_as):
    kb_fixture()
    login_as("customer")
    client.get("/kb/suggest?subject=Refund+missing&body=It+has+been+two+weeks")
    client.get("/kb/refund-times?from=case_form")
    form = client.get("/portal/cases/new").get_data(as_text=True)
    assert 'value="Refund missing"' in form and "It has been two weeks" in form
    assert 'class="suggest-source"' in form and 'hx-get="/kb/suggest"' in form
    client.submit("/portal/cases/new", {"subject": "Refund missing", "body": "It has been two weeks"})
    assert db.session.scalars(select(Ticket)).one().articles_viewed_before == 1


def test_staff_edit_preview_and_publish_an_article(client, login):
    login(make_staff(Role.SUPERVISOR, language="en"))
    assert client.get("/agent/kb").status_code == 200
    preview = client.submit("/agent/kb/preview", {"body": "**bold** <script>x</script>"})
    assert "<strong>bold</strong>" in preview.get_data(as_text=True)
    assert "<script>" not in preview.get_data(as_text=True)
    assert client.submit("/agent/kb/new", NEW_ARTICLE_FORM).status_code == 303
    article = db.session.scalars(select(Article)).one()
    assert article.tags == ["gift", "wrap"] and article.status == ArticleStatus.PUBLISHED
    twice = {**NEW_ARTICLE_FORM, "title": "Gift wrap 2", "body": "Typed twice."}
    again = client.submit("/agent/kb/new", twice)
    assert again.status_code == 400  # the slug is taken: the editor again, with what was typed
    page = again.get_data(as_text=True)
    assert "Another article already uses this slug." in page and "Typed twice." in page
    assert db.session.scalar(select(func.count(Article.id))) == 1
    search.apply_pending_jobs()
    assert client.get("/kb/search?q=wrapping&format=json").get_json()[0]["slug"] == "gift-wrap"


def test_agents_edit_articles_only_once_an_admin_allows_it(client, login):
    from helpdesk.audit.models import AuditEvent

    agent = make_staff(Role.AGENT, name="Writer Agent")
    admin = make_staff(Role.ADMIN)
    login(agent)
    assert client.get("/agent/kb").status_code == 403
    assert client.submit("/agent/kb/preview", {"body": "x"}).status_code == 403
    assert 'href="/agent/kb"' not in client.get("/agent").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": client.csrf_token()})

    login(admin)
    staff_page = client.get("/admin").get_data(as_text=True)
    assert f'action="/admin/staff/{agent.id}/kb-editor"' in staff_page
    assert client.submit(f"/admin/staff/{agent.id}/kb-editor", {"allowed": "1"}).status_code == 303
    assert agent.can_edit_kb
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.kb_editor_changed")).one()
    assert event.details["allowed"] is True
    client.post("/logout", data={"csrf_token": client.csrf_token()})

    login(agent)
    assert client.get("/agent/kb").status_code == 200
    assert 'href="/agent/kb"' in client.get("/agent").get_data(as_text=True)
    assert client.get("/reports").status_code == 403  # the right is for articles only


def test_import_upserts_by_slug_and_export_round_trips(app):
    lines = [
        json.dumps(
            {
                "slug": "a",
                "locale": "en",
                "title": "A",
                "body": "x",
                "category": "misc",
                "tags": ["t"],
                "translation_of": None,
                "status": "published",
            }
        ),
        json.dumps(
            {
                "slug": "a-ar",
                "locale": "ar",
                "title": "أ",
                "body": "س",
                "category": "misc",
                "tags": [],
                "translation_of": "a",
                "status": "draft",
            }
        ),
    ]
    assert service.import_articles(lines) == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "categories_created": 1,
    }
    exported = [json.dumps(r) for r in service.export_articles()]
    assert service.import_articles(exported)["unchanged"] == 2
    changed = lines[0].replace('"title": "A"', '"title": "B"')
    assert service.import_articles([changed])["updated"] == 1


def test_import_with_a_bad_line_imports_nothing(app):
    import pytest

    good = json.dumps({"slug": "ok", "locale": "en", "title": "T", "body": "b"})
    with pytest.raises(service.ImportProblem) as problem:
        service.import_articles(
            [good, "{not json", json.dumps({"slug": "Bad Slug", "locale": "en", "title": "t", "body": ""})]
        )
    assert "line 2" in problem.value.problems[0]
    assert count(Article) == 0


def test_home_shows_search_categories_and_popular_articles_within_a_query_budget(client, queries):
    from helpdesk.kb.models import Category

    category = Category(slug="returns", name_en="Returns", name_ar="الاسترجاع")
    db.session.add(category)
    article = kb_fixture()
    article.category = category
    db.session.commit()
    client.submit("/language", {"language": "en"})
    with queries() as statements:
        page = client.get("/").get_data(as_text=True)
    assert len(statements) <= 4
    assert 'name="q"' in page and "/kb/category/returns" in page and "How long refunds take" in page
    with queries() as statements:
        listing = client.get("/kb/category/returns").get_data(as_text=True)
    assert len(statements) <= 4 and "How long refunds take" in listing
    assert client.get("/kb/category/nope").status_code == 404


def test_staff_pages_stay_within_query_budgets(client, login, queries):
    for n in range(5):
        add(f"a{n}", f"Article {n}", "Body")
    login(make_staff(Role.ADMIN))
    with queries() as statements:
        assert client.get("/agent/kb").status_code == 200
    assert len(statements) <= 6
    with queries() as statements:
        assert client.get("/agent/kb/1/edit").status_code == 200
    assert len(statements) <= 6
    assert client.get("/agent/kb/999/edit").status_code == 404


def test_an_article_that_begins_with_its_own_title_shows_the_title_once(client):
    add("track", "How to track your order", "## How to track your order\n\nOpen **My orders**.")
    add("setext", "مدة الاسترداد", "مدة  الاسترداد\n=====\n\nخمسة أيام.", locale="ar")
    add("other-heading", "Returns", "## Before you start\n\nKeep the box.")
    search.apply_pending_jobs()
    page = client.get("/kb/track").get_data(as_text=True)
    assert page.count("How to track your order</") == 1  # the page heading, not the body's too
    assert "<strong>My orders</strong>" in page
    assert client.get("/kb/setext").get_data(as_text=True).count("مدة الاسترداد</") == 1
    assert "<h2>Before you start</h2>" in client.get("/kb/other-heading").get_data(as_text=True)
    found = json.loads(client.get("/kb/search?q=track+order&format=json").get_data(as_text=True))
    hit = next(h for h in found if h["slug"] == "track")
    assert "How to track your order" not in hit["snippet"] and hit["snippet"].startswith("Open My")
