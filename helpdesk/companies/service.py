"""Companies: create and change (audited), members by domain or by hand, colleagues' cases.

Services flush; the caller commits.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from helpdesk.audit import service as audit
from helpdesk.auth.models import StaffUser
from helpdesk.companies.models import Company, CompanyMember
from helpdesk.customers.models import Customer, CustomerEmail, Tier
from helpdesk.extensions import db
from helpdesk.tickets.errors import NotAllowed

# Addresses anyone can have: a company never owns these domains.
PUBLIC_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
    }
    | {"outlook.sa", "hotmail.sa", "yahoo.co.uk", "proton.me", "protonmail.com", "aol.com", "msn.com"}
)


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


def save_company(
    company: Company | None, *, actor: StaffUser, name: str, domain: str | None, tier: Tier
) -> Company:
    """Create or change a company; a domain is unique and never a public mail provider's. Customers
    already writing from a new domain join at once."""
    domain = (domain or "").strip().lower().lstrip("@") or None
    if domain is not None:
        if domain in PUBLIC_DOMAINS or "." not in domain:
            raise NotAllowed(_("Choose the company's own email domain, not a public mail provider's."))
        clash = db.session.scalar(select(Company.id).where(Company.domain == domain))
        if clash is not None and (company is None or clash != company.id):
            raise NotAllowed(_("Another company already has this domain."))
    created = company is None
    if company is None:
        company = Company(name=name.strip(), domain=domain, tier=tier)
        db.session.add(company)
    else:
        company.name, company.domain, company.tier = name.strip(), domain, tier
    db.session.flush()
    joined = join_by_domain(company) if domain else 0
    audit.record(
        "company.created" if created else "company.changed",
        actor=actor,
        target=f"company:{company.id}",
        name=company.name,
        domain=domain,
        tier=tier.value,
        joined=joined,
    )
    return company


def join_by_domain(company: Company) -> int:
    """Customers writing from the company's domain who belong to no company yet join it."""
    pattern = f"%@{company.domain}"
    ids = db.session.scalars(
        select(CustomerEmail.customer_id)
        .where(CustomerEmail.email.like(pattern))
        .where(
            ~select(CompanyMember.customer_id)
            .where(CompanyMember.customer_id == CustomerEmail.customer_id)
            .exists()
        )
        .distinct()
    ).all()
    for customer_id in ids:
        db.session.add(CompanyMember(customer_id=customer_id, company_id=company.id, joined_by_domain=True))
    db.session.flush()
    return len(ids)


def set_member(
    company: Company, customer: Customer, *, actor: StaffUser, sees_company_cases: bool = False
) -> CompanyMember:
    """Put a customer in the company by hand (moving them from another), or change what they see."""
    member = db.session.get(CompanyMember, customer.id)
    if member is None:
        member = CompanyMember(customer_id=customer.id, company_id=company.id)
        db.session.add(member)
    member.company_id = company.id
    member.sees_company_cases = sees_company_cases
    db.session.flush()
    audit.record(
        "company.member_set",
        actor=actor,
        target=f"company:{company.id}",
        customer_id=customer.id,
        sees_company_cases=sees_company_cases,
    )
    return member


def remove_member(company: Company, customer_id: int, *, actor: StaffUser) -> None:
    member = db.session.get(CompanyMember, customer_id)
    if member is None or member.company_id != company.id:
        raise NotAllowed(_("This customer is not in the company."))
    db.session.delete(member)
    audit.record(
        "company.member_removed", actor=actor, target=f"company:{company.id}", customer_id=customer_id
    )
    db.session.flush()


def colleague_ids(customer_id: int) -> list[int]:
    """The customers whose cases this customer may see: themself, plus their company's people when
    they were allowed to see colleagues' cases."""
    member = db.session.get(CompanyMember, customer_id)
    if member is None or not member.sees_company_cases:
        return [customer_id]
    return list(
        db.session.scalars(
            select(CompanyMember.customer_id).where(CompanyMember.company_id == member.company_id)
        )
    )


def company_of(customer_id: int) -> Company | None:
    member = db.session.get(CompanyMember, customer_id)
    return member.company if member is not None else None


@event.listens_for(Session, "before_flush")
def _join_new_customers_by_domain(session: Session, _context, _instances) -> None:
    """A new address on a company's domain brings its customer into the company (if in none)."""
    new_emails = [o for o in session.new if isinstance(o, CustomerEmail) and o.email]
    if not new_emails:
        return
    domains = {domain_of(e.email) for e in new_emails} - PUBLIC_DOMAINS
    if not domains:
        return
    with session.no_autoflush:
        companies = {
            c.domain: c.id
            for c in session.scalars(select(Company).where(func.lower(Company.domain).in_(domains)))
        }
        seen: set[int] = set()
        for email in new_emails:
            company_id = companies.get(domain_of(email.email))
            customer = email.customer
            if company_id is None or customer is None or id(customer) in seen:
                continue
            seen.add(id(customer))
            if customer.id is not None and session.get(CompanyMember, customer.id) is not None:
                continue
            session.add(CompanyMember(customer=customer, company_id=company_id, joined_by_domain=True))
