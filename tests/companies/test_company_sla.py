"""SLA policies that match the tier of the customer's company (B2B contracts)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.companies import service as companies
from helpdesk.customers.models import Tier
from helpdesk.extensions import db
from helpdesk.sla.models import SlaPolicy, TicketSla
from helpdesk.tickets import service as tickets
from tests.factories import make_customer, make_default_sla, make_staff

RIYADH = ZoneInfo("Asia/Riyadh")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=RIYADH).astimezone(UTC)


@pytest.fixture
def gold_contract(client, login):
    """An admin adds, first in order, "Gold companies: 30 minutes" through the admin page."""
    calendar = make_default_sla()
    admin = make_staff(Role.ADMIN, language="en")
    login(admin)
    response = client.submit(
        "/admin/sla/new",
        {
            "name": "Gold companies",
            "is_active": "y",
            "calendar_id": calendar.id,
            "match_priority": "",
            "match_queue_id": "",
            "match_tier": "",
            "match_company_tier": "gold",
            "first_response_minutes": "30",
            "resolution_minutes": "",
            "next_response_minutes": "",
            "warn_at_percent": "75",
            "breach_reassign_to_id": "",
        },
    )
    assert response.status_code == 303
    policy = db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == "Gold companies"))
    for _ in range(10):
        client.submit(f"/admin/sla/{policy.id}/move", {"direction": "up"})
    db.session.refresh(policy)
    assert policy.position == 1 and policy.match_company_tier == Tier.GOLD
    return admin, policy


def open_for(customer):
    ticket = tickets.open_ticket(customer=customer, subject="Invoice", body="Please", created_at=MONDAY_9)
    db.session.commit()
    return ticket


def test_a_customer_of_a_gold_company_gets_the_company_policy_others_do_not(app, gold_contract):
    admin, policy = gold_contract
    acme = companies.save_company(None, actor=admin, name="Acme", domain="acme.sa", tier=Tier.GOLD)
    small = companies.save_company(None, actor=admin, name="Small", domain="small.sa", tier=Tier.STANDARD)
    db.session.commit()
    at_acme = make_customer(email="buyer@acme.sa")  # joins by domain
    at_small = make_customer(email="buyer@small.sa")
    alone = make_customer(email="someone@example.com", tier=Tier.GOLD)  # a gold customer, no company
    db.session.commit()
    assert small.id and acme.id
    gold, standard, nobody = open_for(at_acme), open_for(at_small), open_for(alone)
    assert db.session.get(TicketSla, gold.id).policy_id == policy.id
    assert gold.first_response_due_at == datetime(2026, 11, 23, 9, 30, tzinfo=RIYADH)
    for other in (standard, nobody):
        assert db.session.get(TicketSla, other.id).policy_id != policy.id
    # The company moves up a tier: its next case gets the policy.
    companies.save_company(small, actor=admin, name="Small", domain="small.sa", tier=Tier.GOLD)
    db.session.commit()
    assert db.session.get(TicketSla, open_for(at_small).id).policy_id == policy.id


def test_the_policy_pages_show_the_company_tier_in_both_languages(client, app, gold_contract):
    admin, policy = gold_contract
    listing = client.get("/admin/sla").get_data(as_text=True)
    assert "Company: Gold" in listing
    page = client.get(f"/admin/sla/{policy.id}").get_data(as_text=True)
    assert "Company tier" in page and '<option selected value="gold">' in page
    details = db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "sla.policy_created")
    ).one()
    assert details["company_tier"] == "gold"
    admin.language = "ar"
    db.session.commit()
    assert "فئة الشركة" in client.get(f"/admin/sla/{policy.id}").get_data(as_text=True)
