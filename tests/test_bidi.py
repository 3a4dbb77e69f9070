"""A label that can mix Arabic and Latin (subject, name, email, order number) is isolated in <bdi>
or an element with ``dir``, so "؟" and "-SO" stay on the right side in both page directions."""

from html.parser import HTMLParser

from helpdesk.auth.models import Role
from helpdesk.tickets.models import Status
from tests.factories import PASSWORD, make_customer, make_order, make_staff, make_ticket

SUBJECT = "أين طلبي 100138-SO؟"
NAME = "عمر Saleh"


class _Isolation(HTMLParser):
    """Records, for every text run holding one of ``values``, whether its element isolates it."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self, values: tuple[str, ...]) -> None:
        super().__init__()
        self.values, self.stack, self.loose = values, [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if not self.stack or self.stack[-1][0] in ("title", "script", "style", "option", "textarea"):
            return
        tag, attrs = self.stack[-1]
        for value in self.values:
            if value in data and not (tag == "bdi" or "dir" in attrs):
                self.loose.append((value, tag, data.strip()[:80]))


def not_isolated(html: str, *values: str) -> list[tuple[str, str, str]]:
    parser = _Isolation(values)
    parser.feed(html)
    return parser.loose


def test_mixed_labels_are_isolated_on_agent_and_portal_pages(client, login, app):
    customer = make_customer(name=NAME)
    order = make_order(customer)
    ticket = make_ticket(customer=customer, subject=SUBJECT, order=order, status=Status.OPEN)
    make_ticket(customer=customer, subject="Earlier: هل وصل؟", status=Status.SOLVED)
    login(make_staff())
    for language in ("ar", "en"):
        headers = {"Accept-Language": language}
        for url in (f"/agent/tickets/{ticket.number}", "/agent?view=open", "/agent?view=solved"):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            page = response.get_data(as_text=True)
            loose = not_isolated(page, SUBJECT, NAME, "100138-SO", customer.email, "هل وصل؟")
            assert loose == [], (url, language)
    admin = app.test_client()
    boss = make_staff(Role.ADMIN, name="Noura Admin")
    assert admin.submit("/staff/login", {"email": boss.email, "password": PASSWORD}).status_code == 302
    for url in ("/admin/customers", f"/admin/customers/{customer.id}", "/admin/staff"):
        page = admin.get(url).get_data(as_text=True)
        assert not_isolated(page, NAME, "Noura Admin") == [], url
    portal = app.test_client()
    assert portal.submit("/login", {"email": customer.email, "password": PASSWORD}).status_code == 302
    for language in ("ar", "en"):
        for url in ("/portal/cases", f"/portal/cases/{ticket.number}"):
            page = portal.get(url, headers={"Accept-Language": language}).get_data(as_text=True)
            assert not_isolated(page, SUBJECT, NAME) == [], (url, language)
