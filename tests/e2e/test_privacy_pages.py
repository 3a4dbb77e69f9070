"""The customer privacy and audit pages in Chromium: accessible, and they fit a phone in both languages."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, sign_in, use_language
from tests.e2e.test_accessibility import phone_page_problems

PAGES = ["/admin/customers", "/admin/customers?q=demo", "/admin/customers/7", "/admin/audit"]


@pytest.mark.parametrize("locale", ["ar", "en"])
def test_privacy_and_audit_pages_are_accessible_and_fit_a_phone(new_page, locale):
    page = new_page(locale, viewport=PHONE, bypass_csp=True)  # axe-core is injected inline
    sign_in(page, "admin@demo.test", staff=True)
    use_language(page, locale)
    assert phone_page_problems(page, PAGES, locale) == {}
