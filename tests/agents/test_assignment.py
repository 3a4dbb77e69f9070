import threading

from sqlalchemy import func, select

from helpdesk.auth.models import StaffUser
from helpdesk.extensions import db
from helpdesk.tickets import assignment, service
from helpdesk.tickets.errors import DomainError
from helpdesk.tickets.models import Message, Status, Ticket
from helpdesk.transaction import unit_of_work
from tests.factories import make_queue, make_staff, make_ticket


def race_to_claim(app, number: str, version: int, agent_ids: list[int]) -> dict[int, str]:
    """Each agent reads the ticket in its own session, then all claim together."""
    barrier = threading.Barrier(len(agent_ids))
    outcomes: dict[int, str] = {}

    def claim(agent_id: int) -> None:
        with app.app_context():
            try:
                me = db.session.get(StaffUser, agent_id)
                mine = db.session.scalar(select(Ticket).where(Ticket.number == number))
                barrier.wait(timeout=10)
                with unit_of_work():  # the request that claims commits its claim
                    assignment.claim(mine, me, expected_version=version)
                outcomes[agent_id] = "won"
            except DomainError as error:
                outcomes[agent_id] = "refused: " + error.message
            except Exception as error:  # shown in the assertion message instead of lost in the thread
                outcomes[agent_id] = f"error: {error!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(i,)) for i in agent_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_agents_claiming_at_once_exactly_one_wins(app):
    """Repeated, so the truly simultaneous case (both past the version check) is hit."""
    agent_ids = [make_staff().id, make_staff().id]
    for _round in range(5):
        ticket = make_ticket()
        outcomes = race_to_claim(app, ticket.number, ticket.version, agent_ids)
        assert sorted(o.split(":")[0] for o in outcomes.values()) == ["refused", "won"], outcomes
        db.session.expire_all()
        winner = next(i for i, o in outcomes.items() if o == "won")
        assert db.session.get(Ticket, ticket.id).assignee_id == winner
        assigned_events = db.session.scalar(
            select(func.count(Message.id)).where(Message.ticket_id == ticket.id, Message.event == "assigned")
        )
        assert assigned_events == 1


def test_claim_from_the_page_after_someone_else_claimed_is_refused(client, login):
    first, second = make_staff(), make_staff(name="Second")
    ticket = make_ticket()
    stale = ticket.version
    assignment.claim(ticket, first, expected_version=stale)
    login(second)
    r = client.submit(f"/agent/tickets/{ticket.number}/claim", {"version": stale}, follow_redirects=True)
    assert "عدّل شخص آخر التذكرة" in r.get_data(as_text=True)
    db.session.refresh(ticket)
    assert ticket.assignee_id == first.id


def test_round_robin_takes_turns_and_respects_the_cap(app):
    a, b, c = make_staff(), make_staff(), make_staff(is_active=False)
    queue = make_queue("orders")
    queue.members = [a, b, c]
    db.session.commit()
    picked = [assignment.assign_round_robin(make_ticket(queue=queue), actor=None, cap=0).id for _ in range(4)]
    assert sorted(picked[:2]) == sorted([a.id, b.id]) and picked[2:] == picked[:2]
    # a has 2 open tickets, b has 2; with a cap of 3 and b at 3, only a is left.
    service.assign(make_ticket(queue=queue), b, actor=None)
    assert {
        assignment.assign_round_robin(make_ticket(queue=queue), actor=None, cap=3).id for _ in range(1)
    } == {a.id}
    try:
        assignment.assign_round_robin(make_ticket(queue=queue), actor=None, cap=3)
        raise AssertionError("everyone is at the cap")
    except DomainError as error:
        assert "3" in error.message
    solved = db.session.scalars(select(Ticket).where(Ticket.assignee_id == a.id)).first()
    service.change_status(solved, Status.SOLVED, actor=None)
    assert assignment.round_robin_agent(queue, cap=3).id == a.id


def test_round_robin_from_the_ticket_page_and_bulk(client, login):
    agent = make_staff()
    queue = make_queue("returns")
    queue.members = [agent]
    db.session.commit()
    one, two = make_ticket(queue=queue), make_ticket(queue=queue)
    login(make_staff())
    client.submit(f"/agent/tickets/{one.number}/round-robin", {"version": one.version})
    client.submit("/agent/bulk", {"action": "assign", "value": "auto", "ticket": [str(two.id)]})
    db.session.expire_all()
    assert db.session.get(Ticket, one.id).assignee_id == agent.id
    assert db.session.get(Ticket, two.id).assignee_id == agent.id
    no_queue = make_ticket()
    r = client.submit(
        f"/agent/tickets/{no_queue.number}/round-robin", {"version": no_queue.version}, follow_redirects=True
    )
    assert db.session.get(Ticket, no_queue.id).assignee_id is None and r.status_code == 200
