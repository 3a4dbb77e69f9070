"""The ``helpdesk sla`` commands."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.sla.models import SlaBreach, SlaPolicy
from helpdesk.tickets import service as tickets
from tests.factories import make_customer


def test_setup_recompute_and_check_from_the_command_line(app):
    runner = app.test_cli_runner()
    ticket = tickets.open_ticket(
        customer=make_customer(), subject="x", body="y", created_at=datetime(2026, 1, 4, 6, 0, tzinfo=UTC)
    )
    assert ticket.next_due_at is None  # no policy yet
    result = runner.invoke(args=["sla", "setup"])
    assert result.exit_code == 0, result.output
    assert "recomputed 1 open tickets" in result.output
    assert db.session.scalar(select(func.count(SlaPolicy.id))) == 5
    db.session.refresh(ticket)
    assert ticket.next_due_at is not None
    assert "Recomputed 1 open tickets." in runner.invoke(args=["sla", "recompute"]).output
    assert "new breaches: 2." in runner.invoke(args=["sla", "check"]).output  # first response, resolution
    assert "new breaches: 0." in runner.invoke(args=["sla", "check"]).output
    assert db.session.scalar(select(func.count(SlaBreach.id))) == 2
