"""``/api/v1/automations``: supervisors list, create, update, delete and dry-run rules by token."""

from __future__ import annotations

import pytest

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.tickets.models import Status
from tests.api.api_helpers import ApiClient, api_token
from tests.factories import make_ticket

CLOSE_PENDING = {
    "name": "Close pending",
    "kind": "automation",
    "conditions": {"all": [{"field": "status", "op": "is", "value": ["pending"]}]},
    "actions": [{"type": "set_status", "value": "closed"}],
}


@pytest.fixture
def api(client):
    _staff, secret = api_token(role=Role.SUPERVISOR)
    return ApiClient(client, secret)


def test_create_list_update_and_delete_a_rule(api):
    created = api.post("/api/v1/automations", CLOSE_PENDING)
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert rule["kind"] == "automation" and rule["position"] == 1
    assert [r["name"] for r in api.get("/api/v1/automations").get_json()] == ["Close pending"]
    url = f"/api/v1/automations/{rule['id']}"
    changed = api.client.put(url, json={**CLOSE_PENDING, "name": "Close stale"}, headers=api.headers)
    assert changed.status_code == 200 and changed.get_json()["name"] == "Close stale"
    assert api.client.delete(url, headers=api.headers).status_code == 204
    assert api.get(url).status_code == 404
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.action.like("automation.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["automation.created", "automation.saved", "automation.deleted"]


def test_an_unsafe_automation_is_a_422_with_the_reason(api):
    unsafe = {**CLOSE_PENDING, "actions": [{"type": "email_staff", "value": "supervisor"}]}
    response = api.client.post(
        "/api/v1/automations", json=unsafe, headers={**api.headers, "Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert (
        "make false" in response.get_json()["message"] or "once per ticket" in response.get_json()["message"]
    )


def test_dry_run_lists_matching_tickets(api):
    pending = make_ticket(status=Status.PENDING)
    make_ticket()
    response = api.post(
        "/api/v1/automations/dry-run", {"kind": "automation", "conditions": CLOSE_PENDING["conditions"]}
    )
    assert response.status_code == 200
    assert [t["number"] for t in response.get_json()["tickets"]] == [pending.number]


def test_agents_tokens_are_refused(client):
    _staff, secret = api_token(role=Role.AGENT)
    assert ApiClient(client, secret).get("/api/v1/automations").status_code == 403


def test_the_openapi_document_lists_the_automation_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/automations", "/api/v1/automations/{rule_id}", "/api/v1/automations/dry-run"} <= set(
        paths
    )
