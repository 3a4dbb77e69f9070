"""Live updates in Chromium against the real server (`helpdesk serve`: waitress plus the embedded
stream server): two agents on one queue, a customer and an agent on one case, and a dropped network
whose missed events arrive after the reconnect."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WAIT_MS, sign_in, use_language


@pytest.fixture(autouse=True)
def patient_expectations():
    """Assertions wait up to 30 s: a loaded CI machine signs in and renders slowly. (Nothing here
    measures speed; bench/live.py does.)"""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=WAIT_MS)


def _in_app(live_server, work):
    """Run ``work()`` in a unit of work on the server's database (as another process would)."""
    from helpdesk.extensions import db
    from helpdesk.transaction import unit_of_work

    with live_server.app().app_context():
        with unit_of_work():
            result = work()
        db.session.remove()
    return result


def open_case(live_server, email: str, subject: str) -> tuple[str, int]:
    from helpdesk.auth.service import find_customer
    from helpdesk.extensions import db
    from helpdesk.tickets import service

    def open_it():
        ticket = service.open_ticket(customer=find_customer(email), subject=subject, body="Any news?")
        db.session.flush()
        return ticket.number, ticket.id

    return _in_app(live_server, open_it)


def _shot(page, name: str) -> None:
    """With HELPDESK_SCREENSHOTS=<folder>, keep what the person sees at this moment (desktop, phone)."""
    folder = os.environ.get("HELPDESK_SCREENSHOTS")
    if not folder:
        return
    page.screenshot(path=str(Path(folder) / f"{name}-1366.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 740})
    page.screenshot(path=str(Path(folder) / f"{name}-375.png"), full_page=True)
    page.set_viewport_size(size)


def _page(new_page, locale: str):
    page = new_page(locale)
    page.context.set_default_timeout(60_000)
    return page


def agent_page(new_page, email: str, locale: str, path: str):
    page = _page(new_page, locale)
    sign_in(page, email, staff=True)
    use_language(page, locale)
    page.goto(path)
    expect(page.locator("#live")).to_have_attribute("data-state", "stream")
    return page


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_one_agent_claims_and_the_other_agents_queue_updates(new_page, live_server, locale):
    customer = f"customer4{1 if locale == 'ar' else 2}@demo.test"
    queue = f"/agent?view=unassigned&customer={customer}"
    first = agent_page(new_page, "agent1@demo.test", locale, queue)
    second = agent_page(new_page, "agent2@demo.test", locale, queue)
    title = second.title()

    _number, ticket_id = open_case(live_server, customer, f"Live {locale}")
    for page in (first, second):  # the new ticket is inserted in both queues, without a reload
        expect(page.locator(f"#row-{ticket_id}")).to_be_visible()
    expect(second).to_have_title(f"(1) {title}")  # one new unassigned ticket, in the tab's title

    first.click(f"#row-{ticket_id} a[dir=ltr]")
    first.click("#claim-form button")
    first.wait_for_load_state()
    expect(second.locator(f"#row-{ticket_id}")).to_have_count(0)  # no longer unassigned: removed
    expect(second).to_have_title(title)


def test_a_ticked_row_gets_a_notice_instead_of_a_jump(new_page, live_server):
    customer = "customer43@demo.test"
    open_case(live_server, customer, "Already there")
    page = agent_page(new_page, "agent3@demo.test", "en", f"/agent?view=unassigned&customer={customer}")
    page.locator('#queue-results input[name="ticket"]').first.check()
    _number, ticket_id = open_case(live_server, customer, "Arrives while ticking")
    notice = page.locator("#live-notice")
    expect(notice).to_be_visible()
    _shot(page, "live-queue-notice-en")
    expect(page.locator(f"#row-{ticket_id}")).to_have_count(0)
    notice.locator("button").click()
    expect(page.locator(f"#row-{ticket_id}")).to_be_visible()


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_customer_and_agent_see_each_others_messages_live(new_page, live_server, locale):
    email = f"customer4{4 if locale == 'ar' else 5}@demo.test"
    number, _id = open_case(live_server, email, f"Both ways {locale}")
    agent = agent_page(new_page, "agent4@demo.test", locale, f"/agent/tickets/{number}")
    customer = _page(new_page, locale)
    sign_in(customer, email, staff=False)
    use_language(customer, locale)
    customer.goto(f"/portal/cases/{number}")
    expect(customer.locator("#live")).to_have_attribute("data-state", "stream")

    agent.fill('#reply-form textarea[name="body"]', "Draft in progress")
    customer.fill('textarea[name="body"]', "Also, the box was damaged.")
    customer.click("form[action$='/reply'] button[type=submit]")
    customer.wait_for_load_state()
    expect(agent.locator("#thread-messages")).to_contain_text("the box was damaged")
    expect(agent.locator("#customer-wrote")).to_be_visible()  # before they send
    _shot(agent, f"live-reply-warning-{locale}")
    expect(agent.locator('#reply-form textarea[name="body"]')).to_have_value("Draft in progress")

    # The page showed the new message but kept the version the draft was written on: sending it is
    # refused (409) with the reason and the draft kept; the refusal's page carries the version it
    # shows, so sending the draft again, as it stands, goes through.
    reply = agent.locator('#reply-form textarea[name="body"]')
    reply.fill("Sorry: a replacement ships today.")
    agent.click("#reply-form button[type=submit]:not([name])")
    agent.wait_for_load_state()
    expect(agent.locator(".flash-error")).to_be_visible()
    expect(reply).to_have_value("Sorry: a replacement ships today.")
    agent.click("#reply-form button[type=submit]:not([name])")
    agent.wait_for_load_state()
    expect(agent.locator(".flash-error")).to_have_count(0)
    expect(agent.locator("#thread-messages")).to_contain_text("a replacement ships today")
    expect(customer.locator("#case-thread")).to_contain_text("a replacement ships today")


def test_presence_is_live(new_page, live_server):
    number, _id = open_case(live_server, "customer46@demo.test", "Who is here")
    first = agent_page(new_page, "agent1@demo.test", "en", f"/agent/tickets/{number}")
    second = agent_page(new_page, "agent2@demo.test", "en", f"/agent/tickets/{number}")
    expect(first.locator("#presence")).to_contain_text(re.compile("is viewing"))
    second.locator('#reply-form textarea[name="body"]').press_sequentially("Hello")
    expect(first.locator("#presence")).to_contain_text(re.compile("is typing"))


def test_events_missed_while_offline_arrive_after_the_reconnect(new_page, live_server):
    from helpdesk.auth.models import StaffUser
    from helpdesk.extensions import db
    from helpdesk.tickets import replies
    from helpdesk.tickets.models import MessageKind, Ticket

    number, ticket_id = open_case(live_server, "customer47@demo.test", "Laptop asleep")
    page = agent_page(new_page, "agent5@demo.test", "en", f"/agent/tickets/{number}")
    page.evaluate("window.notReloaded = true")  # the event must arrive on this page, not by a reload
    page.context.set_offline(True)

    def note():
        author = db.session.query(StaffUser).filter_by(email="supervisor@demo.test").one()
        ticket = db.session.get(Ticket, ticket_id)
        replies.send_reply(
            ticket,
            author=author,
            body="Written while you were away",
            kind=MessageKind.NOTE,
            expected_version=None,
        )

    _in_app(live_server, note)
    time.sleep(10)
    expect(page.locator("#thread-messages")).not_to_contain_text("Written while you were away")
    page.context.set_offline(False)
    expect(page.locator("#thread-messages")).to_contain_text("Written while you were away")
    expect(page.locator("#live")).to_have_attribute("data-state", "stream")  # reconnected, not polling
    assert page.evaluate("window.notReloaded") is True
