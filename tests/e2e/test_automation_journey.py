"""The "Done when" of automation rules, in Chromium against the real server and its worker: a
supervisor builds "pending 3 days → remind, then close" (English) and "mentions استرجاع → returns
queue" (Arabic) with the editor's value pickers, sees each dry run, saves, and watches both act on the
demo data: the trigger routes a new case at once, the worker's pass (clock moved forward, as the
automation tests do) reminds the customer by email, then closes the case with a note."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, text_of, use_language, wait_for_mail

SHIPPED_REPLACED = 3  # the shipped remind, close and returns rules: this supervisor writes their own


@pytest.fixture
def demo(live_server) -> Iterator[dict]:
    """A demo customer's case left pending four days ago; the shipped rules that would do the same
    job switched off for the test (and back on after it), so the rules built here are the ones acting."""
    from sqlalchemy import select

    from helpdesk.automations import service
    from helpdesk.customers.models import Customer
    from helpdesk.dbtypes import utcnow
    from helpdesk.extensions import db
    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.models import Queue, Status
    from helpdesk.transaction import unit_of_work

    app = live_server.app()
    with app.app_context():
        shipped = [r.id for r in service.rules() if r.actions[0]["type"] in ("email_customer", "add_note")]
        shipped += [r.id for r in service.rules() if r.actions[0]["type"] == "set_queue"]
        assert len(shipped) == SHIPPED_REPLACED
        customer = db.session.scalar(select(Customer).order_by(Customer.id).limit(1))
        with unit_of_work():
            for rule in service.rules():
                if rule.id in shipped:
                    service.set_active(rule, False, actor=None)
            quiet = tickets.open_ticket(customer=customer, subject="Size question", body="Does it run small?")
            tickets.change_status(quiet, Status.PENDING, actor=None, at=utcnow() - timedelta(days=4))
            quiet.updated_at = utcnow() - timedelta(days=4)
        returns = db.session.scalar(select(Queue).where(Queue.slug == "returns"))
        found = {"app": app, "quiet": quiet.number, "customer_id": customer.id, "returns": returns.name_ar}
    yield found
    with app.app_context(), unit_of_work():
        for rule in service.rules():
            if rule.id in shipped:
                service.set_active(rule, True, actor=None)
            elif rule.name.startswith("E2E"):
                service.delete_rule(rule, actor=None)


def choose(page, row: str, choice: str) -> None:
    """Pick a condition or action; htmx swaps in its value picker."""
    select = f"#{row}-condition" if not row.startswith("action-") else f"#{row}-type"
    with page.expect_response(lambda r: "/admin/automations/picker" in r.url):
        page.select_option(select, choice)


def run_worker(app, now) -> None:
    from tests.automations.test_automation_pages import run_worker as one_pass

    with app.app_context():
        one_pass(app, now)


def test_a_supervisor_builds_both_rules_with_the_pickers_and_watches_them_act(new_page, demo, live_server):
    from helpdesk.dbtypes import utcnow

    page = new_page("en")
    sign_in(page, "supervisor@demo.test", staff=True)
    use_language(page, "en")
    expect(page.locator("html.htmx-on")).to_have_count(1)

    # English: remind after 3 days pending.
    page.goto("/admin/automations/new?kind=automation")
    expect(page.locator("button[name=refresh]")).to_be_hidden()  # htmx swaps pickers in instead
    page.fill("input[name=name]", "E2E Remind after 3 days pending")
    choose(page, "all-0", "status:is")
    page.locator("#all-0-picker").get_by_label("Pending", exact=True).check()
    choose(page, "all-1", "hours_since_status_set:at_least")
    page.fill("#all-1-value", "72")
    expect(page.locator("#all-1-unit")).to_have_value("calendar")
    choose(page, "all-2", "tags:lacks")
    page.fill("#all-2-value", "reminded")
    expect(page.locator("#all-2-value")).to_have_attribute("list", "tag-suggestions")
    choose(page, "action-0", "email_customer")
    choose(page, "action-1", "add_tags")
    page.fill("#action-1-value", "reminded")
    page.fill("input[name=subject_en]", "Waiting for your reply")
    page.fill("textarea[name=body_en]", "Hello {{ customer_first_name }}, any news on {{ ticket_number }}?")
    page.fill("input[name=subject_ar]", "بانتظار ردك")
    page.fill(
        "textarea[name=body_ar]", "مرحباً {{ customer_first_name }}، هل من جديد بخصوص {{ ticket_number }}؟"
    )
    page.click("button[name=dry_run]")
    expect(page.locator("#dry-run")).to_contain_text(demo["quiet"])
    expect(page.locator("#all-0-picker input[value=pending]")).to_be_checked()  # kept through the dry run
    page.click("form.admin-form button.primary")
    expect(page.locator(".flash")).to_contain_text("E2E Remind after 3 days pending")

    # English: close four days after the reminder.
    page.goto("/admin/automations/new?kind=automation")
    page.fill("input[name=name]", "E2E Close 4 days after the reminder")
    choose(page, "all-0", "status:is")
    page.locator("#all-0-picker").get_by_label("Pending", exact=True).check()
    choose(page, "all-1", "tags:has")
    page.fill("#all-1-value", "reminded")
    choose(page, "all-2", "hours_since_updated:at_least")
    page.fill("#all-2-value", "96")
    choose(page, "action-0", "add_note")
    page.fill("#action-0-value", "No reply four days after the reminder.")
    choose(page, "action-1", "set_status")
    page.select_option("#action-1-value", label="Closed")
    page.click("form.admin-form button.primary")
    expect(page.locator(".flash")).to_contain_text("E2E Close 4 days after the reminder")

    # Arabic: a message mentioning استرجاع goes to the returns queue.
    arabic = new_page("ar")
    sign_in(arabic, "supervisor@demo.test", staff=True)
    use_language(arabic, "ar")
    arabic.goto("/admin/automations/new?kind=trigger")
    arabic.fill("input[name=name]", "E2E المرتجعات إلى قائمة انتظار الاسترجاع")
    arabic.get_by_label("رسالة من العميل", exact=True).check()
    arabic.get_by_label("إنشاء تذكرة", exact=True).check()
    choose(arabic, "any-0", "text:contains")
    arabic.fill("#any-0-value", "استرجاع")
    choose(arabic, "action-0", "set_queue")
    arabic.select_option("#action-0-value", label=demo["returns"])
    arabic.click("button[name=dry_run]")
    expect(arabic.locator("#dry-run h2")).to_have_text("تجربة دون تنفيذ")
    arabic.click("form.admin-form button.primary")
    expect(arabic.locator(".flash")).to_contain_text("E2E المرتجعات")
    listing = arabic.locator("table").first.inner_text()  # the triggers
    assert listing.index("إعادة فتح التذكرة عند رد العميل") < listing.index("E2E المرتجعات")

    # The trigger acts at once: a customer writes about a return (with hamza and diacritics).
    from sqlalchemy import select

    from helpdesk.customers.models import Customer
    from helpdesk.extensions import db
    from helpdesk.tickets import service as tickets
    from helpdesk.transaction import unit_of_work

    with demo["app"].app_context():
        with unit_of_work():
            customer = db.session.scalar(select(Customer).where(Customer.id == demo["customer_id"]))
            routed = tickets.open_ticket(customer=customer, subject="طلب", body="أريد اِستِرجاع الحذاء")
        routed_number = routed.number
    arabic.goto(f"/agent/tickets/{routed_number}")
    expect(arabic.locator(".ticket-layout")).to_contain_text(demo["returns"])
    expect(arabic.locator(".message-event", has_text="E2E المرتجعات")).to_have_count(1)

    # The automations act as the worker's clock moves: the reminder now, the close five days on.
    now = utcnow()
    run_worker(demo["app"], now)
    subjects = {f"[{demo['quiet']}] Waiting for your reply", f"[{demo['quiet']}] بانتظار ردك"}
    mail = wait_for_mail(live_server.sink, lambda m: str(m["Subject"]) in subjects)
    assert f"{demo['quiet']}?" in text_of(mail) or f"{demo['quiet']}؟" in text_of(mail)
    run_worker(demo["app"], now + timedelta(days=5))
    page.goto(f"/agent/tickets/{demo['quiet']}")
    use_language(page, "en")  # the account kept the Arabic chosen on the other page
    events = page.locator(".message-event")
    expect(
        events.filter(has_text="Automation «E2E Remind after 3 days pending» emailed the customer")
    ).to_have_count(1)
    expect(events.filter(has_text="No reply four days after the reminder.")).to_have_count(1)
    expect(events.filter(has_text="«E2E Close 4 days after the reminder»")).to_contain_text(
        "set status to Closed"
    )
    expect(page.locator("#reply-form")).to_have_count(0)  # closed: no more replies here


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_without_javascript_the_editor_shows_the_chosen_rows_pickers(new_page, locale):
    page = new_page(locale, javascript=False)
    sign_in(page, "supervisor@demo.test", staff=True)
    use_language(page, locale)
    page.goto("/admin/automations/new?kind=automation")
    page.select_option("#all-0-condition", "status:is")
    page.select_option("#all-1-condition", "hours_since_status_set:at_least")
    page.select_option("#action-0-type", "set_status")
    page.click("button[name=refresh]")  # before the rule has a name: nothing is checked or saved yet
    expect(page.locator("#all-0-picker input[type=checkbox][value=pending]")).to_be_visible()
    expect(page.locator("#all-1-value[type=number]")).to_be_visible()
    expect(page.locator("#all-1-unit option[value=business]")).to_have_count(1)
    expect(page.locator("#action-0-value option[value=closed]")).to_have_count(1)
    expect(page.locator("#all-1-condition")).to_have_value("hours_since_status_set:at_least")
