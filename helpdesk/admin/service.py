"""Administration: staff accounts and roles, queues (all audited). The caller commits."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from helpdesk.audit import service as audit
from helpdesk.auth import sessions
from helpdesk.auth.models import Role, StaffUser
from helpdesk.extensions import db
from helpdesk.tickets.errors import NotAllowed
from helpdesk.tickets.models import Queue


def set_kb_editor(staff: StaffUser, allowed: bool, *, actor: StaffUser, ip: str | None = None) -> None:
    """Let an agent write help articles (supervisors and admins always may)."""
    if staff.can_edit_kb == allowed:
        return
    audit.record(
        "staff.kb_editor_changed",
        actor=actor,
        target=f"staff:{staff.id}",
        ip=ip,
        allowed=allowed,
        email=staff.email,
    )
    staff.can_edit_kb = allowed
    db.session.flush()


def change_role(staff: StaffUser, role: Role, *, actor: StaffUser, ip: str | None = None) -> None:
    """Change a staff member's role; the last active admin cannot be demoted (nobody could undo it)."""
    if staff.role == role:
        return
    if staff.role == Role.ADMIN:
        admins = db.session.scalar(
            select(func.count(StaffUser.id)).where(StaffUser.role == Role.ADMIN, StaffUser.is_active)
        )
        if admins <= 1:
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
    db.session.flush()


def create_staff(
    *,
    name: str,
    email: str,
    role: Role,
    password: str,
    language: str | None,
    actor: StaffUser,
    ip: str | None = None,
) -> StaffUser:
    """Add a staff member who can sign in at once with the given password."""
    email = email.strip().lower()
    if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)) is not None:
        raise NotAllowed(_("A staff member with this email address already exists."))
    staff = StaffUser(name=name.strip(), email=email, role=role, language=language or None)
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    audit.record(
        "staff.created", actor=actor, target=f"staff:{staff.id}", ip=ip, email=email, role=role.value
    )
    db.session.flush()
    return staff


def set_active(staff: StaffUser, active: bool, *, actor: StaffUser, ip: str | None = None) -> None:
    """Deactivate (no more sign-ins, not offered for assignment) or reactivate a staff member."""
    if staff.is_active == active:
        return
    if not active:
        if staff.id == actor.id:
            raise NotAllowed(_("You cannot deactivate your own account."))
        if staff.role == Role.ADMIN:
            admins = db.session.scalar(
                select(func.count(StaffUser.id)).where(StaffUser.role == Role.ADMIN, StaffUser.is_active)
            )
            if admins <= 1:
                raise NotAllowed(_("At least one administrator must remain."))
    staff.is_active = active
    audit.record(
        "staff.reactivated" if active else "staff.deactivated",
        actor=actor,
        target=f"staff:{staff.id}",
        ip=ip,
        email=staff.email,
    )
    if not active:  # the loader refuses inactive accounts already; their sessions end for the record too
        sessions.end_all(staff, actor=actor, ip=ip, reason="deactivated")
    db.session.flush()


def save_queue(queue: Queue | None, *, actor: StaffUser, members: list[StaffUser], **fields) -> Queue:
    """Create or update a queue: slug, names, inbound address, supervisor, active flag, members."""
    fields["slug"] = fields["slug"].strip().lower()
    address = (fields.get("email_address") or "").strip().lower() or None
    fields["email_address"] = address
    for column, value, message in (
        (Queue.slug, fields["slug"], _("Another queue already uses this short name.")),
        (Queue.email_address, address, _("Another queue already uses this email address.")),
    ):
        if value is None:
            continue
        clash = db.session.scalar(select(Queue.id).where(column == value))
        if clash is not None and (queue is None or clash != queue.id):
            raise NotAllowed(message)
    created = queue is None
    if queue is None:
        queue = Queue(**fields)
        db.session.add(queue)
    else:
        for name, value in fields.items():
            setattr(queue, name, value)
    queue.members = members
    db.session.flush()
    audit.record(
        "queue.created" if created else "queue.changed",
        actor=actor,
        target=f"queue:{queue.id}",
        slug=queue.slug,
        email_address=queue.email_address,
        supervisor_id=queue.supervisor_id,
        members=[m.id for m in members],
    )
    return queue
