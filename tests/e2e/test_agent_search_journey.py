"""Agent search in Chromium: live results while typing, and a ticket number typed on the queue page
opening the ticket."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, use_language
from tests.e2e.test_journeys import open_case

TYPED = {"ar": ("خلاط مكسور تماما", "خلاط"), "en": ("Blender arrived shattered", "shatter")}


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_agent_finds_a_case_while_typing_and_jumps_by_number(new_page, locale):
    customer = new_page(locale)
    sign_in(customer, "customer21@demo.test" if locale == "ar" else "customer22@demo.test", staff=False)
    subject, query = TYPED[locale]
    number = open_case(customer, subject, "Please send a new one.")

    agent = new_page(locale)
    sign_in(agent, "agent3@demo.test" if locale == "ar" else "agent4@demo.test", staff=True)
    use_language(agent, locale)
    agent.goto("/agent/search")
    # The worker thread applies the index job within a couple of seconds; type until it has.
    expect(agent.locator("#search-results")).to_be_attached()
    for _attempt in range(10):
        agent.fill("#agent-q", "")
        agent.type("#agent-q", query, delay=20)
        try:
            expect(agent.locator("#search-results")).to_contain_text(number, timeout=2000)
            break
        except AssertionError:
            continue
    expect(agent.locator("#search-results mark").first).to_be_visible()
    assert "/agent/search" in agent.url  # the results came in place, without a page load

    agent.goto("/agent")
    agent.fill("form.agent-search input[name=q]", number.lower())
    agent.press("form.agent-search input[name=q]", "Enter")
    agent.wait_for_url(re.compile(rf"/agent/tickets/{number}$"))
    expect(agent.locator("main")).to_contain_text("Please send a new one.")
