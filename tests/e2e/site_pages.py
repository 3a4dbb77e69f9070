"""Every page of the site, for the browser tests that must hold on all of them (fits a phone).

Pages with an id in the URL are found as a person would: the first link on their list page. A page
that this walk does not reach fails `test_the_walk_reaches_every_page`, so a new page is walked too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

ANONYMOUS_PAGES = [
    "/",
    "/login",
    "/staff/login",
    "/signup",
    "/password/reset",
    "/login/link",
    "/portal/guest",
    "/kb/search?q=order",
    "/login/link/not-a-token",
    "/password/reset/not-a-token",
    "/verify/not-a-token",
    "/staff/login/code",  # without a right password first: back to the sign-in page
    "/staff/login/setup",
    "/login/code",  # a customer's code step, likewise only after a right password or link
]
CUSTOMER_PAGES = [
    "/",
    "/portal/cases",
    "/portal/cases/new",
    "/portal/cases/new?type=return",
    "/portal/account",
    "/portal/account/authenticator",
    "/kb/search?q=order",
]
CUSTOMER_LINKED = [  # (list page, link to a detail page on it)
    ("/portal/cases", "main a[href^='/portal/cases/HD-']"),
    ("/", "main a[href^='/kb/category/']"),
    ("/", "main a[href^='/kb/']:not([href^='/kb/category/']):not([href^='/kb/search'])"),
]
STAFF_PAGES = [
    "/",
    "/agent",
    "/agent?view=unassigned",
    "/agent?view=overdue",
    "/agent/search?q=order",
    "/agent/articles?q=order",
    "/agent/macros",
    "/agent/macros/new",
    "/agent/saved-views",
    "/agent/kb",
    "/agent/kb/new",
    "/reports",
    "/account/api-tokens",
    "/account/security",
    "/account/security/authenticator",
    "/admin",
    "/admin/audit",
    "/admin/security",
    "/admin/calendars",
    "/admin/calendars/new",
    "/admin/customers",
    "/admin/customers?q=demo",
    "/admin/mail/failed",
    "/admin/mail/mailboxes",
    "/admin/queues",
    "/admin/queues/new",
    "/admin/fields",
    "/admin/fields/new",
    "/admin/request-types/new",
    "/admin/companies",
    "/admin/companies/new",
    "/admin/sla",
    "/admin/sla/new",
    "/admin/webhooks",
    "/admin/webhooks/new",
    "/admin/webhooks/deliveries",
    "/admin/automations",
    "/admin/automations/new",
    "/integrations",
    "/admin/whatsapp",
]
STAFF_LINKED = [
    ("/agent", "main a[href^='/agent/tickets/']"),
    ("/agent/macros", "main a[href^='/agent/macros/']:not([href$='/new'])"),
    ("/agent/kb", "main a[href$='/edit']"),
    ("/admin/calendars", "main a[href^='/admin/calendars/']:not([href$='/new'])"),
    ("/admin/customers", "main a[href^='/admin/customers/']"),
    ("/admin/mail/mailboxes", "main a[href^='/admin/mail/mailboxes/']"),
    ("/admin/queues", "main a[href^='/admin/queues/']:not([href$='/new'])"),
    ("/admin/sla", "main a[href^='/admin/sla/']:not([href$='/new'])"),
    ("/admin/webhooks", "main a[href^='/admin/webhooks/']:not([href$='/new']):not([href$='/deliveries'])"),
    ("/admin/automations", "main a[href^='/admin/automations/']:not([href*='/new'])"),
    ("/admin/fields", "main a[href^='/admin/fields/']:not([href$='/new'])"),
    ("/admin/fields", "main a[href^='/admin/request-types/']:not([href$='/new'])"),
    ("/admin/companies", "main a[href^='/admin/companies/']:not([href$='/new'])"),
]
TICKET_SUBPAGES = ["/similar", "/suggested", "/customer/orders", "/customer/tickets", "/customer/merge"]
# Not pages: files, fragments for htmx, JSON, charts, CSV, the API and its docs.
NOT_PAGES = {
    "static",
    "brand_css",
    "favicon",
    "kb.suggest",
    "agents.attachment",
    "portal.attachment",
    "agents.macro_text",
    "mail.original_email",
    "mail.raw_email",
    "admin.export_customer",
    "reports.chart",
    "reports.export",
    "integrations.connect",  # a redirect to the shop platform's consent page
    "integrations.callback",  # the platform's redirect back, with a one-time code
    "integrations.customer_orders",  # the panel's refreshing fragment (htmx)
    "automations.picker",  # a rule row's value field, swapped in by htmx
    "whatsapp.webhook_handshake",  # Meta's subscription check (plain text)
    "sso.start",  # a redirect to the organisation's OpenID provider (tests/auth/test_sso.py)
    "sso.callback",  # the provider's redirect back, with a one-time code
    "portal.case_type_fields",  # the case form's fields for the answers so far (htmx)
    "live.agent_poll",  # the live queue's polling fallback (JSON)
    "live.case_poll",  # the live case page's polling fallback (JSON)
    "security.customer_sessions",  # the customer account page's old address: a redirect to it
}


def linked(page, listing: str, selector: str) -> str:
    page.goto(listing)
    link = page.locator(selector).first
    assert link.count(), f"no link {selector} on {listing} to reach its detail page"
    return link.get_attribute("href")


def staff_pages(page) -> list[str]:
    """``page`` is signed in as an administrator."""
    detail = [linked(page, listing, selector) for listing, selector in STAFF_LINKED]
    ticket = detail[0]
    return [*STAFF_PAGES, *detail, *(ticket + sub for sub in TICKET_SUBPAGES)]


def customer_pages(page) -> list[str]:
    return [*CUSTOMER_PAGES, *(linked(page, listing, selector) for listing, selector in CUSTOMER_LINKED)]


def endpoints_reached(app, paths: list[str]) -> set[str]:
    adapter = app.url_map.bind("localhost")
    return {adapter.match(urlsplit(path).path, method="GET")[0] for path in paths}


def every_page_endpoint(app) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.rule.startswith("/api/")
        and not rule.endpoint.startswith("api.")
    }
