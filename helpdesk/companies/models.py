"""A company and who belongs to it (one company per customer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.customers.models import Customer, Tier
from helpdesk.dbtypes import UTCDateTime, enum_type, utcnow
from helpdesk.extensions import db


class Company(db.Model):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # New customers writing from this domain join the company on their own.
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    tier: Mapped[Tier] = mapped_column(enum_type(Tier), default=Tier.STANDARD)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[CompanyMember]] = relationship(
        back_populates="company", cascade="all, delete-orphan"
    )


class CompanyMember(db.Model):
    """A customer's company. Seeing colleagues' cases in the portal is off unless granted."""

    __tablename__ = "company_members"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    sees_company_cases: Mapped[bool] = mapped_column(default=False)
    joined_by_domain: Mapped[bool] = mapped_column(default=False)

    company: Mapped[Company] = relationship(back_populates="members")
    customer: Mapped[Customer] = relationship()
