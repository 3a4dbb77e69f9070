"""Every state-changing route refuses a form without a valid CSRF token."""

import re

import pytest

from helpdesk.auth.models import Role
from tests.factories import PASSWORD, make_staff, make_ticket


def state_changing_rules(app):
    """Form routes; signed webhooks (``view.signed_webhook``) are CSRF-exempt by design and
    refuse unsigned requests instead (tests/test_access.py)."""
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and not rule.rule.startswith("/static")
        and not getattr(app.view_functions[rule.endpoint], "signed_webhook", False)
        # The JSON API takes bearer tokens only, never cookies (tests/test_access.py checks it), so it
        # is exempt from CSRF: a forged cross-site form has nothing to authenticate with.
        and not getattr(app.view_functions[rule.endpoint], "api_scope", None)
    )


def test_every_post_route_needs_a_csrf_token(app, client, login):
    admin = make_staff(Role.ADMIN)
    ticket = make_ticket()
    login(admin)
    rules = state_changing_rules(app)
    assert len(rules) >= 7
    for rule in rules:
        url = rule.replace("<number>", ticket.number).replace("<int:staff_id>", str(admin.id))
        url = re.sub(r"<int:\w+>", "1", url)
        for token in (None, "forged-token"):
            data = {
                "email": admin.email,
                "password": PASSWORD,
                "body": "x",
                "status": "open",
                "language": "en",
                "version": ticket.version,
            }
            if token:
                data["csrf_token"] = token
            response = client.post(url, data=data)
            assert response.status_code == 400, (rule, token, response.status_code)
            assert "انتهت صلاحية النموذج" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/staff/login", "/login"])
def test_login_form_without_token_is_refused(client, path):
    agent = make_staff()
    assert client.post(path, data={"email": agent.email, "password": PASSWORD}).status_code == 400
