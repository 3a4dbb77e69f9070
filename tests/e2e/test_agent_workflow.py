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

    with live_server.app().app_context():
        customer = find_customer("customer30@demo.test")
        ticket = service.open_ticket(customer=customer, subject=subject, body="Any news?")
        number = ticket.number
        db.session.remove()
    return number


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_a_macro_missing_order_details_is_marked_and_cannot_be_sent(new_page, live_server, locale):
    number = ticket_without_order(live_server, f"Any news {locale}")
    agent = new_page(locale)
    sign_in(agent, "agent2@demo.test", staff=True)
    use_language(agent, locale)
    agent.goto(f"/agent/tickets/{number}")
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
