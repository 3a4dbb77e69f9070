"""A few demo companies (B2B buyers of the shop), each with some of the demo customers."""

from __future__ import annotations

from helpdesk.auth.models import StaffUser
from helpdesk.companies import service
from helpdesk.customers.models import Customer, Tier

COMPANIES = [
    ("مؤسسة النور للتجارة", Tier.GOLD),
    ("شركة الخليج للمقاولات", Tier.SILVER),
    ("Riyadh Office Supplies", Tier.STANDARD),
]
PEOPLE_EACH = 5


def create_companies(admin: StaffUser, customers: list[Customer]) -> int:
    """By hand (the demo addresses share one domain); the first person of each sees colleagues' cases."""
    for index, (name, tier) in enumerate(COMPANIES):
        company = service.save_company(None, actor=admin, name=name, domain=None, tier=tier)
        people = customers[10 + index * 10 : 10 + index * 10 + PEOPLE_EACH]
        for n, customer in enumerate(people):
            service.set_member(company, customer, actor=admin, sees_company_cases=n == 0)
    return len(COMPANIES)
