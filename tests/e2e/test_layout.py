"""Right-to-left mirroring, phone widths and accessibility (axe-core) on the main pages."""

from __future__ import annotations

import pytest

from tests.e2e import site_pages
from tests.e2e.conftest import PHONE, REPO, sign_in, use_language
from tests.e2e.site_pages import ANONYMOUS_PAGES

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
STAFF_PAGES = ["/agent", "/reports"]


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


@pytest.fixture
def walk_customer(live_server) -> str:
    """A demo customer with cases, to walk the case page; and a webhook endpoint (the demo has
    none) so its edit page is walked too."""
    from helpdesk.api.models import WebhookEndpoint
    from helpdesk.extensions import db
    from helpdesk.tickets.models import Ticket

    with live_server.app().app_context():
        if not db.session.query(WebhookEndpoint).count():
            db.session.add(
                WebhookEndpoint(url="https://hooks.example.test/in", secret="s", events=["ticket.created"])
            )
            db.session.commit()
        return db.session.query(Ticket).order_by(Ticket.id).first().customer.email


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
