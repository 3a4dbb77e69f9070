"""The agent's workflow in Chromium: what an agent sees while replying."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, use_language


def ticket_without_order(live_server, subject: str) -> str:
    """A new ticket from a demo customer that names no order: no status, carrier or tracking."""
    from helpdesk.auth.service import find_customer
    from helpdesk.extensions import db
    from helpdesk.tickets import service
    from helpdesk.transaction import unit_of_work

    with live_server.app().app_context():
        customer = find_customer("customer30@demo.test")
        with unit_of_work():
            ticket = service.open_ticket(customer=customer, subject=subject, body="Any news?")
        number = ticket.number
        db.session.remove()
    return number


def agent_on_new_ticket(new_page, live_server, locale: str, subject: str, email: str):
    """An agent signed in, in ``locale``, on a ticket just opened: the page and its number."""
    number = ticket_without_order(live_server, subject)
    agent = new_page(locale)
    sign_in(agent, email, staff=True)
    use_language(agent, locale)
    agent.goto(f"/agent/tickets/{number}")
    return agent, number


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_a_macro_missing_order_details_is_marked_and_cannot_be_sent(new_page, live_server, locale):
    subject = f"Any news {locale}"
    agent, _number = agent_on_new_ticket(new_page, live_server, locale, subject, "agent2@demo.test")
    warning = agent.locator("#macro-unfilled")
    expect(warning).to_be_hidden()
    agent.select_option("#macro-select", label="Order shipped")
    agent.click("[data-macro-text]")
    body = agent.locator('#reply-form textarea[name="body"]')
    expect(body).to_have_value(re.compile(r"\{\{ order_status \}\}"))
    assert "—" not in body.input_value()
    expect(warning).to_be_visible()

    agent.click("#reply-form button[type=submit]")
    agent.wait_for_load_state()
    error = agent.locator("#reply-form .field-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("{{ carrier }}")
    assert "{{ tracking_number }}" in body.input_value()  # the text is kept to complete
    expect(agent.locator(".thread article.message")).to_have_count(1)  # only the customer's message


def test_a_long_subject_is_kept_whole_or_refused_with_a_message_never_cut(new_page):
    customer = new_page("en")
    sign_in(customer, "customer31@demo.test", staff=False)
    use_language(customer, "en")
    customer.goto("/portal/cases/new?type=other")
    # The browser would cut a pasted text at a maxlength without a word: the server says it instead.
    assert customer.get_attribute("input[name=subject]", "maxlength") is None
    long_subject = "Parcel " + "very " * 44 + "late"  # 231 characters
    customer.fill("input[name=subject]", long_subject)
    assert customer.input_value("input[name=subject]") == long_subject
    customer.fill("textarea[name=body]", "It has not come.")
    customer.click("form:has(textarea[name=body]) button[type=submit]")
    customer.wait_for_url(re.compile(r"/portal/cases/HD-\d+"))
    expect(customer.locator("main")).to_contain_text(long_subject)

    customer.goto("/portal/cases/new?type=other")
    too_long = "x" * 300
    customer.fill("input[name=subject]", too_long)
    customer.fill("textarea[name=body]", "Too long a subject.")
    customer.click("form:has(textarea[name=body]) button[type=submit]")
    error = customer.locator(".field.has-error .field-error")
    expect(error).to_contain_text("at most 255")
    assert customer.input_value("input[name=subject]") == too_long


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_claim_then_reply_and_solve_in_one_submit_each_says_it_worked(new_page, live_server, locale):
    subject = f"Gift wrapping {locale}"
    agent, number = agent_on_new_ticket(new_page, live_server, locale, subject, "agent3@demo.test")
    agent.click("#claim-form button[type=submit]")
    flash = agent.locator(".flashes .flash-success")
    expect(flash).to_contain_text(number)
    agent.fill('#reply-form textarea[name="body"]', "Yes, we wrap gifts for free.")
    agent.click('#reply-form button[name="then_status"][value="solved"]')
    expect(flash).to_contain_text("محلولة" if locale == "ar" else "Solved")
    expect(agent.locator(".page-head .badge.status-solved")).to_be_visible()
    expect(agent.locator(".thread article.message")).to_have_count(2)
