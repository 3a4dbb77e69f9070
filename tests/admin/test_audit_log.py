"""The audit trail: the security-relevant actions leave events, and admins can read them by
action, actor and date, page after page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from tests.factories import PASSWORD, make_staff, make_ticket


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-event="(\d+)"', page)]


def test_sign_ins_failed_sign_ins_and_report_exports_are_audited(client, login):
    supervisor = make_staff(Role.SUPERVISOR)
    refused = client.submit("/staff/login", {"email": supervisor.email, "password": "wrong " + PASSWORD})
    assert refused.status_code == 401
    login(supervisor)
    make_ticket()
    assert client.get("/reports/export/backlog.csv").status_code == 200
    assert _actions() == ["auth.sign_in_failed", "auth.sign_in", "report.exported"]
    failed, signed_in, exported = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert failed.actor == "system" and failed.actor_label == supervisor.email
    assert signed_in.actor == supervisor.get_id()
    assert exported.actor == supervisor.get_id() and exported.target == "report:backlog"
    assert set(exported.details) == {"rows", "start", "end"}


def _events(count: int, start: datetime) -> None:
    db.session.execute(
        insert(AuditEvent),
        [
            {
                "action": "ticket.merged" if i % 2 else "staff.role_changed",
                "actor": f"s:{1 + i % 3}",
                "actor_label": f"agent{1 + i % 3}@staff.test",
                "details": {},
                "created_at": start + timedelta(hours=i),
            }
            for i in range(count)
        ],
    )
    db.session.commit()


def test_the_audit_log_pages_through_every_event_once(client, login):
    login(make_staff(Role.ADMIN))  # its sign-in is one event too
    _events(230, datetime(2026, 3, 1, tzinfo=UTC))
    seen: list[int] = []
    url = "/admin/audit"
    pages = 0
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += _ids(page)
        pages += 1
        older = re.search(r'href="([^"]+)" rel="next"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert pages == 3
    assert seen == sorted(db.session.scalars(select(AuditEvent.id)), reverse=True)


def test_the_audit_log_filters_by_action_actor_and_date(client, login):
    login(make_staff(Role.ADMIN))
    _events(48, datetime(2026, 3, 1, tzinfo=UTC))  # two days, one event an hour (UTC)

    def ids(query: str) -> set[int]:
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200
        return set(_ids(response.get_data(as_text=True)))

    def expected(*conditions) -> set[int]:
        return set(db.session.scalars(select(AuditEvent.id).where(*conditions)))

    assert ids("action=ticket.") == expected(AuditEvent.action == "ticket.merged")
    assert ids("actor=s:2") == expected(AuditEvent.actor == "s:2")
    assert ids("actor=AGENT3@") == expected(AuditEvent.actor_label == "agent3@staff.test")
    # Local dates (Asia/Riyadh, UTC+3): 2 March runs from 1 March 21:00 to 2 March 21:00 UTC.
    riyadh_day = expected(
        AuditEvent.created_at >= datetime(2026, 3, 1, 21, tzinfo=UTC),
        AuditEvent.created_at < datetime(2026, 3, 2, 21, tzinfo=UTC),
    )
    assert len(riyadh_day) == 24 and ids("start=2026-03-02&end=2026-03-02") == riyadh_day
    assert ids("start=2026-03-02&end=2026-03-02&action=staff.&actor=s:1") == riyadh_day & expected(
        AuditEvent.action == "staff.role_changed", AuditEvent.actor == "s:1"
    )


def test_bad_audit_filters_are_a_clear_400(client, login):
    login(make_staff(Role.ADMIN))
    for query in ("start=yesterday", "before=-3", "action=" + "x" * 100):
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 400, query
