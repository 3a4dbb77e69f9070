"""The API's pages in Chromium: Swagger UI runs under our strict CSP, and the token and webhook
pages are accessible and fit a phone in both languages."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, sign_in, use_language
from tests.e2e.test_accessibility import phone_page_problems

PAGES = ["/account/api-tokens", "/admin/webhooks", "/admin/webhooks/new", "/admin/webhooks/deliveries"]


def test_interactive_docs_render_every_operation_under_the_csp(new_page):
    page = new_page("en")
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: blocked.append(message.text) if "Content Security" in message.text else None,
    )
    sign_in(page, "agent1@demo.test", staff=True)
    page.goto("/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/tickets/{number}/replies" in p for p in paths)
    assert len(paths) >= 13
    assert blocked == []


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_api_pages_are_accessible_and_fit_a_phone(new_page, locale):
    page = new_page(locale, viewport=PHONE, bypass_csp=True)  # axe-core is injected inline
    sign_in(page, "admin@demo.test", staff=True)
    use_language(page, locale)
    assert phone_page_problems(page, PAGES, locale) == {}
