"""The SLA rules each process keeps: read once, and an edit made anywhere still takes effect."""

from sqlalchemy import select

from helpdesk import create_app
from helpdesk.auth.models import Role
from helpdesk.extensions import db
from helpdesk.sla import service as sla
from helpdesk.sla.calendars import save_calendar
from helpdesk.sla.models import SlaPolicy
from helpdesk.sla.policies import save_policy
from helpdesk.tickets.models import Priority
from tests.factories import count_queries, make_customer, make_default_sla, make_staff
from tests.sla.test_clocks import open_at, riyadh

SUNDAY_10 = riyadh(2026, 11, 29, 10, 0)  # the default calendar is open 09:00–17:00


def _normal() -> SlaPolicy:
    return db.session.scalar(select(SlaPolicy).where(SlaPolicy.match_priority == Priority.NORMAL))


def _set_up(app, recheck_seconds: int = 3600) -> None:
    app.config["SLA_RULES_RECHECK_SECONDS"] = recheck_seconds
    make_default_sla()


def _rule_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "sla_policies" in s or "business_calendars" in s]


def test_new_tickets_reuse_the_rules_without_reading_them_again(app):
    _set_up(app)
    customer = make_customer()
    assert open_at(SUNDAY_10, customer=customer).first_response_due_at == riyadh(2026, 11, 29, 12, 0)
    with count_queries() as statements:
        second = open_at(SUNDAY_10, customer=customer)
    assert second.first_response_due_at == riyadh(2026, 11, 29, 12, 0)
    assert _rule_reads(statements) == []


def test_a_policy_edit_applies_to_the_next_ticket_at_once(app):
    _set_up(app)
    admin = make_staff(Role.ADMIN)
    assert open_at(SUNDAY_10).first_response_due_at == riyadh(2026, 11, 29, 12, 0)
    save_policy(_normal(), actor=admin, first_response_minutes=30)
    db.session.commit()
    assert open_at(SUNDAY_10).first_response_due_at == riyadh(2026, 11, 29, 10, 30)


def test_switching_a_policy_off_in_the_model_applies_at_once(app):
    _set_up(app)
    assert open_at(SUNDAY_10).first_response_due_at is not None
    _normal().is_active = False  # not through save_policy: any write to the rules counts
    db.session.commit()
    assert open_at(SUNDAY_10).first_response_due_at is None


def test_a_calendar_edit_applies_to_the_next_ticket_at_once(app):
    _set_up(app)
    admin = make_staff(Role.ADMIN)
    calendar = make_default_sla()
    assert open_at(SUNDAY_10).first_response_due_at == riyadh(2026, 11, 29, 12, 0)
    save_calendar(
        calendar,
        name=calendar.name,
        timezone=calendar.timezone,
        holiday_country=calendar.holiday_country,
        holiday_subdivision=None,
        weekly={day: [(12 * 60, 17 * 60)] for day in sla.SUNDAY_TO_THURSDAY},
        actor=admin,
    )
    db.session.commit()
    assert open_at(SUNDAY_10).first_response_due_at == riyadh(2026, 11, 29, 14, 0)


def test_an_edit_counts_inside_its_transaction_and_is_forgotten_when_rolled_back(app):
    _set_up(app)
    customer = make_customer()
    open_at(SUNDAY_10, customer=customer)
    _normal().first_response_minutes = 30
    db.session.flush()
    inside = open_at(SUNDAY_10, customer=customer, commit=False)
    assert inside.first_response_due_at == riyadh(2026, 11, 29, 10, 30)
    db.session.rollback()
    assert open_at(SUNDAY_10, customer=customer).first_response_due_at == riyadh(2026, 11, 29, 12, 0)


def test_an_edit_in_another_process_is_seen_at_the_next_check(app, app_config):
    _set_up(app, recheck_seconds=0)  # check the counter on every ticket
    customer = make_customer()
    open_at(SUNDAY_10, customer=customer)
    with count_queries() as statements:
        open_at(SUNDAY_10, customer=customer)
    assert _rule_reads(statements) == []  # unchanged counter: the kept rules are used
    assert any("counters" in s and s.lstrip().upper().startswith("SELECT") for s in statements)

    other = create_app(app_config)  # another web or worker process, with its own copy of the rules
    with other.app_context():
        save_policy(_normal(), actor=make_staff(Role.ADMIN), first_response_minutes=30)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert open_at(SUNDAY_10, customer=customer).first_response_due_at == riyadh(2026, 11, 29, 10, 30)


def test_recomputing_every_open_ticket_uses_the_edited_rules(app):
    _set_up(app)
    ticket = open_at(SUNDAY_10)
    _normal().first_response_minutes = 60
    db.session.commit()
    sla.recompute_all_open()
    db.session.refresh(ticket)
    assert ticket.first_response_due_at == riyadh(2026, 11, 29, 11, 0)


def test_an_edit_still_counts_after_a_savepoint_in_its_transaction(app):
    _set_up(app)
    customer = make_customer()
    open_at(SUNDAY_10, customer=customer)
    _normal().first_response_minutes = 30
    db.session.flush()
    with db.session.begin_nested():  # e.g. a ticket number counter created on first use
        pass
    try:
        with db.session.begin_nested():
            raise ValueError("a savepoint rolled back")
    except ValueError:
        pass
    inside = open_at(SUNDAY_10, customer=customer, commit=False)
    assert inside.first_response_due_at == riyadh(2026, 11, 29, 10, 30)
    db.session.rollback()
    assert open_at(SUNDAY_10, customer=customer).first_response_due_at == riyadh(2026, 11, 29, 12, 0)
