"""API tokens: created and revoked in the UI, shown once, stored hashed; bearer auth; rate limits;
the OpenAPI document and the interactive docs."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from helpdesk.api.models import ApiToken, TokenScope
from helpdesk.api.tokens import hash_token
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from tests.api.api_helpers import ApiClient, api_token
from tests.factories import count_queries, make_staff, make_ticket


def _create_token(client, name: str, scope: str = "write") -> str:
    response = client.submit("/account/api-tokens", {"name": name, "scope": scope})
    assert response.status_code == 201
    match = re.search(r'class="token-value">(hdk_[A-Za-z0-9_-]+)<', response.get_data(as_text=True))
    assert match, "the new token is shown once"
    return match.group(1)


def test_staff_create_a_token_that_is_shown_once_and_stored_hashed(client, login):
    agent = make_staff()
    login(agent)
    secret = _create_token(client, "Shop sync")
    token = db.session.scalar(db.select(ApiToken))
    assert token.token_hash == hash_token(secret) and secret not in token.token_hash
    assert token.scope == TokenScope.WRITE and token.staff_id == agent.id
    listing = client.get("/account/api-tokens").get_data(as_text=True)
    assert "Shop sync" in listing and secret not in listing and token.prefix in listing
    response = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_a_revoked_token_stops_working(client, login):
    agent = make_staff()
    login(agent)
    secret = _create_token(client, "old")
    token = db.session.scalar(db.select(ApiToken))
    assert client.submit(f"/account/api-tokens/{token.id}/revoke").status_code == 303
    response = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert "revoked" in response.get_json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_staff_cannot_revoke_someone_elses_token_but_admins_can(client, login):
    _owner, _secret = api_token()
    token = db.session.scalar(db.select(ApiToken))
    login(make_staff())
    assert client.submit(f"/account/api-tokens/{token.id}/revoke").status_code == 404
    client.submit("/logout")
    admin = make_staff(Role.ADMIN)
    login(admin)
    assert token.prefix in client.get("/account/api-tokens").get_data(as_text=True)
    assert client.submit(f"/account/api-tokens/{token.id}/revoke").status_code == 303
    db.session.refresh(token)
    assert token.revoked_at is not None


def test_a_deactivated_staff_users_token_stops_working(client):
    staff, secret = api_token()
    staff.is_active = False
    db.session.commit()
    response = ApiClient(client, secret).get("/api/v1/tickets")
    assert response.status_code == 401


def test_missing_or_malformed_authorization_is_a_json_401(client):
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer nope"},
    ):
        response = client.get("/api/v1/tickets", headers=headers)
        assert response.status_code == 401, headers
        assert response.is_json and response.get_json()["message"]


def test_rate_limit_is_per_token_with_a_json_429(app, client):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    _staff, secret = api_token()
    api = ApiClient(client, secret)
    codes = [api.get("/api/v1/tickets").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = api.get("/api/v1/tickets")
    assert response.get_json()["code"] == 429 and "Retry-After" in response.headers
    _other, other_secret = api_token()
    assert ApiClient(client, other_secret).get("/api/v1/tickets").status_code == 200


def test_the_openapi_document_validates_and_covers_the_resources(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert {
        "/api/v1/tickets",
        "/api/v1/tickets/{number}",
        "/api/v1/tickets/{number}/replies",
        "/api/v1/tickets/{number}/notes",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/tickets",
        "/api/v1/customers/{customer_id}/orders",
    } <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_interactive_docs_are_for_signed_in_staff_and_load_no_outside_script(client, login):
    assert client.get("/api/v1/docs").status_code == 302
    login(make_staff())
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert scripts and all(src.startswith("/static/") for src in scripts)
    assert "<script>" not in page and "script-src 'self'" in response.headers["Content-Security-Policy"]
    with count_queries() as statements:
        assert client.get("/api/v1/docs").status_code == 200
    assert len(statements) <= 2  # the signed-in user only


def test_token_page_uses_a_fixed_number_of_queries(client, login):
    admin = make_staff(Role.ADMIN)
    login(admin)
    api_token()
    with count_queries() as few:
        assert client.get("/account/api-tokens").status_code == 200
    for _ in range(10):
        api_token()
    with count_queries() as many:
        assert client.get("/account/api-tokens").status_code == 200
    assert len(many) == len(few) <= 6


def test_api_errors_speak_the_requested_language(client):
    _staff, secret = api_token()
    ticket = make_ticket()
    from helpdesk.tickets import service
    from helpdesk.tickets.models import Status

    service.change_status(ticket, Status.CLOSED, actor=None)
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"/api/v1/tickets/{ticket.number}/notes"
    english = client.post(url, json={"body": "x"}, headers=headers).get_json()["message"]
    arabic = client.post(url, json={"body": "x"}, headers={**headers, "Accept-Language": "ar"}).get_json()
    assert "closed" in english and "مغلقة" in arabic["message"]
