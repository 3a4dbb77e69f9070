"""Administration: staff roles (audited)."""

from __future__ import annotations

from sqlalchemy import func, select

from helpdesk.audit import service as audit
from helpdesk.auth.models import Role, StaffUser
from helpdesk.extensions import db
from helpdesk.tickets.errors import NotAllowed


def change_role(staff: StaffUser, role: Role, *, actor: StaffUser, ip: str | None = None) -> None:
    """Change a staff member's role; the last active admin cannot be demoted (nobody could undo it)."""
    if staff.role == role:
        return
    if staff.role == Role.ADMIN:
        admins = db.session.scalar(
            select(func.count(StaffUser.id)).where(StaffUser.role == Role.ADMIN, StaffUser.is_active)
        )
        if admins <= 1:
            from flask_babel import gettext as _

            raise NotAllowed(_("At least one administrator must remain."))
    audit.record(
        "staff.role_changed",
        actor=actor,
        target=f"staff:{staff.id}",
        ip=ip,
        old=staff.role.value,
        new=role.value,
        email=staff.email,
    )
    staff.role = role
    db.session.commit()
