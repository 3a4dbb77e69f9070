"""Access rules for every route, enumerated from ``app.url_map`` so new routes are covered automatically.

A route must either be listed here as public or carry a guard (``staff_required`` / ``customer_required``).
"""

import re

import pytest

from helpdesk.auth.models import Role, SignInSession
from helpdesk.extensions import db
from tests.factories import make_customer, make_staff, make_ticket

# Endpoints anyone may reach (sign-in pages, the portal home, static files, the language switch).
PUBLIC = {
    "static",
    "favicon",  # /favicon.ico: a redirect to the static icon
    "brand_css",  # /brand.css: the configured brand colour, a stylesheet
    "portal.home",
    "auth.staff_login",
    "auth.customer_login",
    "auth.logout",
    "auth.set_language",
    # The knowledge base is public; feedback and "this solved my problem" work for guests too.
    "kb.search",
    "kb.suggest",
    "kb.article",
    "kb.category",
    "kb.feedback",
    "kb.solved",
    # Signing in by emailed link, signing up, resetting a password, a guest's case.
    "signin.request_link",
    "signin.magic_link",
    "signin.sign_up",
    "signin.verify",
    "signin.forgot_password",
    "signin.reset_password",
    "signin.guest_case",
    # The second step of a staff sign-in: reachable only with a right password in this session.
    "security.second_step",
    "security.enrol",
    "security.customer_second_step",  # the same for a customer who turned two-step sign-in on
    # Staff single sign-on: the redirect to the OpenID provider and its answer (tests/auth/test_sso.py).
    "sso.start",
    "sso.callback",
    # Passkey sign-in (the second step after a password, or on its own): the signed challenge is the proof.
    "security.passkey_sign_in_options",
    "security.passkey_sign_in",
    "api-docs.openapi_json",  # the OpenAPI document: describes the API, holds no data
    "whatsapp.webhook_handshake",  # Meta's subscription check: answers only our verify token (tests/whatsapp)
}

# Machine-to-machine endpoints with no session: authenticated by a signature over the request body
# (tested in their own feature tests), so neither login guards nor CSRF tokens apply.
SIGNED_WEBHOOKS = {
    "orders_webhook.receive_orders",
    "integrations.salla_webhook",  # X-Salla-Signature (tests/integrations)
    "integrations.zid_webhook",  # Basic credentials Zid sends back (tests/integrations)
    "whatsapp.webhook",  # X-Hub-Signature-256 with a WhatsApp app secret (tests/whatsapp)
}


def _guarded_routes(app, *, api: bool = False):
    """Page routes (sessions), or with ``api=True`` the REST API's (bearer tokens, see tests/api)."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if bool(getattr(view, "api_scope", None)) != api:
            continue
        yield rule, getattr(view, "required_role", None), getattr(view, "customer_only", False)


def _url(rule, values: dict) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[^:>]+:)?{name}>", str(values.get(name, 1)), url)
    return url


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]


def test_every_route_is_public_or_guarded(app):
    unguarded = [
        rule.rule
        for rule, role, customer_only in _guarded_routes(app)
        if rule.endpoint not in PUBLIC | SIGNED_WEBHOOKS and role is None and not customer_only
    ]
    assert unguarded == []
    api_rules = list(_guarded_routes(app, api=True))
    assert api_rules and all(role is not None for _rule, role, _c in api_rules)


def test_api_routes_refuse_requests_without_a_token_even_from_signed_in_staff(app, client, login, values):
    login(make_staff(Role.ADMIN))
    for rule, _role, _c in _guarded_routes(app, api=True):
        response = client.open(_url(rule, values), method=_method(rule), json={})
        assert response.status_code == 401, rule.rule
        assert response.get_json()["code"] == 401, rule.rule


def test_signed_webhooks_refuse_unsigned_requests(app, client):
    app.config["ORDERS_WEBHOOK_SECRET"] = "s3cret"
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SIGNED_WEBHOOKS:
            assert getattr(app.view_functions[rule.endpoint], "signed_webhook", False), rule.rule
            assert client.post(rule.rule, data=b"{}").status_code == 401, rule.rule


@pytest.fixture
def values(app):
    ticket = make_ticket()
    # Someone else's sign-in session: ending it from another account must find nothing.
    theirs = SignInSession(token_hash="0" * 64, user_ref=make_customer().get_id(), method="password")
    db.session.add(theirs)
    db.session.commit()
    return {"number": ticket.number, "staff_id": make_staff().id, "attachment_id": 1, "session_id": theirs.id}


def test_staff_routes_refuse_anonymous_users_and_customers(app, client, login, values):
    staff_rules = [(r, role) for r, role, _c in _guarded_routes(app) if role is not None]
    assert staff_rules
    for rule, _role in staff_rules:
        response = client.open(_url(rule, values), method=_method(rule))
        assert response.status_code in (302, 400), rule.rule  # 400: POST refused for its missing CSRF token
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/staff/login"), rule.rule
    login(make_customer())
    for rule, _role in staff_rules:
        if _method(rule) == "GET":
            assert client.get(_url(rule, values)).status_code == 403, rule.rule


def test_admin_routes_refuse_agents_and_supervisors(app, client, login, values):
    admin_rules = [r for r, role, _c in _guarded_routes(app) if role == Role.ADMIN and _method(r) == "GET"]
    assert admin_rules
    for kind in (Role.AGENT, Role.SUPERVISOR):
        login(make_staff(kind))
        for rule in admin_rules:
            assert client.get(_url(rule, values)).status_code == 403, (kind, rule.rule)
        client.submit("/logout")


def test_customer_routes_send_anonymous_users_to_customer_login_and_refuse_staff(app, client, login, values):
    customer_rules = [r for r, _role, customer_only in _guarded_routes(app) if customer_only]
    assert customer_rules
    for rule in customer_rules:
        if _method(rule) == "GET":
            response = client.get(_url(rule, values))
            assert response.status_code == 302 and response.headers["Location"].startswith("/login"), (
                rule.rule
            )
    login(make_staff(Role.ADMIN))
    for rule in customer_rules:
        if _method(rule) == "GET":
            assert client.get(_url(rule, values)).status_code == 403, rule.rule


def test_customer_routes_hide_other_customers_objects(app, client, login, values):
    """Another customer's case number in any customer route is a 404, never a 403 (no enumeration)."""
    login(make_customer())
    customer_rules = [r for r, _role, customer_only in _guarded_routes(app) if customer_only and r.arguments]
    for rule in customer_rules:
        response = client.open(_url(rule, values), method=_method(rule))
        if _method(rule) != "GET":
            response = client.submit(_url(rule, values), {"body": "x"})
        assert response.status_code == 404, rule.rule
