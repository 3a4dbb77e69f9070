"""Accessibility (axe-core) of the main pages in both languages and both themes, and the checks a
phone-width page must pass (used by the API and privacy pages' tests too). Apart from
test_layout.py so that pytest-xdist can run the two walks on different workers."""

from __future__ import annotations

import pytest

from tests.e2e import site_pages
from tests.e2e.conftest import REPO, sign_in, use_language

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
STAFF_PAGES = ["/agent", "/reports"]


def first_ticket_url(page) -> str:
    page.goto("/agent")
    return page.locator("main a[href*='/agent/tickets/']").first.get_attribute("href")


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


MAIN_STAFF_PAGES = [
    *STAFF_PAGES,
    "/agent?view=unassigned",
    "/agent/search?q=order",
    "/agent/macros",
    "/agent/kb",
    "/admin",
    "/admin/customers",
    "/admin/audit",
]
MAIN_ANONYMOUS_PAGES = ["/", "/login", "/staff/login", "/signup"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("locale", ["ar", "en"])
def test_main_pages_have_no_serious_accessibility_violations(new_page, locale, scheme, walk_customer):
    # Injecting axe-core needs an inline script, which our CSP rightly forbids: bypass it here only.
    # Both themes: the dark one has its own colours, so its own contrast to check.
    staff = new_page(locale, bypass_csp=True, color_scheme=scheme)
    sign_in(staff, "supervisor@demo.test", staff=True)
    use_language(staff, locale)
    customer = new_page(locale, bypass_csp=True, color_scheme=scheme)
    sign_in(customer, walk_customer, staff=False)
    use_language(customer, locale)
    anonymous = new_page(locale, bypass_csp=True, color_scheme=scheme)
    ticket = first_ticket_url(staff)
    pages = [
        *((staff, p) for p in [*MAIN_STAFF_PAGES, ticket, ticket + "/similar"]),
        *((customer, p) for p in site_pages.customer_pages(customer)),
        *((anonymous, p) for p in MAIN_ANONYMOUS_PAGES),
    ]
    found = {}
    for page, path in pages:
        page.goto(path)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    assert not found
