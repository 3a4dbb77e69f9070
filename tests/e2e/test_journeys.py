"""Journeys through the real server in Chromium, in Arabic and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, use_language

LANGUAGES = ["ar", "en"]


def open_case(page, subject: str, body: str, attachment: bool = False) -> str:
    """Choose "something else" as the request type, then fill the case form; returns the case number."""
    page.goto("/portal/cases/new")
    page.check("input[name=type][value=other]")
    page.click("form.type-chooser button[type=submit]")
    page.fill("input[name=subject]", subject)
    page.fill("textarea[name=body]", body)
    if attachment:
        page.set_input_files(
            "input[name=files]",
            files=[{"name": "receipt.txt", "mimeType": "text/plain", "buffer": b"order SO-1 receipt"}],
        )
    page.click("form:has(textarea[name=body]) button[type=submit]")
    page.wait_for_url(re.compile(r"/portal/cases/HD-\d+"))
    return page.url.rsplit("/", 1)[-1]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_customer_opens_a_case_with_an_attachment_and_follows_it(new_page, locale):
    customer = new_page(locale)
    sign_in(customer, "customer11@demo.test" if locale == "ar" else "customer12@demo.test", staff=False)
    use_language(customer, locale)
    subject = f"Broken zipper {locale}"
    number = open_case(customer, subject, "The zipper broke on the first day.", attachment=True)
    expect(customer.locator("main")).to_contain_text("receipt.txt")

    customer.goto("/portal/cases")
    row = customer.locator("tr", has_text=subject)
    expect(row).to_contain_text(number)
    row.get_by_role("link").first.click()
    expect(customer.locator("main")).to_contain_text("The zipper broke on the first day.")


SEARCHES = {"ar": ("الدفع عند الاستلام", "وين طلبي"), "en": ("cash on delivery", "where is my order")}


def deflections(live_server) -> int:
    from sqlalchemy import func, select

    from helpdesk.extensions import db
    from helpdesk.kb.models import Deflection

    with live_server.app().app_context():
        return db.session.scalar(select(func.count(Deflection.id)))


@pytest.mark.parametrize("locale", LANGUAGES)
def test_customer_searches_then_an_article_answers_the_case_before_it_is_opened(
    new_page, live_server, locale
):
    page = new_page(locale)
    sign_in(page, "customer51@demo.test" if locale == "ar" else "customer52@demo.test", staff=False)
    use_language(page, locale)
    home_query, case_subject = SEARCHES[locale]
    page.goto("/")
    page.fill("main input[name=q]", home_query)
    page.press("main input[name=q]", "Enter")
    expect(page.locator("main a[href^='/kb/']").first).to_be_visible()

    before = deflections(live_server)
    page.goto("/portal/cases/new?type=other")
    page.locator("input[name=subject]").press_sequentially(case_subject, delay=30)
    suggestion = page.locator("#kb-suggestions a[href*='/kb/']").first
    expect(suggestion).to_be_visible()
    suggestion.click()
    page.click("form[action$='/solved'] button[type=submit]")
    page.wait_for_load_state()
    assert deflections(live_server) == before + 1


@pytest.mark.parametrize("locale", LANGUAGES)
def test_agent_claims_a_new_case_and_replies(new_page, locale):
    customer = new_page(locale)
    sign_in(customer, "customer21@demo.test" if locale == "ar" else "customer22@demo.test", staff=False)
    subject = f"Where is my parcel {locale}"
    number = open_case(customer, subject, "It has been a week.")

    agent = new_page(locale)
    sign_in(agent, "agent1@demo.test" if locale == "ar" else "agent2@demo.test", staff=True)
    use_language(agent, locale)
    agent.goto("/agent?view=unassigned")
    agent.get_by_role("link", name=number).first.click()
    expect(agent.locator("main")).to_contain_text("It has been a week.")
    agent.click("form[action$='/claim'] button[type=submit]")
    agent.fill("textarea[name=body]", "Your parcel is with the courier and arrives tomorrow.")
    agent.click("form:has(textarea[name=body]) button[type=submit]")
    expect(agent.locator("main")).to_contain_text("arrives tomorrow")

    agent.goto("/agent?view=mine")
    expect(agent.locator("main")).to_contain_text(number)

    customer.goto(f"/portal/cases/{number}")
    expect(customer.locator("main")).to_contain_text("arrives tomorrow")

    agent.goto(f"/agent/tickets/{number}")
    agent.select_option("select[name=status]", "solved")
    agent.click("form:has(select[name=status]) button[type=submit]")
    agent.wait_for_load_state()
    customer.goto(f"/portal/cases/{number}")
    customer.check("input[name=score][value='5']")
    customer.fill("textarea[name=comment]", "Quick and clear")
    customer.click("form:has(input[name=score]) button[type=submit]")
    expect(customer.locator(".csat p").first).to_contain_text("5")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_supervisor_filters_the_dashboard_and_downloads_a_csv(new_page, locale):
    page = new_page(locale)
    sign_in(page, "supervisor@demo.test", staff=True)
    use_language(page, locale)
    page.goto("/reports")
    charts = page.locator("main img[src*='/reports/chart/']")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 4
    # Compliance by request type, and by a dropdown field (the demo's reason for return), by name.
    by_type = page.locator("#table-by_type")
    expect(by_type).to_contain_text("إرجاع منتج" if locale == "ar" else "Return an item")
    expect(page.locator("#table-by_field caption")).to_contain_text(
        "سبب الإرجاع" if locale == "ar" else "Reason"
    )
    page.select_option("select[name=queue]", index=1)
    page.click("form:has(select[name=queue]) button[type=submit]")
    assert re.search(r"queue=\d+", page.url)
    with page.expect_download() as download:
        page.locator("a[href*='/reports/export/']").first.click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".csv")
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) >= 2 and "," in lines[0]


def test_without_javascript_a_customer_opens_a_case_and_replies(new_page):
    page = new_page("en", javascript=False)
    sign_in(page, "customer31@demo.test", staff=False)
    number = open_case(page, "No JavaScript here", "Plain HTML form.")
    page.fill("textarea[name=body]", "A follow-up without scripts.")
    page.click("form:has(textarea[name=body]) button[type=submit]")
    page.wait_for_load_state()
    assert number in page.url
    expect(page.locator("main")).to_contain_text("A follow-up without scripts.")


TYPED_SUBJECTS = {"ar": "وصلني المنتج مكسور", "en": "The item arrived broken"}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_after_choosing_a_type_suggestions_come_while_typing_and_other_gives_the_plain_form(new_page, locale):
    page = new_page(locale)
    sign_in(page, "customer53@demo.test" if locale == "ar" else "customer54@demo.test", staff=False)
    use_language(page, locale)
    page.goto("/portal/cases/new")
    page.check("input[name=type][value=return]")
    page.click("form.type-chooser button[type=submit]")
    expect(page.locator(".case-type strong")).to_have_text(
        "إرجاع منتج" if locale == "ar" else "Return an item"
    )
    expect(page.locator("#type-fields select[name=cf-reason]")).to_be_visible()
    page.locator("input[name=subject]").press_sequentially(TYPED_SUBJECTS[locale], delay=30)
    suggestion = page.locator("#kb-suggestions a[href*='/kb/']").first
    expect(suggestion).to_be_visible()
    # The type's own fields still answer while the suggestions show.
    page.select_option("#type-fields select[name=cf-reason]", "damaged")
    expect(page.locator("#type-fields [name=cf-photos_sent]")).to_be_visible()
    expect(suggestion).to_be_visible()

    page.goto("/portal/cases/new")
    page.check("input[name=type][value=other]")
    page.click("form.type-chooser button[type=submit]")
    expect(page.locator("input[name=subject]")).to_be_visible()
    expect(page.locator("textarea[name=body]")).to_be_visible()
    assert page.locator("#type-fields").count() == 0 and page.locator(".case-type").count() == 0
    page.locator("textarea[name=body]").press_sequentially(TYPED_SUBJECTS[locale], delay=30)
    expect(page.locator("#kb-suggestions a[href*='/kb/']").first).to_be_visible()
