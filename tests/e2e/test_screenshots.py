"""`make screenshots`: the main pages in Arabic and English, desktop and phone, light and dark
theme (the system setting, emulated), into docs/screenshots/ (`<page>-<language>-<device>[-dark].png`).

Skipped in normal runs; HELPDESK_SCREENSHOTS=<folder> turns it on.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, sign_in, use_language

TARGET = os.environ.get("HELPDESK_SCREENSHOTS")
STAFF_PAGES = {"agent-queue": "/agent", "dashboard": "/reports"}
TYPED = {"ar": "وين طلبي", "en": "where is my order"}
CUSTOMER_PAGES = {"portal-home": "/", "my-cases": "/portal/cases", "new-case": "/portal/cases/new"}


@pytest.mark.skipif(not TARGET, reason="set HELPDESK_SCREENSHOTS=<folder> (make screenshots) to take them")
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["ar", "en"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_take_screenshots(new_page, locale, device, scheme):
    folder = Path(TARGET)
    folder.mkdir(parents=True, exist_ok=True)
    viewport = DESKTOP if device == "desktop" else PHONE
    suffix = "-dark" if scheme == "dark" else ""
    staff = new_page(locale, viewport=viewport, color_scheme=scheme)
    sign_in(staff, "supervisor@demo.test", staff=True)
    use_language(staff, locale)
    staff.goto("/agent")
    pages = {
        **STAFF_PAGES,
        "ticket": staff.locator("main a[href*='/agent/tickets/']").first.get_attribute("href"),
    }
    for name, path in pages.items():
        staff.goto(path)
        staff.screenshot(path=folder / f"{name}-{locale}-{device}{suffix}.png", full_page=device == "phone")
    customer = new_page(locale, viewport=viewport, color_scheme=scheme)
    sign_in(customer, "customer1@demo.test", staff=False)
    use_language(customer, locale)
    for name, path in CUSTOMER_PAGES.items():
        customer.goto(path)
        if name == "new-case":  # show the live article suggestions
            customer.wait_for_load_state("load")
            customer.locator("input[name=subject]").press_sequentially(TYPED[locale], delay=20)
            customer.locator("#kb-suggestions a").first.wait_for()
        customer.screenshot(
            path=folder / f"{name}-{locale}-{device}{suffix}.png", full_page=device == "phone"
        )
