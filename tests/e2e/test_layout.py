"""Right-to-left mirroring, phone widths and accessibility (axe-core) on the main pages."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, REPO, sign_in, use_language

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
STAFF_PAGES = ["/agent", "/reports"]
CUSTOMER_PAGES = ["/", "/portal/cases", "/portal/cases/new"]


def first_ticket_url(page) -> str:
    page.goto("/agent")
    return page.locator("main a[href*='/agent/tickets/']").first.get_attribute("href")


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_navigation_is_mirrored_in_arabic(new_page, locale):
    page = new_page(locale)
    sign_in(page, "agent3@demo.test", staff=True)
    use_language(page, locale)
    width = page.viewport_size["width"]
    brand = page.locator(".site-nav .brand").bounding_box()
    tools = page.locator(".site-nav .nav-tools").bounding_box()
    if locale == "ar":
        assert brand["x"] > width / 2 > tools["x"]
    else:
        assert brand["x"] < width / 2 < tools["x"] + tools["width"]


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_no_horizontal_overflow_on_a_phone(new_page, locale):
    staff = new_page(locale, viewport=PHONE)
    sign_in(staff, "supervisor@demo.test", staff=True)
    use_language(staff, locale)
    customer = new_page(locale, viewport=PHONE)
    sign_in(customer, "customer41@demo.test", staff=False)
    use_language(customer, locale)
    pages = [(staff, p) for p in [*STAFF_PAGES, first_ticket_url(staff)]]
    pages += [(customer, p) for p in CUSTOMER_PAGES]
    overflowing = []
    for page, path in pages:
        page.goto(path)
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            overflowing.append(f"{path}: {scroll}px > {client}px")
    assert not overflowing


def axe_violations(page) -> list[str]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def phone_page_problems(page, paths: list[str], locale: str) -> dict[str, list[str]]:
    """Per path: serious accessibility violations, horizontal overflow, a wrong text direction."""
    problems = {}
    for path in paths:
        response = page.goto(path)
        found = axe_violations(page) if response.status == 200 else [f"status {response.status}"]
        if page.locator("html").get_attribute("dir") != ("rtl" if locale == "ar" else "ltr"):
            found.append("wrong text direction")
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            found.append(f"overflow {scroll}px > {client}px")
        if found:
            problems[path] = found
    return problems


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_main_pages_have_no_serious_accessibility_violations(new_page, locale):
    # Injecting axe-core needs an inline script, which our CSP rightly forbids: bypass it here only.
    staff = new_page(locale, bypass_csp=True)
    sign_in(staff, "supervisor@demo.test", staff=True)
    use_language(staff, locale)
    customer = new_page(locale, bypass_csp=True)
    sign_in(customer, "customer42@demo.test", staff=False)
    use_language(customer, locale)
    found = {}
    for page, path in [
        *((staff, p) for p in [*STAFF_PAGES, first_ticket_url(staff)]),
        *((customer, p) for p in CUSTOMER_PAGES),
    ]:
        page.goto(path)
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    assert not found
