from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from tests.factories import make_staff


def test_admin_changes_a_role_and_it_is_audited(client, login):
    admin = make_staff(Role.ADMIN)
    agent = make_staff(Role.AGENT)
    login(admin)
    r = client.submit(f"/admin/staff/{agent.id}/role", {f"u{agent.id}-role": "supervisor"})
    assert r.status_code == 303
    db.session.refresh(agent)
    assert agent.role == Role.SUPERVISOR
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.role_changed"))
    assert event.details == {"old": "agent", "new": "supervisor", "email": agent.email}
    assert event.actor == f"s:{admin.id}"
    log = client.get("/admin/audit?action=staff.").get_data(as_text=True)
    assert "staff.role_changed" in log and "auth.sign_in" not in log


def test_the_last_admin_cannot_be_demoted(client, login):
    admin = make_staff(Role.ADMIN)
    login(admin)
    r = client.submit(f"/admin/staff/{admin.id}/role", {f"u{admin.id}-role": "agent"}, follow_redirects=True)
    assert "يجب أن يبقى مدير واحد على الأقل" in r.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == Role.ADMIN


def test_unknown_staff_is_404(client, login_as):
    login_as("admin")
    assert client.submit("/admin/staff/9999/role", {"u9999-role": "agent"}).status_code == 404
