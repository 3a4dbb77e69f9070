"""Where things sit on the screen: the ticket page's three zones on a laptop (1366×768), one column
with the conversation first on a phone; the queue's tickets before its views and filters on a phone;
the case form's suggestions above its Send button. Both languages (Arabic mirrors the zones)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, sign_in, use_language

LAPTOP = {"width": 1366, "height": 768}
TYPED = {"ar": "وين طلبي", "en": "where is my order"}


@pytest.fixture
def ticket_with_orders(live_server) -> str:
    """An open ticket about an order, whose customer has orders: the panel has something to show."""
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Status, Ticket

    with live_server.app().app_context():
        ticket = db.session.scalars(
            db.select(Ticket)
            .where(Ticket.order_id.is_not(None), Ticket.status.in_([Status.NEW, Status.OPEN, Status.PENDING]))
            .order_by(Ticket.id)
        ).first()
        return f"/agent/tickets/{ticket.number}"


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found, f"{selector} is not shown"
    return found


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_ticket_page_shows_three_zones_on_a_laptop(new_page, locale, ticket_with_orders):
    page = new_page(locale, viewport=LAPTOP)
    sign_in(page, "agent1@demo.test", staff=True)
    use_language(page, locale)
    page.goto(ticket_with_orders)
    thread, props, customer = (box(page, s) for s in (".thread", ".side-panel", ".customer-zone"))
    # Side by side, none overlapping: properties on the reading start, the customer on the end.
    start, end = (props, customer) if locale == "en" else (customer, props)
    assert start["x"] + start["width"] <= thread["x"]
    assert thread["x"] + thread["width"] <= end["x"]
    assert end["x"] + end["width"] <= LAPTOP["width"]
    assert thread["width"] > max(props["width"], customer["width"])
    # Without scrolling: the first message, the status field, the customer and their first order's status.
    for selector in (
        ".thread .message",
        ".side-panel select[name=status]",
        ".customer-panel h2",
        ".customer-panel .orders .order-status",
    ):
        found = box(page, selector)
        assert found["y"] >= 0 and found["y"] + found["height"] <= LAPTOP["height"], selector
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_ticket_page_on_a_phone_is_one_column_with_the_conversation_first(
    new_page, locale, ticket_with_orders
):
    page = new_page(locale, viewport=PHONE)
    sign_in(page, "agent1@demo.test", staff=True)
    use_language(page, locale)
    page.goto(ticket_with_orders)
    thread, props, customer = (box(page, s) for s in (".thread", ".side-panel", ".customer-zone"))
    assert thread["y"] < props["y"] < customer["y"]
    for zone in (thread, props, customer):
        assert zone["x"] >= 0 and zone["x"] + zone["width"] <= PHONE["width"]
    assert box(page, ".thread .message")["y"] < PHONE["height"]


def open_queue(new_page, locale: str, viewport: dict, javascript: bool = True):
    """The open tickets' queue as agent1 sees it on this screen."""
    page = new_page(locale, viewport=viewport, javascript=javascript)
    sign_in(page, "agent1@demo.test", staff=True)
    use_language(page, locale)
    page.goto("/agent?view=open")
    return page


def views_and_filters_shown(page) -> None:
    expect(page.locator("#view-list")).to_be_visible()
    expect(page.locator("#queue-filters select[name=status]")).to_be_visible()
    expect(page.locator(".queue-options > summary")).to_be_hidden()


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_queue_on_a_phone_shows_tickets_first_with_views_and_filters_behind_a_toggle(new_page, locale):
    page = open_queue(new_page, locale, PHONE)
    first_row = box(page, ".ticket-row")
    assert first_row["y"] + 40 < PHONE["height"], "the first ticket is not on the first screen"
    expect(page.locator("#queue-filters select[name=status]")).to_be_hidden()
    expect(page.locator("#view-list")).to_be_hidden()
    page.locator(".queue-options > summary").click()
    expect(page.locator("#queue-filters select[name=status]")).to_be_visible()
    page.locator(".views-disclosure > summary").click()
    expect(page.locator("#view-list a[href$='view=unassigned']")).to_be_visible()

    laptop = open_queue(new_page, locale, LAPTOP)
    views_and_filters_shown(laptop)
    assert box(laptop, ".ticket-row")["y"] + 40 < LAPTOP["height"]


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_queue_views_and_filters_start_collapsed_on_a_phone_without_javascript(new_page, locale):
    """Closed in the HTML itself: no script has to run for a phone to show the tickets first, and the
    native disclosure opens them; a laptop without JavaScript still shows views and filters."""
    page = open_queue(new_page, locale, PHONE, javascript=False)
    assert page.locator(".queue-options").get_attribute("open") is None
    expect(page.locator("#queue-filters select[name=status]")).to_be_hidden()
    expect(page.locator("#view-list")).to_be_hidden()
    assert box(page, ".ticket-row")["y"] + 40 < PHONE["height"], "the first ticket is not on the first screen"
    page.locator(".queue-options > summary").click()
    expect(page.locator("#queue-filters select[name=status]")).to_be_visible()
    page.locator("#queue-filters select[name=status]").select_option("pending")
    page.locator("#queue-filters button[type=submit]").click()  # a plain GET form: works without scripts
    page.wait_for_url("**status=pending**")
    page.locator(".views-disclosure > summary").click()
    expect(page.locator("#view-list a[href$='view=unassigned']")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    views_and_filters_shown(open_queue(new_page, locale, LAPTOP, javascript=False))


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_case_form_suggestions_appear_above_send_on_a_phone(new_page, locale, live_server):
    page = new_page(locale, viewport=PHONE)
    sign_in(page, "customer1@demo.test", staff=False)
    use_language(page, locale)
    page.goto("/portal/cases/new?type=other")
    page.wait_for_load_state("load")
    page.locator("input[name=subject]").press_sequentially(TYPED[locale], delay=20)
    suggestion = page.locator("#kb-suggestions a").first
    suggestion.wait_for()
    send = page.locator("#case-form button[type=submit]")
    suggestions = box(page, "#kb-suggestions .kb-suggestions")
    body = box(page, "#case-form textarea[name=body]")
    assert body["y"] < suggestions["y"]
    assert suggestions["y"] + suggestions["height"] <= send.bounding_box()["y"]
