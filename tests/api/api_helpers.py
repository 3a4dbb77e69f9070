"""Helpers for the API tests: a token for a staff user, and requests that carry it."""

from __future__ import annotations

from helpdesk.api import tokens
from helpdesk.api.models import TokenScope
from helpdesk.auth.models import Role, StaffUser
from helpdesk.extensions import db
from tests.factories import make_staff


class ApiClient:
    def __init__(self, client, secret: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, url: str, **kwargs):
        return self.client.get(url, headers=self.headers, **kwargs)

    def post(self, url: str, json=None, **kwargs):
        return self.client.post(url, json=json, headers=self.headers, **kwargs)

    def patch(self, url: str, json=None, **kwargs):
        return self.client.patch(url, json=json, headers=self.headers, **kwargs)


def api_token(
    staff: StaffUser | None = None, scope: TokenScope = TokenScope.WRITE, role: Role = Role.AGENT
) -> tuple[StaffUser, str]:
    staff = staff or make_staff(role)
    _token, secret = tokens.issue_token(staff, name="test", scope=scope, actor=staff)
    db.session.commit()
    return staff, secret
