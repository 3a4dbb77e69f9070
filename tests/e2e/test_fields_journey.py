"""The issue's "done when", in Chromium, in Arabic and in English: an administrator defines a field and
a request type in the admin pages, a customer opens a case of that type with its value and order, an
agent filters the queue by the value, and the supervisor's dashboard shows compliance by request type."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in, use_language

CUSTOMERS = {"ar": "customer55@demo.test", "en": "customer56@demo.test"}


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_a_defined_field_and_type_reach_the_portal_the_queue_filter_and_the_dashboard(new_page, locale):
    key, type_key = f"condition_{locale}", f"warranty_{locale}"
    label = {"ar": f"حالة المنتج {locale}", "en": f"Item condition {locale}"}[locale]
    type_name = {"ar": f"مطالبة ضمان {locale}", "en": f"Warranty claim {locale}"}[locale]

    admin = new_page(locale)  # a supervisor defines them: the administration pages their role opens
    sign_in(admin, "supervisor@demo.test", staff=True)
    use_language(admin, locale)
    admin.click("nav.site-nav a[href='/admin/fields']")
    expect(admin.locator("nav.admin-nav a")).to_have_count(1)  # not staff, queues, security …
    admin.goto("/admin/fields/new")
    admin.fill("input[name=key]", key)
    admin.select_option("select[name=type]", "dropdown")
    admin.select_option("select[name=scope]", "ticket")
    admin.fill("input[name=label_ar]", f"حالة المنتج {locale}")
    admin.fill("input[name=label_en]", f"Item condition {locale}")
    admin.fill("textarea[name=options]", "broken | مكسور | Broken\nscratched | مخدوش | Scratched")
    admin.check("input[name=visible_to_customers]")
    admin.check("input[name=editable_by_customers]")
    admin.click("form.admin-form button[type=submit]")
    admin.wait_for_load_state()
    admin.goto("/admin/request-types/new")
    admin.fill("input[name=key]", type_key)
    admin.fill("input[name=name_ar]", f"مطالبة ضمان {locale}")
    admin.fill("input[name=name_en]", f"Warranty claim {locale}")
    row = admin.locator("tr", has=admin.locator(f"bdi:text-is('{label}')"))
    row.locator("input[name$='-on']").check()
    row.locator("input[name$='-req']").check()
    order_row = admin.locator(
        "tr", has=admin.locator("bdi:text-is('%s')" % ("الطلب" if locale == "ar" else "Order"))
    )
    order_row.locator("input[name$='-on']").check()
    admin.click("form.admin-form button[type=submit]")
    admin.wait_for_load_state()
    admin.goto("/admin/fields")
    expect(admin.locator("main")).to_contain_text(type_name)

    customer = new_page(locale)
    sign_in(customer, CUSTOMERS[locale], staff=False)
    use_language(customer, locale)
    customer.goto("/portal/cases/new")
    customer.check(f"input[name=type][value={type_key}]")
    customer.click("form.type-chooser button[type=submit]")
    customer.select_option(f"select[name=cf-{key}]", "broken")
    orders = customer.locator("select[name=cf-order_ref] option")
    if orders.count() > 1:
        customer.select_option("select[name=cf-order_ref]", index=1)
    customer.fill("input[name=subject]", f"Broken on arrival {locale}")
    customer.fill("textarea[name=body]", "The screen is cracked.")
    customer.click("form#case-form button[type=submit]")
    customer.wait_for_load_state()
    errors = customer.locator(".field-error, .flash-error")
    assert errors.count() == 0, errors.all_inner_texts()
    customer.wait_for_url(re.compile(r"/portal/cases/HD-\d+"))
    number = customer.url.rsplit("/", 1)[-1]

    agent = new_page(locale)
    sign_in(agent, "agent1@demo.test" if locale == "ar" else "agent2@demo.test", staff=True)
    use_language(agent, locale)
    agent.goto("/agent?view=open")
    agent.select_option(f"select[name=cf_{key}]", "broken")
    agent.wait_for_url(re.compile(rf"cf_{key}=broken"))
    results = agent.locator("#queue-results")
    expect(results).to_contain_text(number)
    expect(results.locator("tr.ticket-row")).to_have_count(1)
    agent.goto(f"/agent/tickets/{number}")
    expect(agent.locator("main")).to_contain_text(type_name)

    supervisor = new_page(locale)
    sign_in(supervisor, "supervisor@demo.test", staff=True)
    use_language(supervisor, locale)
    supervisor.goto("/reports")
    by_type = supervisor.locator("#table-by_type")
    expect(by_type).to_contain_text(type_name)
    expect(by_type.locator("tr", has_text=type_name).locator("td").first).to_have_text("1")
