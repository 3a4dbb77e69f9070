"""Companies: joining by email domain or by hand, the admin page, and colleagues' cases in the portal
(off by default, and never another company's)."""

import pytest
from sqlalchemy import select

from helpdesk.audit.models import AuditEvent
from helpdesk.auth.models import Role
from helpdesk.companies import service
from helpdesk.companies.models import Company, CompanyMember
from helpdesk.customers.models import Tier
from helpdesk.extensions import db
from helpdesk.tickets.errors import NotAllowed
from tests.factories import count_queries, make_customer, make_order, make_staff, make_ticket


def _company(name="Al Noor Trading", domain="alnoor.sa", admin=None):
    company = service.save_company(
        None, actor=admin or make_staff(Role.ADMIN), name=name, domain=domain, tier=Tier.GOLD
    )
    db.session.commit()
    return company


def _company_of(customer):
    return db.session.scalar(select(CompanyMember.company_id).where(CompanyMember.customer_id == customer.id))


def test_customers_join_by_email_domain_existing_and_new(app):
    before = make_customer(email="huda@alnoor.sa")
    gmail = make_customer(email="someone@gmail.com")
    company = _company()
    after = make_customer(email="fahad@ALNOOR.sa")
    assert _company_of(before) == company.id and _company_of(after) == company.id
    assert _company_of(gmail) is None
    assert (
        db.session.scalar(select(AuditEvent.details).where(AuditEvent.action == "company.created"))["joined"]
        == 1
    )


def test_a_public_mail_domain_or_a_taken_one_is_refused(app):
    _company()
    with pytest.raises(NotAllowed):
        service.save_company(
            None, actor=make_staff(Role.ADMIN), name="X", domain="gmail.com", tier=Tier.STANDARD
        )
    with pytest.raises(NotAllowed):
        service.save_company(
            None, actor=make_staff(Role.ADMIN), name="Y", domain="alnoor.sa", tier=Tier.STANDARD
        )


def test_the_company_page_lists_its_people_tickets_and_orders(client, login):
    company = _company()
    huda = make_customer(email="huda@alnoor.sa", name="Huda")
    make_ticket(customer=huda, subject="Bulk order invoice")
    make_order(huda, number="B2B-77")
    outsider = make_customer(email="x@other.sa")
    make_ticket(customer=outsider, subject="Not theirs")
    login(make_staff(Role.ADMIN))
    page = client.get(f"/admin/companies/{company.id}").get_data(as_text=True)
    assert "Huda" in page and "Bulk order invoice" in page and "B2B-77" in page
    assert "Not theirs" not in page
    assert "Al Noor Trading" in client.get("/admin/companies").get_data(as_text=True)
    with count_queries() as few:
        client.get(f"/admin/companies/{company.id}")
    for i in range(5):
        person = make_customer(email=f"p{i}@alnoor.sa")
        make_ticket(customer=person)
        make_order(person, number=f"B-{i}")
    with count_queries() as many:
        client.get(f"/admin/companies/{company.id}")
    assert len(many) == len(few) <= 14


def test_an_admin_adds_a_person_by_hand_and_agents_cannot(client, login):
    company = _company(domain=None)
    person = make_customer(email="ali@freelance.sa")
    login(make_staff(Role.AGENT))
    assert client.get(f"/admin/companies/{company.id}").status_code == 403
    login(make_staff(Role.ADMIN))
    response = client.submit(
        f"/admin/companies/{company.id}/members", {"m-email": "ali@freelance.sa", "m-sees_company_cases": "y"}
    )
    assert response.status_code == 303
    member = db.session.get(CompanyMember, person.id)
    assert member.company_id == company.id and member.sees_company_cases
    missing = client.submit(f"/admin/companies/{company.id}/members", {"m-email": "nobody@x.sa"})
    assert missing.status_code == 400


def test_colleagues_cases_are_hidden_by_default_and_shown_only_when_allowed(client, login):
    company = _company()
    huda = make_customer(email="huda@alnoor.sa", language="en")
    fahad = make_customer(email="fahad@alnoor.sa", name="Fahad")
    stranger = make_customer(email="s@elsewhere.sa")
    colleague_case = make_ticket(customer=fahad, subject="Pallet missing")
    stranger_case = make_ticket(customer=stranger, subject="Stranger's case")
    login(huda)
    assert "Pallet missing" not in client.get("/portal/cases").get_data(as_text=True)
    assert client.get(f"/portal/cases/{colleague_case.number}").status_code == 404
    service.set_member(company, huda, actor=make_staff(Role.ADMIN), sees_company_cases=True)
    db.session.commit()
    listing = client.get("/portal/cases").get_data(as_text=True)
    assert "Pallet missing" in listing and "Fahad" in listing and "Stranger's case" not in listing
    page = client.get(f"/portal/cases/{colleague_case.number}")
    assert page.status_code == 200
    assert f"/portal/cases/{colleague_case.number}/reply" not in page.get_data(as_text=True)
    assert client.get(f"/portal/cases/{stranger_case.number}").status_code == 404
    assert client.submit(f"/portal/cases/{colleague_case.number}/reply", {"body": "hi"}).status_code == 404
    assert client.submit(f"/portal/cases/{colleague_case.number}/close").status_code == 404


def test_the_company_list_is_visible_to_admins_only(client, login):
    _company()
    login(make_staff(Role.SUPERVISOR))
    assert client.get("/admin/companies").status_code == 403
    assert db.session.scalar(select(Company.name)) == "Al Noor Trading"


def test_a_colleagues_attachment_opens_from_their_case_and_never_from_a_strangers_or_a_note(client, login):
    import re

    from helpdesk.tickets import service as tickets
    from helpdesk.tickets.attachments import IncomingFile
    from helpdesk.tickets.models import MessageKind

    def pdf(name: str) -> IncomingFile:
        return IncomingFile(name, "application/pdf", f"%PDF-1.4 {name}".encode())

    company = _company()
    huda = make_customer(email="huda@alnoor.sa", language="en")
    fahad = make_customer(email="fahad@alnoor.sa", name="Fahad")
    stranger = make_customer(email="s@elsewhere.sa")
    colleague_case = make_ticket(customer=fahad, subject="Pallet missing", attachments=[pdf("waybill.pdf")])
    tickets.add_message(
        colleague_case,
        author=make_staff(),
        body="internal",
        kind=MessageKind.NOTE,
        attachments=[pdf("note.pdf")],
    )
    stranger_case = make_ticket(customer=stranger, attachments=[pdf("theirs.pdf")])
    db.session.commit()
    note_file = next(a for m in colleague_case.messages for a in m.attachments if a.filename == "note.pdf")
    stranger_file = stranger_case.messages[0].attachments[0]
    service.set_member(company, huda, actor=make_staff(Role.ADMIN), sees_company_cases=True)
    db.session.commit()
    login(huda)
    page = client.get(f"/portal/cases/{colleague_case.number}").get_data(as_text=True)
    links = re.findall(r'href="(/portal/attachments/\d+)"', page)
    assert len(links) == 1  # the public reply's file, not the note's
    response = client.get(links[0])
    assert response.status_code == 200 and response.data == b"%PDF-1.4 waybill.pdf"
    assert client.get(f"/portal/attachments/{note_file.id}").status_code == 404
    assert client.get(f"/portal/attachments/{stranger_file.id}").status_code == 404
    # Without the right to see colleagues' cases, the colleague's file is gone too.
    service.set_member(company, huda, actor=make_staff(Role.ADMIN), sees_company_cases=False)
    db.session.commit()
    assert client.get(links[0]).status_code == 404
