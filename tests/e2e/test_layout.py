"""Right-to-left mirroring, and phone widths on every page (accessibility: test_accessibility.py)."""

from __future__ import annotations

import pytest

from tests.e2e import site_pages
from tests.e2e.conftest import PHONE, sign_in, use_language
from tests.e2e.site_pages import ANONYMOUS_PAGES


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


def test_the_walk_reaches_every_page(new_page, live_server, walk_customer):
    admin = new_page("en")
    sign_in(admin, "admin@demo.test", staff=True)
    customer = new_page("en")
    sign_in(customer, walk_customer, staff=False)
    walked = [*ANONYMOUS_PAGES, *site_pages.staff_pages(admin), *site_pages.customer_pages(customer)]
    app = live_server.app()
    assert site_pages.every_page_endpoint(app) - site_pages.endpoints_reached(app, walked) == set()


def _page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


# "shipped": the fonts our pages load (IBM Plex Sans Arabic / IBM Plex Sans); "system": those
# files refused, so Chromium falls back to what the machine has (a phone's own Arabic fonts; here
# Debian's fonts-noto-core and fonts-kacst, which made pages wider than a 375px screen before).
@pytest.mark.parametrize("fonts", ["shipped", "system"])
@pytest.mark.parametrize("locale", ["ar", "en"])
def test_no_page_is_wider_than_a_phone(new_page, locale, fonts, walk_customer):
    walks = []
    for email, staff, pages in [
        (None, False, lambda page: ANONYMOUS_PAGES),
        ("admin@demo.test", True, site_pages.staff_pages),
        (walk_customer, False, site_pages.customer_pages),
    ]:
        page = new_page(locale, viewport=PHONE)
        if fonts == "system":
            page.context.route("**/vendor/fonts/*", lambda route: route.abort())
        if email:
            sign_in(page, email, staff=staff)
            use_language(page, locale)
        walks.append((page, pages(page)))
    overflowing = []
    for page, paths in walks:
        for path in paths:
            page.goto(path)
            page.evaluate("document.fonts.ready.then(() => true)")
            scroll, client = _page_width(page)
            if scroll > client:
                overflowing.append(f"{path}: {scroll}px > {client}px")
    page = walks[0][0]
    page.goto("/")
    loaded = page.evaluate(
        "document.fonts.ready.then(() => [...document.fonts]"
        ".some(f => f.family.includes('HD Sans') && f.status === 'loaded'))"
    )
    assert loaded == (fonts == "shipped"), f"our font files loaded: {loaded}"
    assert not overflowing
