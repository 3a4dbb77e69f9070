"""The agent's suggested answers in Chromium: loaded after the ticket page, an article's link and a
macro (its placeholders filled) put into the reply box with one click each."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import script_arrives_late, sign_in, use_language
from tests.e2e.test_journeys import open_case

# Buttons that work only through workspace.js (and, to insert, a reply box on the page).
NEED_THE_SCRIPT = "[data-shortcut-help], [data-macro-text], [data-insert-link], [data-insert-macro]"

CASES = {
    "ar": ("الدفع ما مشى", "حاولت ادفع بالبطاقة وطلع لي ان العملية مرفوضة، ايش اسوي؟", "payment-declined-ar"),
    "en": (
        "Card keeps getting rejected",
        "I tried to pay three times and the bank declined it.",
        "payment-declined",
    ),
}


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_agent_inserts_a_suggested_article_and_macro_into_the_reply(new_page, locale):
    subject, body, article = CASES[locale]
    customer = new_page(locale)
    sign_in(customer, "customer23@demo.test" if locale == "ar" else "customer24@demo.test", staff=False)
    number = open_case(customer, subject, body)

    agent = new_page(locale)
    sign_in(agent, "agent5@demo.test" if locale == "ar" else "agent6@demo.test", staff=True)
    use_language(agent, locale)
    script_arrives_late(agent, "workspace.js")  # its buttons appear when it has run
    agent.goto(f"/agent/tickets/{number}")
    panel = agent.locator("section.suggested-answers")
    expect(panel.locator(f'[data-insert-link$="/kb/{article}"]')).to_be_visible()
    reply = agent.locator('#reply-form textarea[name="body"]')
    panel.locator(f'[data-insert-link$="/kb/{article}"]').click()
    expect(reply).to_have_value(re.compile(rf"/kb/{article}"))
    panel.locator("[data-insert-macro]").first.click()
    expect(reply).to_have_value(re.compile(r"\n\n\S"))  # the macro's text follows the link
    assert "{{ customer_first_name }}" not in reply.input_value()
    expect(agent.locator("[data-shortcut-help]")).to_be_visible()
    expect(panel.locator("[data-fallback]").first).to_be_hidden()  # the buttons replace them

    # The article search is in the language the customer wrote, whatever language the agent types.
    search = agent.locator("section.kb-links")
    expect(search.locator("#article-lang")).to_have_value(locale)
    search.locator("#article-q").fill("refund" if locale == "ar" else "استرداد")
    links = search.locator("#article-results [data-insert-link]")
    expect(links.first).to_be_visible()
    assert {link.get_attribute("data-insert-link").endswith("-ar") for link in links.all()} == {
        locale == "ar"
    }
    search.locator("#article-lang").select_option("en" if locale == "ar" else "ar")  # the other one
    other = "" if locale == "ar" else "-ar"
    expect(search.locator(f'#article-results [data-insert-link$="/kb/refund-times{other}"]')).to_be_visible()

    # Without JavaScript no button that would do nothing is shown (the CSS once let .button outrank
    # [hidden]); the suggested answers' own page gives the link and the macro's text to copy.
    plain = new_page(locale, javascript=False)
    sign_in(plain, "agent5@demo.test" if locale == "ar" else "agent6@demo.test", staff=True)
    for url in (f"/agent/tickets/{number}", f"/agent/tickets/{number}/suggested"):
        plain.goto(url)
        shown = [b.inner_text() for b in plain.locator(NEED_THE_SCRIPT).all() if b.is_visible()]
        assert not shown, f"{url}: {shown}"
    expect(plain.locator(f'code[data-fallback]:has-text("/kb/{article}")')).to_be_visible()
    expect(plain.locator("details[data-fallback]").first).to_be_visible()
